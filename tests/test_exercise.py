"""The exercise framework: verdicts, stub detection, forgotten returns, errors, wrapping."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from utils.exercise import (
    ERROR_HINT,
    FORGOT_RETURN,
    MESSAGE_WIDTH,
    Exercise,
    Mistake,
    Verdict,
    is_stub,
    is_stub_answer,
    wrap_message,
)

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


def test_stubs_are_not_attempted_but_a_function_that_returns_none_forgot_return():
    calls = []
    exercise = Exercise(name="double", reference=lambda x: 2 * x, cases=[(1.0,)])

    def counted(x): ...

    assert exercise.check(counted, verbose=False).status == "not attempted"
    verdict = exercise.check(lambda x: calls.append(x), verbose=False)
    assert calls == [1.0]  # not a stub by its code: it ran, and returned None
    assert verdict.status == "wrong" and verdict.mistake == FORGOT_RETURN
    assert "returned None: did you forget `return`?" in verdict.message


def test_a_harness_judges_what_a_function_does_to_its_inputs():
    # An in-place exercise: `fill(xs)` sets every item of the list to 1 and returns None.
    def harness(fn):
        def run(n):
            xs = [0] * n
            fn(xs)
            return xs

        return run

    def fill_reference(xs):
        xs[:] = [1] * len(xs)

    def fill_first_only(xs):
        xs[0] = 1

    def fill(xs): ...

    exercise = Exercise(
        name="fill",
        reference=fill_reference,
        cases=[(2,), (3,)],
        mistakes=[Mistake("filled only the first item", "every item", fill_first_only)],
        harness=harness,
    )
    assert exercise.check(fill_reference, verbose=False).passed  # None is no forgotten return
    assert exercise.check(fill_first_only, verbose=False).mistake == "filled only the first item"
    assert exercise.check(fill, verbose=False).status == "not attempted"  # seen through it
    with pytest.raises(TypeError, match="fn"):
        exercise.check("fill")


# --- a forgotten return, an error, long hints -------------------------------------------------

SQUARE_HINT = "the answer is x * x, the square of x"  # a hint that gives the formula away


def square_exercise() -> Exercise:
    return Exercise(
        name="square",
        reference=lambda x: x * x,
        cases=[(2.0,), (-3.0,)],
        hint=SQUARE_HINT,
        solution="def square(x):\n    return x * x",
    )


def test_a_forgotten_return_is_named_and_a_right_answer_passes(capsys):
    def forgot(x):
        result = x * x  # noqa: F841 - the mistake: no return

    def returns(x):
        result = x * x
        return result

    verdict = square_exercise().check(forgot)
    out = capsys.readouterr().out
    assert verdict.status == "wrong" and not verdict and verdict.mistake == FORGOT_RETURN
    assert "`square` returned None: did you forget `return`?" in out
    assert "Not attempted" not in out and SQUARE_HINT not in out
    assert square_exercise().check(returns, verbose=False).passed


def test_none_on_one_path_only_is_a_forgotten_return_too():
    def positive_only(x):
        if x > 0:
            return x * x

    verdict = square_exercise().check(positive_only, verbose=False)
    assert verdict.mistake == FORGOT_RETURN and "(-3)" in verdict.message


def test_an_error_shows_the_error_the_line_and_a_hint_but_not_the_solution(capsys):
    def crashes(x):
        squares = [x * x]
        return squares[1]

    verdict = square_exercise().check(crashes)
    out = capsys.readouterr().out
    assert verdict.status == "error" and not verdict
    assert "IndexError: list index out of range" in out
    assert "return squares[1]" in out  # the learner's own line, found in the traceback
    assert "Hint:" in out and ERROR_HINT.split()[0] in out
    assert SQUARE_HINT not in out and "x * x" not in out.replace("squares = [x * x]", "")


def test_an_error_raised_inside_a_library_points_at_the_learners_line():
    def bad_shapes(x):
        return float(np.ones(2) @ np.ones(3)) + x

    verdict = square_exercise().check(bad_shapes, verbose=False)
    assert verdict.status == "error" and "ValueError" in verdict.message
    assert "np.ones(2) @ np.ones(3)" in verdict.message  # not a line inside NumPy


def test_long_messages_wrap_at_word_boundaries():
    words = [f"word{i}" for i in range(60)] + ["`a_long_identifier_that_must_stay_whole()`"]
    hint = " ".join(words)
    exercise = Exercise(name="f", reference=lambda x: x, cases=[(1.0,)], hint=hint)
    verdict = exercise.check(lambda x: x + 1, verbose=False)
    lines = verdict.message.splitlines()
    assert all(len(line) <= MESSAGE_WIDTH for line in lines)
    hint_lines = lines[lines.index(next(x for x in lines if "Hint:" in x)) :]
    assert " ".join(" ".join(hint_lines).split()[1:]) == hint  # every word whole, in order
    assert all(line.startswith(" " * len("  Hint: ")) for line in hint_lines[1:])  # aligned


def test_wrap_message_keeps_code_lines_and_short_lines_and_checks_its_arguments():
    code = "    " + "x = 1; " * 20
    text = f"short line\n{code}\nlabel " + "word " * 30
    wrapped = wrap_message(text, width=40).splitlines()
    assert wrapped[0] == "short line" and wrapped[1] == code
    assert all(len(line) <= 40 for line in wrapped[2:])
    assert wrap_message("one_very_long_word_" * 5, width=20) == "one_very_long_word_" * 5
    with pytest.raises(TypeError, match="text"):
        wrap_message(None)
    with pytest.raises(ValueError, match="width"):
        wrap_message("text", width=5)


def test_stub_answers():
    assert is_stub_answer(None) and is_stub_answer(...)
    assert not is_stub_answer(0) and not is_stub_answer("")
