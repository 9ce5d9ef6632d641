"""Lesson 0 (Gymnasium and MDPs): the exercise on the discounted return of one episode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from utils.exercise import Exercise, Mistake, Verdict

__all__ = ["DISCOUNTED_RETURN", "check_discounted_return"]

# Signature the learner fills in: discounted_return(rewards, gamma) -> float
# with rewards = [r_1, r_2, ..., r_T]: G_0 = sum_k gamma**k * r_{k+1} (README notation).


def _return_reference(rewards, gamma):
    return float(sum(gamma**t * r for t, r in enumerate(rewards)))


def _return_undiscounted(rewards, gamma):
    return float(sum(rewards))


def _return_off_by_one(rewards, gamma):
    return float(sum(gamma ** (t + 1) * r for t, r in enumerate(rewards)))


def _return_reversed(rewards, gamma):
    return float(sum(gamma**t * r for t, r in enumerate(reversed(rewards))))


def _return_last_only(rewards, gamma):
    return float(gamma ** (len(rewards) - 1) * rewards[-1])


_RETURN_SOLUTION = """\
def discounted_return(rewards, gamma):
    g = 0.0
    for r in reversed(rewards):  # G_t = r_{t+1} + gamma * G_{t+1}, from the end backwards
        g = r + gamma * g
    return g"""

_RETURN_CASES = (
    ([1.0, 1.0, 1.0], 0.9),
    ([0.0, 0.0, 1.0], 0.5),
    ([2.0, -1.0, 0.5, 3.0], 0.8),
    ([5.0], 0.99),
    ([1.0, 2.0, 3.0], 1.0),
)

DISCOUNTED_RETURN = Exercise(
    name="discounted_return",
    reference=_return_reference,
    cases=_RETURN_CASES,
    mistakes=(
        Mistake(
            "summed the rewards without discounting",
            "the k-th reward of the list counts gamma**k times: later rewards weigh less.",
            _return_undiscounted,
        ),
        Mistake(
            "discounted the first reward too",
            "the first reward (r_1) is not discounted: its weight is gamma**0 = 1.",
            _return_off_by_one,
        ),
        Mistake(
            "discounted the rewards in reverse order",
            "the *first* reward gets weight 1 and the last one gamma**(T-1); if you loop "
            "backwards, use g = r + gamma * g.",
            _return_reversed,
        ),
        Mistake(
            "kept only the last reward",
            "add up every reward, each with its own weight gamma**k.",
            _return_last_only,
        ),
    ),
    hint="G_0 = r_1 + gamma * r_2 + gamma**2 * r_3 + ... (the list starts with r_1).",
    solution=_RETURN_SOLUTION,
)


def check_discounted_return(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 0 exercise: the discounted return of a list of rewards.

    ``fn(rewards, gamma)`` must return ``sum_k gamma**k * rewards[k]`` as a float.
    Prints a friendly verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return DISCOUNTED_RETURN.check(fn)
