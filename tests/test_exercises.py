"""Exercise checkers: each one with a correct, a wrong and a not-attempted answer."""

from __future__ import annotations

import numpy as np
import pytest

from utils.exercises import (
    DISCOUNTED_RETURN,
    Q_UPDATE,
    Exercise,
    Mistake,
    Verdict,
    check_discounted_return,
    check_q_update,
)

# --- Lesson 1: new_q_value ------------------------------------------------------------------


def correct(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1 - terminated) * max(next_q)
    return q_sa + alpha * (target - q_sa)


def correct_as_weighted_average(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward if terminated else reward + gamma * np.max(next_q)
    return (1 - alpha) * q_sa + alpha * target


def stub(q_sa, reward, next_q, terminated, truncated, alpha, gamma): ...


def forgot_mask(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    return q_sa + alpha * (reward + gamma * max(next_q) - q_sa)


@pytest.mark.parametrize("answer", [correct, correct_as_weighted_average])
def test_correct_answers_pass(answer, capsys):
    verdict = check_q_update(answer)
    assert verdict.status == "correct" and verdict.passed and bool(verdict)
    assert "Correct" in capsys.readouterr().out


def test_stub_is_not_attempted(capsys):
    verdict = check_q_update(stub)
    assert verdict.status == "not attempted" and not verdict
    assert "Not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer",
    [
        lambda *args: ...,
        lambda *args: None,
    ],
)
def test_ellipsis_and_none_are_not_attempted(answer):
    assert check_q_update(answer).status == "not attempted"


def test_not_implemented_error_is_not_attempted():
    def raises(*args):
        raise NotImplementedError

    assert check_q_update(raises).status == "not attempted"


def test_forgotten_mask_is_named(capsys):
    verdict = check_q_update(forgot_mask)
    assert verdict.status == "wrong"
    assert verdict.mistake == "forgot the terminal mask"
    assert "(1 - terminated)" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", Q_UPDATE.mistakes, ids=lambda m: m.name)
def test_every_catalogued_mistake_is_recognised_as_itself(mistake):
    """The cases tell all mistakes apart, so the hint names the right bug."""
    verdict = check_q_update(mistake.implementation)
    assert verdict.status == "wrong"
    assert verdict.mistake == mistake.name


def test_unknown_wrong_answer_shows_a_failing_case(capsys):
    def first_action(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
        return q_sa + alpha * (reward + gamma * (1 - terminated) * next_q[0] - q_sa)

    verdict = check_q_update(first_action)
    assert verdict.status == "wrong" and verdict.mistake is None
    out = capsys.readouterr().out
    assert "expected" in out and "got" in out and "Hint" in out


def test_an_answer_that_raises_is_reported(capsys):
    def crashes(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
        return q_sa + undefined_name  # noqa: F821

    verdict = check_q_update(crashes)
    assert verdict.status == "error"
    assert "NameError" in capsys.readouterr().out


def test_answers_cannot_spoil_the_cases_by_mutating_inputs():
    def mutates(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
        next_q[:] = 100.0
        return None

    check_q_update(mutates)
    assert check_q_update(correct).passed


def test_checker_rejects_non_callables():
    with pytest.raises(TypeError, match="fn"):
        check_q_update(0.5)


def test_solution_text_is_a_correct_answer():
    namespace: dict = {}
    exec(Q_UPDATE.solution, namespace)
    assert check_q_update(namespace["new_q_value"]).passed


# --- Lesson 0: discounted_return ------------------------------------------------------------


def test_discounted_return_correct_answers_pass():
    def forwards(rewards, gamma):
        return sum(gamma**t * r for t, r in enumerate(rewards))

    def backwards(rewards, gamma):
        g = 0.0
        for r in reversed(rewards):
            g = r + gamma * g
        return g

    assert check_discounted_return(forwards).passed
    assert check_discounted_return(backwards).passed


def test_discounted_return_stub_is_not_attempted(capsys):
    def stub_return(rewards, gamma): ...

    assert check_discounted_return(stub_return).status == "not attempted"
    assert "Not attempted yet" in capsys.readouterr().out


def test_discounted_return_undiscounted_sum_is_named():
    verdict = check_discounted_return(lambda rewards, gamma: sum(rewards))
    assert verdict.status == "wrong"
    assert verdict.mistake == "summed the rewards without discounting"


@pytest.mark.parametrize("mistake", DISCOUNTED_RETURN.mistakes, ids=lambda m: m.name)
def test_every_return_mistake_is_recognised_as_itself(mistake):
    assert check_discounted_return(mistake.implementation).mistake == mistake.name


def test_discounted_return_solution_is_correct():
    namespace: dict = {}
    exec(DISCOUNTED_RETURN.solution, namespace)
    assert check_discounted_return(namespace["discounted_return"]).passed


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
