"""The exercise framework: verdicts, the toy exercise, and stub detection."""

from __future__ import annotations

import functools

import pytest

from utils.exercise import Exercise, Mistake, Verdict, is_stub, is_stub_answer

# --- the framework on a toy exercise ----------------------------------------------------------


def test_framework_on_a_toy_exercise(capsys):
    square = Exercise(
        name="square",
        reference=lambda x: x * x,
        cases=[(2.0,), (3.0,)],
        mistakes=[Mistake("doubled instead of squaring", "x * x, not 2 * x", lambda x: 2 * x)],
        hint="multiply x by itself",
        solution="def square(x):\n    return x * x",
    )
    assert square.check(lambda x: x**2, verbose=False).passed
    doubled = square.check(lambda x: x + x, verbose=False)
    assert doubled.mistake == "doubled instead of squaring"
    assert square.check(lambda x: x**3, verbose=False).status == "wrong"
    assert capsys.readouterr().out == ""  # verbose=False prints nothing
    square.show_hint()
    square.show_solution()
    out = capsys.readouterr().out
    assert "multiply x by itself" in out and "return x * x" in out


def test_verdict_repr_is_short():
    verdict = Verdict("correct", "a long friendly message")
    assert "friendly" not in repr(verdict)
    assert str(verdict) == "a long friendly message"


# --- stub detection: compared with stubs compiled by this interpreter -----------------------


def _compiled(source: str):
    namespace: dict = {}
    exec(source, namespace)
    return namespace["answer"]


STUB_SOURCES = [
    "def answer(target_network, q_network): ...",
    "def answer(target_network, q_network):\n    pass",
    "def answer(x):\n    # your code here\n    ...  # and here",
    'def answer(x):\n    """Copy the weights."""',
    'def answer(x):\n    """Copy the weights."""\n    ...',
    'def answer(x):\n    """Copy the weights."""\n    pass',
    "def answer(x, *args, tau=0.1, **kwargs):\n    return None",
    "def answer(x):\n    return ...",
    "answer = lambda target_network, q_network: ...",
    "answer = lambda *args: None",
]


@pytest.mark.parametrize("source", STUB_SOURCES)
def test_every_stub_shape_is_a_stub(source):
    assert is_stub(_compiled(source))


@pytest.mark.parametrize(
    "source",
    [
        "def answer(x):\n    return 0",
        "def answer(x):\n    return x",
        "def answer(t, o):\n    t.copy_(o)",
        'def answer(x):\n    """doc"""\n    return "doc"',
        "def answer(x):\n    x = None",
        "def answer(x):\n    yield",
        "async def answer(x):\n    ...",
        "answer = lambda x: x",
    ],
)
def test_a_body_that_does_something_is_not_a_stub(source):
    assert not is_stub(_compiled(source))


def test_callables_without_python_code_are_not_stubs():
    stub = _compiled(STUB_SOURCES[0])
    assert not is_stub(len)
    assert not is_stub(functools.partial(stub, 1))
    assert not is_stub(None)


def test_decorated_stubs_and_methods_are_looked_through():
    stub = _compiled(STUB_SOURCES[0])

    @functools.wraps(stub)
    def wrapper(*args, **kwargs):
        return stub(*args, **kwargs)

    class Agent:
        def update(self, batch): ...

    assert is_stub(wrapper)
    assert is_stub(Agent().update)


def test_stubs_and_answers_that_return_none_are_not_attempted():
    calls = []
    exercise = Exercise(name="double", reference=lambda x: 2 * x, cases=[(1.0,)])

    def counted(x): ...

    assert exercise.check(counted, verbose=False).status == "not attempted"
    assert exercise.check(lambda x: calls.append(x), verbose=False).status == "not attempted"
    assert calls == [1.0]  # not a stub by its code: it ran, and returned None


def test_stub_answers():
    assert is_stub_answer(None) and is_stub_answer(...)
    assert not is_stub_answer(0) and not is_stub_answer("")
