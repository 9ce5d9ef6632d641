"""Lesson 1's exercise: the expected-Sarsa target, which the lesson does not show.

Q-learning bootstraps from the best next action, ``max_a' Q(s', a')``. Expected Sarsa
bootstraps from the action the epsilon-greedy policy would take *on average*:

    y = r + gamma * (1 - terminated) * sum_a' pi(a' | s') Q(s', a'),
    pi(a' | s') = epsilon / n + (1 - epsilon) * [a' is the greedy action]

(ties: the greedy action is the first maximum, as ``numpy.argmax``). It learns the values of
the epsilon-greedy policy it follows (on-policy), where Q-learning learns the greedy one's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.exercise import Exercise, Mistake, Verdict

__all__ = ["EXPECTED_SARSA_TARGET", "check_expected_sarsa_target"]

# Signature the learner fills in:
#   expected_sarsa_target(reward, next_q, terminated, truncated, epsilon, gamma) -> float
# next_q is the row Q(s', .), shape (n_actions,).


def _policy(next_q: np.ndarray, epsilon: float, greedy_share: float) -> np.ndarray:
    q = np.asarray(next_q, dtype=float)
    probs = np.full(q.size, epsilon / q.size)
    probs[int(np.argmax(q))] += greedy_share
    return probs


def _reference(reward, next_q, terminated, truncated, epsilon, gamma):
    expected = float(_policy(next_q, epsilon, 1.0 - epsilon) @ np.asarray(next_q, dtype=float))
    return reward + gamma * (1.0 - float(terminated)) * expected


def _max_target(reward, next_q, terminated, truncated, epsilon, gamma):
    return reward + gamma * (1.0 - float(terminated)) * float(np.max(next_q))


def _mean_target(reward, next_q, terminated, truncated, epsilon, gamma):
    return reward + gamma * (1.0 - float(terminated)) * float(np.mean(next_q))


def _greedy_without_share(reward, next_q, terminated, truncated, epsilon, gamma):
    q = np.asarray(next_q, dtype=float)
    probs = np.full(q.size, epsilon / q.size)
    probs[int(np.argmax(q))] = 1.0 - epsilon  # forgets that exploring can pick it too
    return reward + gamma * (1.0 - float(terminated)) * float(probs @ q)


def _epsilon_swapped(reward, next_q, terminated, truncated, epsilon, gamma):
    q = np.asarray(next_q, dtype=float)
    expected = float(_policy(q, 1.0 - epsilon, epsilon) @ q)
    return reward + gamma * (1.0 - float(terminated)) * expected


def _no_mask(reward, next_q, terminated, truncated, epsilon, gamma):
    return _reference(reward, next_q, False, truncated, epsilon, gamma)


def _mask_done(reward, next_q, terminated, truncated, epsilon, gamma):
    return _reference(reward, next_q, bool(terminated or truncated), truncated, epsilon, gamma)


def _no_gamma(reward, next_q, terminated, truncated, epsilon, gamma):
    return _reference(reward, next_q, terminated, truncated, epsilon, 1.0)


_SOLUTION = """\
def expected_sarsa_target(reward, next_q, terminated, truncated, epsilon, gamma):
    next_q = np.asarray(next_q, dtype=float)
    probs = np.full(len(next_q), epsilon / len(next_q))  # exploring picks any action
    probs[np.argmax(next_q)] += 1 - epsilon  # ... and the greedy one the rest of the time
    return reward + gamma * (1 - terminated) * probs @ next_q"""

# Cases that tell the mistakes apart: no ties in next_q, its max, mean and first entry differ,
# epsilon away from 0, 0.5 and 1, terminal and truncated steps, gamma away from 1.
_CASES = (
    (1.0, np.array([0.2, 0.8, -0.4]), False, False, 0.1, 0.9),
    (0.0, np.array([1.0, 3.0, 2.0, 0.0]), False, True, 0.2, 0.99),
    (-1.0, np.array([4.0, 2.0]), True, False, 0.3, 0.95),
    (0.5, np.array([-2.0, -1.0, -3.0]), False, False, 0.6, 0.5),
    (20.0, np.array([5.0, 1.0, 2.0, 7.0, 3.0, 0.0]), True, True, 0.05, 0.9),
)

EXPECTED_SARSA_TARGET = Exercise(
    name="expected_sarsa_target",
    reference=_reference,
    cases=_CASES,
    mistakes=(
        Mistake(
            "used the maximum (that is Q-learning's target)",
            "expected Sarsa averages over what the epsilon-greedy policy would do next: "
            "weigh each Q(s', a') by its probability pi(a' | s').",
            _max_target,
        ),
        Mistake(
            "averaged next_q with equal weights (a uniformly random policy)",
            "the greedy action is taken more often than the others: it gets "
            "1 - epsilon on top of its epsilon / n.",
            _mean_target,
        ),
        Mistake(
            "gave the greedy action 1 - epsilon instead of 1 - epsilon + epsilon / n",
            "exploring picks any action uniformly, the greedy one included, so its "
            "probability is 1 - epsilon + epsilon / n (the probabilities must add up to 1).",
            _greedy_without_share,
        ),
        Mistake(
            "swapped epsilon and 1 - epsilon",
            "epsilon is the chance of exploring, spread over all n actions; the greedy "
            "action gets the other 1 - epsilon.",
            _epsilon_swapped,
        ),
        Mistake(
            "forgot the terminal mask",
            "when `terminated` is True there is no next state to bootstrap from: the target "
            "is the reward alone, so multiply the bootstrap term by (1 - terminated).",
            _no_mask,
        ),
        Mistake(
            "masked on `truncated` too",
            "a time limit ends the episode but s' still has a future: mask on `terminated` only.",
            _mask_done,
        ),
        Mistake(
            "forgot gamma",
            "the next state's value is one step later: multiply it by gamma.",
            _no_gamma,
        ),
    ),
    hint="probabilities: epsilon / n for every action, plus 1 - epsilon for argmax(next_q); "
    "target = reward + gamma * (1 - terminated) * sum(probabilities * next_q).",
    solution=_SOLUTION,
)


def check_expected_sarsa_target(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 1 exercise: the expected-Sarsa target of one transition.

    Args:
        fn: The learner's ``expected_sarsa_target(reward, next_q, terminated, truncated,
            epsilon, gamma)``; it must return
            ``reward + gamma * (1 - terminated) * sum_a pi(a | s') next_q[a]`` for the
            epsilon-greedy ``pi`` of ``next_q`` (shape ``(n_actions,)``).

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return EXPECTED_SARSA_TARGET.check(fn)
