"""Exercise checkers: run a learner's function on fixed inputs and print a friendly verdict.

The framework is small and shared by every lesson:

- :class:`Exercise` holds a reference solution, a few fixed input cases, a catalogue of
  typical :class:`Mistake` s (each a deliberately wrong implementation plus a hint), a
  general hint and the solution text.
- :meth:`Exercise.check` calls the learner's function on every case and returns a
  :class:`Verdict`: ``"correct"``, ``"wrong"`` (naming the likely bug when the wrong answers
  match one of the catalogued mistakes on every case), ``"not attempted"`` (the stub still
  returns ``None``/``...`` or raises ``NotImplementedError``) or ``"error"`` (it raised).
- Each lesson exposes one ``check_<name>(fn)`` function per exercise, e.g.
  :func:`check_q_update`.

To add an exercise: write the reference, two or three mistakes, a handful of cases that tell
them apart, build an ``Exercise`` and a ``check_...`` function, and test it with a correct,
a wrong and a not-attempted answer (tests/test_exercises.py shows how).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "BIN_INDEX",
    "BUG_GALLERY",
    "DIAGNOSIS_SOLUTION",
    "DISCOUNTED_RETURN",
    "HARD_SYNC",
    "Q_UPDATE",
    "SOFT_SYNC",
    "Exercise",
    "Mistake",
    "SyncCase",
    "SyncOutcome",
    "Verdict",
    "check_bin_index",
    "check_diagnosis",
    "check_discounted_return",
    "check_hard_update",
    "check_q_update",
    "check_soft_update",
    "check_td_target",
    "mystery_runs",
    "td_target_exercise",
]

CORRECT = "correct"
WRONG = "wrong"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one answer.

    Attributes:
        status: ``"correct"``, ``"wrong"``, ``"not attempted"`` or ``"error"``.
        message: The friendly text printed for the learner.
        mistake: Name of the catalogued mistake the answer matches, if any.
    """

    status: str
    message: str = field(repr=False)
    mistake: str | None = None

    @property
    def passed(self) -> bool:
        """True only for a correct answer."""
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: an implementation of the bug and the hint that fixes it.

    Attributes:
        name: Short name, e.g. ``"forgot the terminal mask"``.
        hint: What to look at, without giving the solution away.
        implementation: The buggy function (same signature as the exercise).
    """

    name: str
    hint: str
    implementation: Callable[..., Any]


def _default_compare(got: Any, expected: Any) -> bool:
    try:
        return bool(np.allclose(np.asarray(got, dtype=float), expected, rtol=1e-6, atol=1e-8))
    except (TypeError, ValueError):
        return False


def _is_stub_answer(value: Any) -> bool:
    return value is None or value is Ellipsis


@dataclass(frozen=True)
class Exercise:
    """One exercise: reference answer, test cases, typical mistakes, hint and solution.

    Attributes:
        name: The function the learner writes, as named in the notebook.
        reference: The correct implementation.
        cases: Positional-argument tuples the answer is called with (copied for each call,
            so an answer that changes its inputs cannot spoil the next case).
        mistakes: Catalogued wrong answers, tried in order to name the likely bug.
        hint: A general hint, shown for a wrong answer that matches no catalogued mistake.
        solution: The solution as source text (the notebook also folds it in ``<details>``).
        compare: ``compare(got, expected) -> bool``; default: ``numpy.allclose``.
    """

    name: str
    reference: Callable[..., Any]
    cases: Sequence[tuple]
    mistakes: Sequence[Mistake] = ()
    hint: str = ""
    solution: str = ""
    compare: Callable[[Any, Any], bool] = field(default=_default_compare)

    def check(self, fn: Callable[..., Any], *, verbose: bool = True) -> Verdict:
        """Run ``fn`` on every case and return (and, if ``verbose``, print) the verdict.

        Args:
            fn: The learner's function.
            verbose: Print the verdict's message.

        Returns:
            A :class:`Verdict`.

        Raises:
            TypeError: If ``fn`` is not callable.
        """
        if not callable(fn):
            raise TypeError(f"fn must be a function (callable), got {type(fn).__name__}")
        verdict = self._judge(fn)
        if verbose:
            print(verdict.message)
        return verdict

    def _judge(self, fn: Callable[..., Any]) -> Verdict:
        answers = []
        for args in self.cases:
            try:
                got = fn(*copy.deepcopy(args))
            except NotImplementedError:
                return self._not_attempted()
            except Exception as error:  # the learner's code may raise anything
                return Verdict(
                    ERROR,
                    f"Error: `{self.name}` raised {type(error).__name__}: {error}\n"
                    f"  on input {self._show(args)}.\n  Hint: {self.hint}",
                )
            if _is_stub_answer(got):
                return self._not_attempted()
            answers.append(got)

        expected = [self.reference(*copy.deepcopy(args)) for args in self.cases]
        wrong = [
            i
            for i, (g, e) in enumerate(zip(answers, expected, strict=True))
            if not self.compare(g, e)
        ]
        if not wrong:
            return Verdict(
                CORRECT, f"Correct! `{self.name}` agrees on all {len(self.cases)} test cases."
            )

        for mistake in self.mistakes:
            buggy = [mistake.implementation(*copy.deepcopy(args)) for args in self.cases]
            if all(self.compare(g, b) for g, b in zip(answers, buggy, strict=True)):
                return Verdict(
                    WRONG,
                    f"Not quite: it looks like you {mistake.name}.\n  Hint: {mistake.hint}",
                    mistake=mistake.name,
                )
        i = wrong[0]
        return Verdict(
            WRONG,
            f"Not quite: {len(wrong)} of {len(self.cases)} test cases differ.\n"
            f"  For input {self._show(self.cases[i])}\n"
            f"  expected {self._show_value(expected[i])}, got {self._show_value(answers[i])}.\n"
            f"  Hint: {self.hint}",
        )

    def _not_attempted(self) -> Verdict:
        return Verdict(
            NOT_ATTEMPTED,
            f"Not attempted yet: `{self.name}` still returns the stub's value. "
            "Replace the `...` with your code and run this cell again.",
        )

    @staticmethod
    def _show_value(value: Any) -> str:
        if isinstance(value, float | np.floating):
            return f"{float(value):.6g}"
        if isinstance(value, np.ndarray):
            return np.array2string(value, precision=4)
        return repr(value)

    def _show(self, args: tuple) -> str:
        return "(" + ", ".join(self._show_value(a) for a in args) + ")"

    def show_hint(self) -> None:
        """Print the general hint."""
        print(f"Hint: {self.hint}")

    def show_solution(self) -> None:
        """Print the solution."""
        print(self.solution)


# --------------------------------------------------------------------------------------
# Lesson 0: the discounted return of one episode
# --------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------
# Lesson 1: the Q-learning update for one table entry
# --------------------------------------------------------------------------------------
# Signature the learner fills in:
#   new_q_value(q_sa, reward, next_q, terminated, truncated, alpha, gamma) -> float
# next_q is the row Q(s', .) as an array of shape (n_actions,).


def _q_reference(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1.0 - float(terminated)) * float(np.max(next_q))
    return q_sa + alpha * (target - q_sa)


def _no_mask(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    return q_sa + alpha * (reward + gamma * float(np.max(next_q)) - q_sa)


def _mask_on_truncated(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    done = terminated or truncated
    return q_sa + alpha * (reward + gamma * (1.0 - float(done)) * float(np.max(next_q)) - q_sa)


def _wrong_sign(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1.0 - float(terminated)) * float(np.max(next_q))
    return q_sa + alpha * (q_sa - target)


def _no_alpha(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    return reward + gamma * (1.0 - float(terminated)) * float(np.max(next_q))


def _alpha_swapped(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1.0 - float(terminated)) * float(np.max(next_q))
    return alpha * q_sa + (1.0 - alpha) * target


def _alpha_on_target(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1.0 - float(terminated)) * float(np.max(next_q))
    return q_sa + alpha * target


def _no_gamma(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + (1.0 - float(terminated)) * float(np.max(next_q))
    return q_sa + alpha * (target - q_sa)


def _mean_not_max(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1.0 - float(terminated)) * float(np.mean(next_q))
    return q_sa + alpha * (target - q_sa)


def _inverted_mask(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * float(terminated) * float(np.max(next_q))
    return q_sa + alpha * (target - q_sa)


_Q_SOLUTION = """\
def new_q_value(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    # Only `terminated` stops bootstrapping; a time limit (`truncated`) says nothing
    # about the value of s'.
    target = reward + gamma * (1 - terminated) * max(next_q)
    return q_sa + alpha * (target - q_sa)"""

# Cases that tell the catalogued mistakes apart: terminal and non-terminal, truncated and
# not, alpha and gamma away from 0 and 1, next_q whose max, mean and first entry differ.
_Q_CASES = (
    (0.5, 1.0, np.array([0.2, 0.8, -0.4]), False, False, 0.1, 0.9),
    (0.3, 1.0, np.array([0.6, 0.9, 0.1]), True, False, 0.5, 0.99),
    (-0.2, -1.0, np.array([1.5, -2.0, 0.5]), False, True, 0.25, 0.95),
    (2.0, 0.0, np.array([-1.0, 3.0, 0.0]), False, False, 0.3, 0.5),
    (0.0, 20.0, np.array([4.0, 2.0, 1.0]), True, True, 0.9, 0.8),
)

Q_UPDATE = Exercise(
    name="new_q_value",
    reference=_q_reference,
    cases=_Q_CASES,
    mistakes=(
        Mistake(
            "forgot the terminal mask",
            "when `terminated` is True, s' is terminal: the target is just the reward r, "
            "so multiply the bootstrap term by (1 - terminated).",
            _no_mask,
        ),
        Mistake(
            "masked on `truncated` too",
            "a time limit (`truncated`) ends the episode but s' still has a future: "
            "mask on `terminated` only.",
            _mask_on_truncated,
        ),
        Mistake(
            "flipped the mask",
            "the bootstrap term must vanish when terminated is True: (1 - terminated), "
            "not terminated.",
            _inverted_mask,
        ),
        Mistake(
            "got the sign of the TD error backwards",
            "the TD error is target - Q(s, a): the new value moves towards the target.",
            _wrong_sign,
        ),
        Mistake(
            "left out alpha (replaced Q(s, a) by the target)",
            "take only a step of size alpha towards the target: Q + alpha * (target - Q).",
            _no_alpha,
        ),
        Mistake(
            "swapped alpha and 1 - alpha",
            "as a weighted average the update is (1 - alpha) * Q(s, a) + alpha * target: "
            "alpha is the weight of the *new* information.",
            _alpha_swapped,
        ),
        Mistake(
            "added alpha * target without subtracting Q(s, a)",
            "the step is alpha times the TD error (target - Q(s, a)), not alpha times the target.",
            _alpha_on_target,
        ),
        Mistake(
            "forgot gamma",
            "the value of the next state is discounted: gamma * max_a' Q(s', a').",
            _no_gamma,
        ),
        Mistake(
            "averaged next_q instead of taking its maximum",
            "Q-learning bootstraps from the best next action: max(next_q).",
            _mean_not_max,
        ),
    ),
    hint="target = r + gamma * (1 - terminated) * max_a' Q(s', a'); "
    "new value = Q(s, a) + alpha * (target - Q(s, a)).",
    solution=_Q_SOLUTION,
)


def check_q_update(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 1 exercise: one Q-learning update of one table entry.

    ``fn(q_sa, reward, next_q, terminated, truncated, alpha, gamma)`` must return the new
    value of ``Q(s, a)``, where ``next_q`` is the row ``Q(s', .)``, shape ``(n_actions,)``.
    Prints a friendly verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict` (``.status`` is ``"correct"``, ``"wrong"``, ``"not attempted"``
        or ``"error"``).

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return Q_UPDATE.check(fn)


# --------------------------------------------------------------------------------------
# Lesson 2: the bin of one number (discretising a continuous observation)
# --------------------------------------------------------------------------------------
# Signature the learner fills in:
#   bin_index(value, low, high, bins) -> int
# Equal-width bins over [low, high]; values outside are clipped into the end bins.


def _bin_reference(value, low, high, bins):
    width = (high - low) / bins
    i = int(np.floor((value - low) / width))
    return min(max(i, 0), bins - 1)


def _bin_no_clip(value, low, high, bins):
    return int(np.floor((value - low) / ((high - low) / bins)))


def _bin_no_top_clip(value, low, high, bins):
    return max(int(np.floor((value - low) / ((high - low) / bins))), 0)


def _bin_no_bottom_clip(value, low, high, bins):
    return min(int(np.floor((value - low) / ((high - low) / bins))), bins - 1)


def _bin_round(value, low, high, bins):
    i = int(np.round((value - low) / ((high - low) / bins)))
    return min(max(i, 0), bins - 1)


def _bin_edges_as_bins(value, low, high, bins):
    width = (high - low) / max(bins - 1, 1)  # bins - 1 gaps between bins edges: one bin short
    i = int(np.floor((value - low) / width))
    return min(max(i, 0), bins - 1)


def _bin_no_offset(value, low, high, bins):
    i = int(np.floor(value / ((high - low) / bins)))
    return min(max(i, 0), bins - 1)


def _bin_as_float(value, low, high, bins):
    return float(_bin_reference(value, low, high, bins))


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def _bin_same(got: Any, expected: Any) -> bool:
    # An index must be an int (a float cannot index a table row), so the type counts too.
    try:
        return _is_int(got) == _is_int(expected) and bool(got == expected)
    except (TypeError, ValueError):
        return False


_BIN_SOLUTION = """\
def bin_index(value, low, high, bins):
    width = (high - low) / bins
    i = math.floor((value - low) / width)  # which slice of width `width`, counted from low
    return min(max(i, 0), bins - 1)  # clip: outside values go to the end bins"""

# Cases that tell the catalogued mistakes apart: inside, exactly on edges, far outside on
# both sides, one bin, CartPole's angle bounds, a negative range that does not start at 0.
_BIN_CASES = (
    (0.0, -1.0, 1.0, 4),
    (0.49, -1.0, 1.0, 4),
    (-0.99, -1.0, 1.0, 4),
    (1.0, -1.0, 1.0, 4),
    (5.0, -1.0, 1.0, 4),
    (-7.0, -1.0, 1.0, 4),
    (0.3, 0.0, 3.0, 1),
    (2.9, -2.4, 2.4, 6),
    (0.1, -0.2095, 0.2095, 3),
    (-0.5, -3.0, 3.0, 10),
    (-3.5, -3.5, 3.5, 7),
)

BIN_INDEX = Exercise(
    name="bin_index",
    reference=_bin_reference,
    cases=_BIN_CASES,
    mistakes=(
        Mistake(
            "did not clip values outside [low, high]",
            "a velocity can be faster than the bound: such values belong to the end bins, "
            "so clip the index into [0, bins - 1].",
            _bin_no_clip,
        ),
        Mistake(
            "clipped at the bottom but not at the top",
            "value == high (or above) gives index `bins`, one past the last bin: clip with "
            "min(..., bins - 1) as well.",
            _bin_no_top_clip,
        ),
        Mistake(
            "clipped at the top but not at the bottom",
            "values below low give a negative index: clip with max(..., 0) as well.",
            _bin_no_bottom_clip,
        ),
        Mistake(
            "rounded instead of rounding down",
            "bin i covers [low + i*width, low + (i+1)*width): take the floor, not round().",
            _bin_round,
        ),
        Mistake(
            "divided the range into bins - 1 widths",
            "`bins` bins over [low, high] each have width (high - low) / bins.",
            _bin_edges_as_bins,
        ),
        Mistake(
            "forgot to subtract low",
            "count widths from the lower edge: (value - low) / width.",
            _bin_no_offset,
        ),
        Mistake(
            "returned a float",
            "the bin is a table index: return an int (`int(...)` or `math.floor`, which gives "
            "an int), not a float such as 2.0.",
            _bin_as_float,
        ),
    ),
    hint="width = (high - low) / bins; index = floor((value - low) / width), then clip it "
    "into [0, bins - 1]; return a Python int.",
    solution=_BIN_SOLUTION,
    compare=_bin_same,
)


def check_bin_index(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 2 exercise: which of ``bins`` equal-width bins holds a number.

    ``fn(value, low, high, bins)`` must return an int in ``[0, bins - 1]``: the bin of
    ``value`` among ``bins`` equal-width bins over ``[low, high]``, with values outside
    clipped into the end bins (as :func:`utils.discretize.bin_index`). Prints a friendly
    verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return BIN_INDEX.check(fn)


# --------------------------------------------------------------------------------------
# Lesson 3: the TD target of a batch, with the terminal mask and no gradient
# --------------------------------------------------------------------------------------
# Signature the learner fills in:
#   td_target(rewards, next_q_values, terminated, truncated, gamma) -> tensor (batch,)
# rewards, terminated, truncated: (batch,) float tensors (1.0 where true); next_q_values:
# (batch, n_actions), the network's output for s' (it carries a gradient). torch is imported
# only when this exercise is first used, so the earlier lessons' checkers stay light.


def _td_reference(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().max(dim=1).values


def _td_mask_on_truncated(rewards, next_q_values, terminated, truncated, gamma):
    done = terminated.maximum(truncated)
    return rewards + gamma * (1.0 - done) * next_q_values.detach().max(dim=1).values


def _td_truncated_for_terminated(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - truncated) * next_q_values.detach().max(dim=1).values


def _td_no_mask(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * next_q_values.detach().max(dim=1).values


def _td_inverted_mask(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * terminated * next_q_values.detach().max(dim=1).values


def _td_with_gradient(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=1).values


def _td_max_over_batch(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().max(dim=0).values


def _td_max_of_everything(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().max()


def _td_keepdim(rewards, next_q_values, terminated, truncated, gamma):
    best = next_q_values.detach().max(dim=1, keepdim=True).values  # (batch, 1): broadcasts
    return rewards + gamma * (1.0 - terminated) * best


def _td_mean(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().mean(dim=1)


def _td_argmax(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().argmax(dim=1)


def _td_no_gamma(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + (1.0 - terminated) * next_q_values.detach().max(dim=1).values


def _as_float_array(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, possibly carrying a gradient
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _td_same(got: Any, expected: Any) -> bool:
    # A target that carries a gradient is wrong even with the right numbers, so the flag counts.
    got_grad, expected_grad = (bool(getattr(x, "requires_grad", False)) for x in (got, expected))
    if got_grad != expected_grad:
        return False
    try:
        g, e = _as_float_array(got), _as_float_array(expected)
    except (TypeError, ValueError, RuntimeError):
        return False
    return g.shape == e.shape and bool(np.allclose(g, e, rtol=1e-5, atol=1e-6))


_TD_SOLUTION = """\
def td_target(rewards, next_q_values, terminated, truncated, gamma):
    # The target is a label: no gradient may flow into it.
    with torch.no_grad():
        best_next = next_q_values.max(dim=1).values  # max over actions, shape (batch,)
    # Only `terminated` cuts the future; `truncated` (a time limit) is not used at all.
    return rewards + gamma * (1 - terminated) * best_next"""


def _td_cases() -> tuple[tuple, ...]:
    # Batch size equals the number of actions in every case, so a max over the wrong axis
    # still broadcasts and can be recognised; the masks cover terminated only, truncated
    # only and both; each row's max, mean, argmax and column max differ.
    import torch

    def case(rewards, next_q, terminated, truncated, gamma):
        return (
            torch.tensor(rewards),
            torch.tensor(next_q, requires_grad=True),  # like a network's output
            torch.tensor(terminated),
            torch.tensor(truncated),
            gamma,
        )

    return (
        case(
            [1.0, 1.0, 1.0],
            [[1.0, 5.0, 2.0], [4.0, 0.0, 3.0], [2.0, 6.0, -1.0]],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            0.9,
        ),
        case([1.0, 1.0], [[10.0, 12.0], [30.0, 20.0]], [0.0, 0.0], [0.0, 1.0], 0.99),
        case(
            [0.0, -1.0, 2.0, 0.5],
            [
                [-1.0, -3.0, -2.0, -0.5],
                [2.0, 8.0, 1.0, 0.0],
                [0.5, -1.0, 7.0, 3.0],
                [9.0, 1.0, 2.0, 4.0],
            ],
            [1.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0, 0.0],
            0.5,
        ),
    )


@functools.cache
def td_target_exercise() -> Exercise:
    """Return the Lesson 3 exercise (built on first use, when torch is imported)."""
    mask = "(1 - terminated)"
    return Exercise(
        name="td_target",
        reference=_td_reference,
        cases=_td_cases(),
        mistakes=(
            Mistake(
                "masked on `truncated` too",
                "a time limit (`truncated`) ends the episode but s' still has a future, so "
                f"keep bootstrapping there: multiply by {mask} only.",
                _td_mask_on_truncated,
            ),
            Mistake(
                "masked with `truncated` instead of `terminated`",
                f"the mask says whether s' has no future: {mask}; `truncated` is not used.",
                _td_truncated_for_terminated,
            ),
            Mistake(
                "forgot the terminal mask",
                "when `terminated` is 1, s' is terminal and the target is just r: multiply the "
                f"bootstrap term by {mask}.",
                _td_no_mask,
            ),
            Mistake(
                "flipped the mask",
                f"the bootstrap term must vanish where terminated is 1: {mask}, not terminated.",
                _td_inverted_mask,
            ),
            Mistake(
                "let the gradient flow through the target",
                "the numbers are right, but the result has requires_grad=True: the optimiser "
                "would also push the target towards the prediction. Compute it under "
                "`with torch.no_grad():` (or use next_q_values.detach()).",
                _td_with_gradient,
            ),
            Mistake(
                "took the max over the batch axis",
                "next_q_values has shape (batch, n_actions): the best next action is a max over "
                "actions, dim=1 (or -1), not over the batch (dim=0).",
                _td_max_over_batch,
            ),
            Mistake(
                "took one max over the whole batch",
                "next_q_values.max() is a single number for all transitions; each transition "
                "needs the max of its own row: next_q_values.max(dim=1).values.",
                _td_max_of_everything,
            ),
            Mistake(
                "kept the action axis (keepdim=True)",
                "a max of shape (batch, 1) added to rewards of shape (batch,) broadcasts to "
                "(batch, batch); the target must have shape (batch,).",
                _td_keepdim,
            ),
            Mistake(
                "averaged over the next actions",
                "Q-learning bootstraps from the best next action: max, not mean.",
                _td_mean,
            ),
            Mistake(
                "used argmax (an action index) instead of max (a value)",
                "argmax says *which* action is best; the target needs *how good* it is: "
                ".max(dim=1).values.",
                _td_argmax,
            ),
            Mistake(
                "forgot gamma",
                "the next state's value is discounted: gamma * max_a' Q(s', a').",
                _td_no_gamma,
            ),
        ),
        hint=f"y = rewards + gamma * {mask} * (max over actions of next_q_values, dim=1), "
        "computed without gradient; shape (batch,).",
        solution=_TD_SOLUTION,
        compare=_td_same,
    )


def check_td_target(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 3 exercise: the TD target of a batch of transitions.

    ``fn(rewards, next_q_values, terminated, truncated, gamma)`` gets ``(batch,)`` float
    tensors ``rewards``, ``terminated``, ``truncated`` (1.0 where true), ``next_q_values`` of
    shape ``(batch, n_actions)`` that carries a gradient, and a float ``gamma``. It must
    return ``r + gamma * (1 - terminated) * max_a' Q(s', a')``, shape ``(batch,)``, with no
    gradient (``requires_grad`` False). Prints a friendly verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return td_target_exercise().check(fn)


# --------------------------------------------------------------------------------------
# Lesson 4: the target network's hard sync and soft (Polyak) update
# --------------------------------------------------------------------------------------
# Signatures the learner fills in (both change `target_network` in place, return nothing):
#   hard_sync(target_network, q_network)          theta_bar <- theta
#   soft_sync(target_network, q_network, tau)     theta_bar <- tau * theta + (1 - tau) * theta_bar
# The checker builds a frozen target and an online QNetwork with different weights, calls the
# answer and looks at the result: the target's values, whether it is still frozen, whether it
# still owns its tensors, and whether the online network was left alone.


@dataclass(frozen=True)
class SyncCase:
    """One input of the sync exercises: two networks built from ``seed`` (and a ``tau``).

    Attributes:
        seed: Seeds the networks' weights (online and target differ).
        hidden_sizes: Hidden layer widths of both networks.
        tau: Blend rate for the soft update; None for the hard sync.
    """

    seed: int
    hidden_sizes: tuple[int, ...]
    tau: float | None = None

    def __repr__(self) -> str:
        tau = "" if self.tau is None else f", tau={self.tau}"
        return f"a frozen target and an online QNetwork(4, 2, {self.hidden_sizes}){tau}"


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync did to the two networks (compared by :func:`_sync_same`).

    Attributes:
        target: The target's parameters after the call, flattened into one array.
        online: The online network's parameters after the call, flattened.
        fraction: How far the target moved from its old weights towards the online ones
            (least squares: 0 = not at all, 1 = all the way), rounded to 3 decimals.
        requires_grad: Some target parameter requires a gradient (no longer frozen).
        shares_tensors: Some target parameter uses the online network's memory.
        replaced: The target's parameter objects are not the ones it had before.
        returned_module: The function returned a network instead of changing the target.
    """

    target: np.ndarray = field(repr=False)
    online: np.ndarray = field(repr=False)
    fraction: float
    requires_grad: bool
    shares_tensors: bool
    replaced: bool
    returned_module: bool

    def __repr__(self) -> str:
        flags = [
            f"target moved {self.fraction:.3f} of the way to the online weights",
            "target requires grad" if self.requires_grad else "target frozen",
            "shares the online tensors" if self.shares_tensors else "owns its tensors",
        ]
        if self.replaced:
            flags.append("parameter objects replaced")
        if self.returned_module:
            flags.append("returned a network")
        return "<" + "; ".join(flags) + ">"


def _flat(params: Any) -> np.ndarray:
    return np.concatenate([p.detach().reshape(-1).numpy().astype(float) for p in params])


def _is_empty_function(fn: Callable[..., Any]) -> bool:
    """True if ``fn``'s body does nothing (a stub: ``...``, ``pass`` or a docstring)."""
    import dis

    try:
        ops = [i for i in dis.get_instructions(fn) if i.opname not in ("RESUME", "NOP", "CACHE")]
    except TypeError:  # a builtin or a callable object: not a stub
        return False
    names = [i.opname for i in ops]
    if names == ["RETURN_CONST"]:  # Python 3.12+
        return ops[0].argval is None
    return names == ["LOAD_CONST", "RETURN_VALUE"] and ops[0].argval is None


def _run_sync(fn: Callable[..., Any], case: SyncCase) -> SyncOutcome | None:
    """Call ``fn`` on fresh networks for ``case``; None if ``fn`` is an untouched stub."""
    import torch

    from utils.networks import QNetwork

    torch.manual_seed(case.seed)
    online = QNetwork(4, 2, case.hidden_sizes)
    target = QNetwork(4, 2, case.hidden_sizes).requires_grad_(False)  # frozen, other weights
    old_params = list(target.parameters())
    old_target, old_online = _flat(old_params), _flat(online.parameters())
    args = (target, online) if case.tau is None else (target, online, case.tau)
    returned = fn(*args)
    new_params = list(target.parameters())
    new_target = _flat(new_params)
    if _is_empty_function(fn) and np.array_equal(new_target, old_target):
        return None
    direction = old_online - old_target
    fraction = float(np.dot(new_target - old_target, direction) / np.dot(direction, direction))
    online_ptrs = {p.data_ptr() for p in online.parameters()}
    return SyncOutcome(
        target=new_target,
        online=_flat(online.parameters()),
        fraction=round(fraction, 3),
        requires_grad=any(p.requires_grad for p in new_params),
        shares_tensors=any(p.data_ptr() in online_ptrs for p in new_params),
        replaced=len(new_params) != len(old_params)
        or any(a is not b for a, b in zip(new_params, old_params, strict=True)),
        returned_module=isinstance(returned, torch.nn.Module),
    )


def _sync_same(got: Any, expected: Any) -> bool:
    if not isinstance(got, SyncOutcome) or not isinstance(expected, SyncOutcome):
        return False
    flags = ("requires_grad", "shares_tensors", "replaced", "returned_module")
    return (
        all(getattr(got, f) == getattr(expected, f) for f in flags)
        and got.target.shape == expected.target.shape
        and bool(np.allclose(got.target, expected.target, rtol=1e-5, atol=1e-6))
        and bool(np.allclose(got.online, expected.online, rtol=1e-5, atol=1e-6))
    )


def _harness(fn: Callable[..., Any]) -> Callable[[SyncCase], SyncOutcome | None]:
    return functools.partial(_run_sync, fn)


# Reference answers and typical mistakes; `t` is a target parameter, `o` the online one.


def _hard_reference(target_network, q_network):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.copy_(o)


def _hard_no_grad_forgotten(target_network, q_network):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t.copy_(o)


def _hard_share_data(target_network, q_network):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t.data = o.data


def _hard_share_parameters(target_network, q_network):
    for t_layer, o_layer in zip(target_network.linears(), q_network.linears(), strict=True):
        t_layer.weight, t_layer.bias = o_layer.weight, o_layer.bias


def _hard_new_parameters(target_network, q_network):
    import torch

    for t_layer, o_layer in zip(target_network.linears(), q_network.linears(), strict=True):
        t_layer.weight = torch.nn.Parameter(o_layer.weight.detach().clone())
        t_layer.bias = torch.nn.Parameter(o_layer.bias.detach().clone())


def _hard_rebind(target_network, q_network):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t = o.detach().clone()  # noqa: F841 - the mistake: only the local name changes


def _hard_return_copy(target_network, q_network):
    return copy.deepcopy(q_network)


def _hard_wrong_way(target_network, q_network):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            o.copy_(t)


_HARD_SOLUTION = """\
def hard_sync(target_network, q_network):
    with torch.no_grad():  # a copy is not part of any loss: keep autograd out of it
        for t, o in zip(target_network.parameters(), q_network.parameters()):
            t.copy_(o)  # in place: the target keeps its own (frozen) tensors"""

_NO_GRAD_HINT = (
    "the target now requires a gradient: copying from parameters that require one, outside "
    "`torch.no_grad()`, ties the frozen network to the online network's graph. Do the update "
    "inside `with torch.no_grad():`."
)
_SHARED_HINT = (
    "the target now shares its tensors with the online network, so it is no longer frozen: "
    "every optimiser step would move it too, and you are back to one network. Copy the "
    "numbers into the target's own tensors: `t.copy_(o)`."
)
_REBIND_HINT = (
    "assigning to a loop variable (or to the argument) only renames something inside your "
    "function; the network the training loop holds does not change. Change the target's "
    "tensors in place, e.g. `t.copy_(...)`."
)
_RETURN_HINT = (
    "the training loop keeps using its own `target_network` object and ignores what you "
    "return: change that object's tensors in place instead."
)
_WRONG_WAY_HINT = (
    "the online network changed: the first argument `target_network` is the one that receives "
    "the values (`t.copy_(o)`, not `o.copy_(t)`)."
)

HARD_SYNC = Exercise(
    name="hard_sync",
    reference=_harness(_hard_reference),
    cases=((SyncCase(0, (8,)),), (SyncCase(1, (5, 3)),), (SyncCase(2, ()),)),
    mistakes=(
        Mistake("forgot `torch.no_grad()`", _NO_GRAD_HINT, _harness(_hard_no_grad_forgotten)),
        Mistake(
            "made the target share the online network's tensors",
            _SHARED_HINT,
            _harness(_hard_share_data),
        ),
        Mistake(
            "put the online network's own parameters into the target",
            _SHARED_HINT,
            _harness(_hard_share_parameters),
        ),
        Mistake(
            "replaced the target's parameters by new ones",
            "new `nn.Parameter` objects require a gradient again (the target is no longer "
            "frozen) and are not the tensors the rest of the code holds: copy into the "
            "existing ones with `t.copy_(o)` under `torch.no_grad()`.",
            _harness(_hard_new_parameters),
        ),
        Mistake(
            "rebound a name instead of changing the target", _REBIND_HINT, _harness(_hard_rebind)
        ),
        Mistake(
            "returned a new network instead of changing the target",
            _RETURN_HINT,
            _harness(_hard_return_copy),
        ),
        Mistake(
            "copied the wrong way (target into online)", _WRONG_WAY_HINT, _harness(_hard_wrong_way)
        ),
    ),
    hint="inside `with torch.no_grad():`, loop over zip(target_network.parameters(), "
    "q_network.parameters()) and copy each online tensor into the target's, in place.",
    solution=_HARD_SOLUTION,
    compare=_sync_same,
)


def _soft_reference(target_network, q_network, tau):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.mul_(1.0 - tau).add_(tau * o)


def _soft_tau_backwards(target_network, q_network, tau):
    _soft_reference(target_network, q_network, 1.0 - tau)


def _soft_no_grad_forgotten(target_network, q_network, tau):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t.mul_(1.0 - tau).add_(tau * o)


def _soft_ignores_tau(target_network, q_network, tau):
    _hard_reference(target_network, q_network)


def _soft_no_decay(target_network, q_network, tau):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.add_(tau * o)


def _soft_rebind(target_network, q_network, tau):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t = tau * o.detach() + (1.0 - tau) * t  # the mistake: only a local name changes


def _soft_return_new(target_network, q_network, tau):
    new = copy.deepcopy(target_network)
    _soft_reference(new, q_network, tau)
    return new


def _soft_wrong_way(target_network, q_network, tau):
    _soft_reference(q_network, target_network, tau)


_SOFT_SOLUTION = """\
def soft_sync(target_network, q_network, tau):
    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters()):
            t.mul_(1 - tau).add_(tau * o)  # theta_bar <- (1 - tau) theta_bar + tau theta
            # (the same in one call: t.lerp_(o, tau))"""

SOFT_SYNC = Exercise(
    name="soft_sync",
    reference=_harness(_soft_reference),
    cases=((SyncCase(0, (8,), 0.1),), (SyncCase(1, (5, 3), 0.25),), (SyncCase(2, (), 1.0),)),
    mistakes=(
        Mistake(
            "put tau on the wrong side (tau * theta_bar + (1 - tau) * theta)",
            "tau is the weight of the *online* network: with a small tau (say 0.005) the "
            "target moves only a little towards it: "
            "theta_bar <- tau * theta + (1 - tau) * theta_bar.",
            _harness(_soft_tau_backwards),
        ),
        Mistake("forgot `torch.no_grad()`", _NO_GRAD_HINT, _harness(_soft_no_grad_forgotten)),
        Mistake(
            "copied the online weights, ignoring tau",
            "that is the hard sync; the soft update moves the target only the fraction tau of "
            "the way: theta_bar <- tau * theta + (1 - tau) * theta_bar.",
            _harness(_soft_ignores_tau),
        ),
        Mistake(
            "added tau * theta without shrinking theta_bar",
            "the new target is a weighted *average*: multiply the old target by (1 - tau) "
            "before adding tau * theta, so the weights add up to 1.",
            _harness(_soft_no_decay),
        ),
        Mistake(
            "rebound a name instead of changing the target", _REBIND_HINT, _harness(_soft_rebind)
        ),
        Mistake(
            "returned a new network instead of changing the target",
            _RETURN_HINT,
            _harness(_soft_return_new),
        ),
        Mistake(
            "updated the wrong network (online towards target)",
            _WRONG_WAY_HINT,
            _harness(_soft_wrong_way),
        ),
    ),
    hint="inside `with torch.no_grad():`, for each pair of tensors set "
    "t <- (1 - tau) * t + tau * o in place (`t.mul_(1 - tau).add_(tau * o)` or `t.lerp_(o, tau)`).",
    solution=_SOFT_SOLUTION,
    compare=_sync_same,
)


def check_hard_update(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 4 exercise: the hard sync ``theta_bar <- theta``.

    ``fn(target_network, q_network)`` must copy every parameter of ``q_network`` into
    ``target_network`` in place, leaving the target frozen (``requires_grad`` False), owning
    its own tensors, and ``q_network`` unchanged. It returns nothing. Prints a friendly
    verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function (callable), got {type(fn).__name__}")
    return HARD_SYNC.check(_harness(fn))


def check_soft_update(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 4 exercise: the soft (Polyak) update.

    ``fn(target_network, q_network, tau)`` must set every target parameter to
    ``tau * theta + (1 - tau) * theta_bar`` in place, leaving the target frozen, owning its
    own tensors, and ``q_network`` unchanged. It returns nothing. Prints a friendly verdict
    and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function (callable), got {type(fn).__name__}")
    return SOFT_SYNC.check(_harness(fn))


# --------------------------------------------------------------------------------------
# Lesson 5: name the bug from its diagnostics
# --------------------------------------------------------------------------------------
# The learner fills a dict {"A": name, "B": name, "C": name} with names from BUG_GALLERY after
# looking at the diagnostics of three unnamed runs. The notebook trains the gallery under
# these names and draws the three runs that mystery_runs() picks.

BUG_GALLERY: dict[str, str] = {
    "bootstrap_on_truncated": "stores `terminated or truncated` as the terminal flag",
    "no_terminal_mask": "bootstraps from terminal states too",
    "gradient_through_target": "lets the gradient flow through the target (one network)",
    "never_sync": "never copies the online network into the target network",
    "sync_every_step": "copies it after every step (target_update_period=1)",
    "epsilon_never_decays": "explores at random forever (epsilon_end = epsilon_start = 1)",
    "learning_starts_0": "starts learning before the buffer holds a batch",
    "reward_scale_100": "multiplies every reward by 100",
    "observation_scale_100": "multiplies every observation by 100",
}
"""The Lesson 5 gallery of deliberate bugs: name -> what it does wrong."""

_MYSTERY = (
    (
        "A",
        "epsilon_never_decays",
        "the training return stays where a random policy's is, yet the loss and the Q-values "
        "look like the correct agent's. What does the agent do while it trains?",
    ),
    (
        "B",
        "never_sync",
        "the largest Q stays near the reward of one step and the loss near zero: the targets "
        "never grow. Which network computes them, and does it ever change?",
    ),
    (
        "C",
        "reward_scale_100",
        "its Q-values and its loss are far larger than the correct agent's. By what factor are "
        "its Q-values larger, and is it the same factor everywhere (look at the histogram)?",
    ),
)


def mystery_runs(gallery: dict[str, Any]) -> dict[str, Any]:
    """Return the three unnamed runs of the Lesson 5 exercise: ``{"A": ..., "B": ..., "C": ...}``.

    Args:
        gallery: ``{bug name: runs}`` holding every name the exercise needs (names as in
            :data:`BUG_GALLERY`).

    Raises:
        TypeError: If ``gallery`` is not a dict.
        ValueError: If a name the exercise needs is missing.
    """
    if not isinstance(gallery, dict):
        raise TypeError(f"gallery must be a dict {{bug name: runs}}, got {type(gallery).__name__}")
    missing = [name for _, name, _ in _MYSTERY if name not in gallery]
    if missing:
        raise ValueError(f"gallery must hold the runs of {missing}")
    return {letter: gallery[name] for letter, name, _ in _MYSTERY}


DIAGNOSIS_SOLUTION = """\
answers = {
    "A": "epsilon_never_decays",     # random-level training return, healthy loss and Q
    "B": "never_sync",               # Q stuck near one reward, loss near zero
    "C": "reward_scale_100",         # Q about 100x the correct agent's, loss far larger
}"""
"""The Lesson 5 exercise's solution, as the notebook folds it in ``<details>``."""


def check_diagnosis(answers: Any) -> Verdict:
    """Check the Lesson 5 exercise: name the bug behind each of the runs A, B and C.

    ``answers`` maps each letter to a name from :data:`BUG_GALLERY`. Prints a friendly verdict
    (with a hint on what to look at for each wrong letter) and returns it.

    Args:
        answers: ``{"A": name, "B": name, "C": name}``; ``...`` or ``None`` for a letter not
            answered yet.

    Returns:
        A :class:`Verdict`: ``"correct"``, ``"wrong"`` or ``"not attempted"``.

    Raises:
        TypeError: If ``answers`` is not a dict.
    """
    if not isinstance(answers, dict):
        raise TypeError(f"answers must be a dict like {{'A': 'never_sync', ...}}, got {answers!r}")
    letters = [letter for letter, _, _ in _MYSTERY]
    unknown_keys = sorted(str(k) for k in answers if k not in letters)
    open_letters = [k for k in letters if _is_stub_answer(answers.get(k)) or answers.get(k) == ""]
    if unknown_keys:
        verdict = Verdict(
            WRONG, f"Not quite: the runs are {', '.join(letters)}; unknown keys {unknown_keys}."
        )
    elif len(open_letters) == len(letters):
        verdict = Verdict(
            NOT_ATTEMPTED,
            "Not attempted yet: replace each `...` with the name of a bug from the list "
            "and run this cell again.",
        )
    elif open_letters:
        verdict = Verdict(
            NOT_ATTEMPTED, f"Almost there: {', '.join(open_letters)} still has no answer."
        )
    else:
        lines, wrong = [], 0
        for letter, name, hint in _MYSTERY:
            given = answers[letter]
            if given == name:
                lines.append(f"  {letter}: right, {name}.")
            elif given not in BUG_GALLERY:
                wrong += 1
                lines.append(
                    f"  {letter}: {given!r} is not one of the names: {', '.join(BUG_GALLERY)}."
                )
            else:
                wrong += 1
                lines.append(f"  {letter}: not {given}. Look again: {hint}")
        if wrong == 0:
            verdict = Verdict(CORRECT, "Correct! All three diagnosed:\n" + "\n".join(lines))
        else:
            verdict = Verdict(
                WRONG, f"Not quite: {wrong} of {len(letters)} wrong.\n" + "\n".join(lines)
            )
    print(verdict.message)
    return verdict
