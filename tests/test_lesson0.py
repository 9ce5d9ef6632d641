"""Lesson 0: the discounted-return checker, with correct, wrong and not-attempted answers."""

from __future__ import annotations

import pytest

from utils.lessons.lesson0 import DISCOUNTED_RETURN, check_discounted_return


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
