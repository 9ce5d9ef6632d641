"""Lesson 0 (Gymnasium and MDPs): its figures, its widget and its two exercises.

- :func:`plot_frozen_lake_states`: FrozenLake's rendered frame with every cell's state number.
- :func:`plot_discount_weights`, :class:`DiscountExplorer` (:func:`discount_explorer`): the
  weights gamma**k with the horizon 1 / (1 - gamma), and the discounted return of episodes as
  gamma moves.
- :func:`check_discounted_return`: the exercise on the discounted return of one episode.
- :func:`check_one_step_targets`: the exercise on which targets terminated and truncated mask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_probability
from utils.exercise import Exercise, Mistake, Verdict
from utils.explorer import Explorer
from utils.figures import finish_axes, new_figure

__all__ = [
    "DISCOUNTED_RETURN",
    "ONE_STEP_TARGETS",
    "DiscountExplorer",
    "check_discounted_return",
    "check_one_step_targets",
    "discount_explorer",
    "plot_discount_weights",
    "plot_frozen_lake_states",
]

# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_frozen_lake_states(env: gym.Env, *, title: str | None = None) -> Figure:
    """Draw FrozenLake's rendered frame with each cell's state number ``row * ncol + col``.

    Args:
        env: A FrozenLake environment made with ``render_mode="rgb_array"`` and reset.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        TypeError: If ``env`` is not a Gymnasium env.
        ValueError: If it is not a FrozenLake rendering ``rgb_array`` frames.
    """
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    desc = getattr(env.unwrapped, "desc", None)
    if desc is None or env.render_mode != "rgb_array":
        raise ValueError("env must be a FrozenLake made with render_mode='rgb_array'")
    frame = env.render()
    nrow, ncol = desc.shape
    height, width = frame.shape[:2]
    fig, (ax,) = new_figure(1, figsize=(4.2, 4.2))
    ax.imshow(frame)
    for s in range(nrow * ncol):
        row, col = divmod(s, ncol)
        ax.text(
            (col + 0.08) * width / ncol, (row + 0.1) * height / nrow, str(s),
            color="white", fontsize=11, fontweight="bold", va="top", ha="left",
            bbox={"facecolor": "black", "alpha": 0.55, "pad": 1.5, "linewidth": 0},
        )  # fmt: skip
    ax.axis("off")
    ax.set_title(title or "FrozenLake: state number of every cell")
    return fig


def _check_gammas(gammas: Sequence[float]) -> list[float]:
    values = [check_float("gammas", g, low=0.0, high=1.0, high_inclusive=False) for g in gammas]
    if not values:
        raise ValueError("gammas must hold at least one discount in [0, 1)")
    return values


def plot_discount_weights(
    gammas: Sequence[float] = (0.5, 0.9, 0.99), *, steps: int = 500, ax: Any = None
) -> Figure:
    """Plot the weight ``gamma**k`` of a reward ``k`` steps ahead, with the horizon marked.

    The horizon ``1 / (1 - gamma)`` is where a dotted line of the same colour stands: the sum
    of all weights, the number of steps an agent effectively looks ahead.

    Args:
        gammas: Discounts in [0, 1).
        steps: Steps ahead shown, ``k = 0 .. steps - 1`` (>= 2); log-scaled axis.
        ax: Axes to draw on; a new Figure if None.

    Returns:
        The Figure.
    """
    values = _check_gammas(gammas)
    steps = check_int("steps", steps, minimum=2)
    if ax is None:
        fig, (ax,) = new_figure(1, figsize=(6.4, 3.6))
    else:
        fig = ax.figure
    k = np.arange(steps)
    for i, gamma in enumerate(values):
        colour = f"C{i}"
        horizon = 1.0 / (1.0 - gamma)
        ax.plot(k + 1, gamma**k, color=colour, label=f"γ = {gamma:g}: horizon {horizon:.0f} steps")
        ax.axvline(horizon, color=colour, linestyle=":", linewidth=1.5)
    ax.set_xscale("log")
    ax.set_xlabel("steps ahead, k + 1 (log scale)")
    ax.set_ylabel(r"weight $\gamma^k$ of reward $r_{t+k+1}$")
    ax.set_ylim(0, 1.05)
    finish_axes(ax, "discount weights; dotted: the horizon 1 / (1 - γ)", "lower left")
    return fig


# --------------------------------------------------------------------------------------
# The widget: move gamma, see the weights and the discounted returns
# --------------------------------------------------------------------------------------


def _discounted(rewards: np.ndarray, gamma: float) -> float:
    return float(np.sum(gamma ** np.arange(rewards.size) * rewards))


class DiscountExplorer(Explorer):
    """Move the discount gamma; see the weights of each episode's rewards and its return.

    Attributes:
        episodes: ``{name: rewards}``, each an array of one episode's rewards.
        widget: The ``ipywidgets.VBox`` to display (slider above the picture).
        controls: ``{"gamma": FloatSlider}``.
    """

    noun = "slider"

    def __init__(self, episodes: Mapping[str, Sequence[float]], gamma: float = 0.9) -> None:
        if not isinstance(episodes, Mapping) or not episodes:
            raise TypeError("episodes must be a non-empty {name: rewards} mapping")
        self.episodes = {}
        for name, rewards in episodes.items():
            array = np.asarray(rewards, dtype=float)
            if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array)):
                raise ValueError(f"episodes[{name!r}] must be a non-empty 1-D list of rewards")
            self.episodes[str(name)] = array
        gamma = check_float("gamma", gamma, low=0.5, high=0.999)
        slider = widgets.FloatSlider(
            value=gamma, min=0.5, max=0.999, step=0.001, readout_format=".3f",
            description="gamma γ", continuous_update=False,
            style={"description_width": "70px"}, layout=widgets.Layout(width="420px"),
        )  # fmt: skip
        self.controls = {"gamma": slider}
        self._start()

    def returns(self, gamma: float) -> dict[str, float]:
        """Return ``{name: discounted return}`` of every episode for ``gamma`` in [0, 1]."""
        gamma = check_probability("gamma", gamma)
        return {name: _discounted(r, gamma) for name, r in self.episodes.items()}

    def figure(self, gamma: float) -> Figure:
        """Return the picture for ``gamma``: each episode's weighted rewards over time.

        Args:
            gamma: Discount in [0, 1).

        Returns:
            The Figure (the area under each curve is the episode's discounted return).
        """
        gamma = check_float("gamma", gamma, low=0.0, high=1.0, high_inclusive=False)
        fig, (ax,) = new_figure(1, figsize=(8.0, 3.8))
        for i, (name, rewards) in enumerate(self.episodes.items()):
            weighted = gamma ** np.arange(rewards.size) * rewards
            ax.fill_between(
                np.arange(1, rewards.size + 1), weighted, step="pre", alpha=0.35, color=f"C{i}",
                label=f"{name}: {rewards.size} steps, return {_discounted(rewards, gamma):.2f}",
            )  # fmt: skip
        ax.axvline(1 / (1 - gamma), color="0.3", linestyle=":", label="horizon 1 / (1 - γ)")
        ax.set_xscale("log")
        ax.set_xlabel("step of the episode (log scale)")
        ax.set_ylabel(r"$\gamma^k\, r_{k+1}$")
        ax.set_ylim(0, 1.05 * max(float(np.abs(r).max()) for r in self.episodes.values()))
        finish_axes(ax, f"γ = {gamma:.3f}: shaded area = discounted return", "upper right")
        return fig


def discount_explorer(
    episodes: Mapping[str, Sequence[float]], gamma: float = 0.9
) -> DiscountExplorer:
    """Build the Lesson 0 widget: a gamma slider over the discounted returns of ``episodes``.

    Args:
        episodes: ``{name: rewards}`` of one or more episodes.
        gamma: The discount shown first, in [0.5, 0.999].

    Returns:
        The :class:`DiscountExplorer`; display it (or its ``.widget``).
    """
    return DiscountExplorer(episodes, gamma)


# --------------------------------------------------------------------------------------
# Exercise 1: the discounted return
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

    Args:
        fn: The learner's ``discounted_return(rewards, gamma)``; it must return
            ``sum_k gamma**k * rewards[k]`` as a float.

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return DISCOUNTED_RETURN.check(fn)


# --------------------------------------------------------------------------------------
# Exercise 2: which targets are masked (terminated vs truncated)
# --------------------------------------------------------------------------------------
# Signature the learner fills in:
#   one_step_targets(rewards, next_values, terminated, truncated, gamma) -> array (T,)
# y_t = r_t + gamma * (1 - terminated_t) * V(s'_t), for the T steps of a batch.


def _as_arrays(rewards, next_values, terminated, truncated):
    return (
        np.asarray(rewards, dtype=float),
        np.asarray(next_values, dtype=float),
        np.asarray(terminated, dtype=float),
        np.asarray(truncated, dtype=float),
    )


def _targets_reference(rewards, next_values, terminated, truncated, gamma):
    r, v, term, _ = _as_arrays(rewards, next_values, terminated, truncated)
    return r + gamma * (1.0 - term) * v


def _targets_mask_done(rewards, next_values, terminated, truncated, gamma):
    r, v, term, trunc = _as_arrays(rewards, next_values, terminated, truncated)
    return r + gamma * (1.0 - np.maximum(term, trunc)) * v


def _targets_mask_truncated(rewards, next_values, terminated, truncated, gamma):
    r, v, _, trunc = _as_arrays(rewards, next_values, terminated, truncated)
    return r + gamma * (1.0 - trunc) * v


def _targets_no_mask(rewards, next_values, terminated, truncated, gamma):
    r, v, _, _ = _as_arrays(rewards, next_values, terminated, truncated)
    return r + gamma * v


def _targets_flipped(rewards, next_values, terminated, truncated, gamma):
    r, v, term, _ = _as_arrays(rewards, next_values, terminated, truncated)
    return r + gamma * term * v


def _targets_no_gamma(rewards, next_values, terminated, truncated, gamma):
    r, v, term, _ = _as_arrays(rewards, next_values, terminated, truncated)
    return r + (1.0 - term) * v


def _targets_zero_when_done(rewards, next_values, terminated, truncated, gamma):
    r, v, term, _ = _as_arrays(rewards, next_values, terminated, truncated)
    return (1.0 - term) * (r + gamma * v)


_TARGETS_SOLUTION = """\
def one_step_targets(rewards, next_values, terminated, truncated, gamma):
    rewards, next_values = np.asarray(rewards, float), np.asarray(next_values, float)
    terminated = np.asarray(terminated, float)
    # only terminated cuts the future; truncated (a time limit) does not appear at all
    return rewards + gamma * (1 - terminated) * next_values"""

# Cases with every combination of the two flags, rewards that are not all 0 or 1 on the
# terminal steps, next values away from 0, and gamma away from 0 and 1.
_TARGETS_CASES = (
    ([1.0, 1.0, 1.0], [5.0, 4.0, 3.0], [False, False, True], [False, False, False], 0.9),
    ([1.0, 1.0, 1.0], [5.0, 4.0, 3.0], [False, False, False], [False, False, True], 0.9),
    ([0.0, 0.0, 1.0, 0.0], [0.2, 0.5, 0.7, 0.1], [False, False, True, True],
     [False, True, False, True], 0.5),
    ([-1.0, 20.0], [7.0, 7.0], [False, True], [True, False], 0.99),
)  # fmt: skip

ONE_STEP_TARGETS = Exercise(
    name="one_step_targets",
    reference=_targets_reference,
    cases=_TARGETS_CASES,
    mistakes=(
        Mistake(
            "masked the truncated steps too (done = terminated or truncated)",
            "a time limit says nothing about the next state: it still has a future, so a "
            "truncated step keeps gamma * V(s'). Mask on `terminated` only.",
            _targets_mask_done,
        ),
        Mistake(
            "masked on truncated instead of terminated",
            "swap the flags: the future is cut when the task ends (`terminated`), not when the "
            "clock runs out (`truncated`).",
            _targets_mask_truncated,
        ),
        Mistake(
            "masked nothing",
            "after a terminal step there is no future: its target is the reward alone, so "
            "multiply gamma * V(s') by (1 - terminated).",
            _targets_no_mask,
        ),
        Mistake(
            "flipped the mask",
            "the future counts when terminated is False: the factor is (1 - terminated), "
            "not terminated.",
            _targets_flipped,
        ),
        Mistake(
            "forgot gamma",
            "the next state's value is one step later, so it is discounted: gamma * V(s').",
            _targets_no_gamma,
        ),
        Mistake(
            "dropped the reward of the terminal step",
            "the last step's reward was still received: its target is r, not 0.",
            _targets_zero_when_done,
        ),
    ),
    hint="y = r + gamma * (1 - terminated) * V(s'), step by step; `truncated` is not used.",
    solution=_TARGETS_SOLUTION,
)


def check_one_step_targets(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 0 exercise: one-step targets with the terminal mask.

    Args:
        fn: The learner's ``one_step_targets(rewards, next_values, terminated, truncated,
            gamma)``; it gets equal-length sequences (shape ``(T,)``) and must return the
            ``T`` targets ``rewards + gamma * (1 - terminated) * next_values``.

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return ONE_STEP_TARGETS.check(fn)
