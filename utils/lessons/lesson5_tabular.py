"""Lesson 5: the maximisation bias on Sutton & Barto's tiny MDP (Example 6.7), many runs at once.

The MDP: from state A, ``right`` ends the episode with reward 0; ``left`` moves to B with
reward 0. From B each of ``n_b_actions`` actions ends the episode with a reward drawn from
``N(-0.1, 1)``. So ``left`` is worth -0.1 and ``right`` 0: the optimal policy goes right, and
an epsilon-greedy agent with epsilon = 0.1 still goes left ``epsilon / 2`` = 5% of the time.

- :func:`maximization_bias`: Q-learning or Double Q-learning on ``runs`` independent copies,
  vectorised over runs with NumPy; returns, per episode, which runs went left.
- :func:`plot_left_share`: the share of runs going left per episode, for each learner, with
  the optimal 5% line.
- :func:`maximization_bias_explorer`: the "Try it" widget: move the number of actions in B
  or epsilon, and both learners are rerun and redrawn.
"""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_choice, check_float, check_int, check_seed
from utils.explorer import Explorer
from utils.figures import new_figure
from utils.stats import bootstrap_ci

__all__ = [
    "LEARNERS",
    "LEFT",
    "RIGHT",
    "MaximizationBiasExplorer",
    "maximization_bias",
    "maximization_bias_explorer",
    "plot_left_share",
]

LEFT, RIGHT = 0, 1
"""The two actions in state A."""

LEARNERS = ("q_learning", "double_q_learning")
"""The learners :func:`maximization_bias` runs."""


def _epsilon_greedy(q: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Pick one action per row of ``q`` ``(runs, actions)``: greedy with ties broken at
    random, or uniformly random with probability ``epsilon``."""
    runs, n = q.shape
    ties = q == q.max(axis=1, keepdims=True)
    greedy = np.argmax(ties * rng.random((runs, n)), axis=1)  # a random one among the best
    explore = rng.random(runs) < epsilon
    return np.where(explore, rng.integers(0, n, runs), greedy)


def maximization_bias(
    learner: str,
    *,
    runs: int = 1000,
    episodes: int = 300,
    n_b_actions: int = 10,
    alpha: float = 0.1,
    epsilon: float = 0.1,
    gamma: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Run ``learner`` on ``runs`` independent copies of Example 6.7; return who went left.

    Q-learning's target at A is ``max_b Q(B, b)``: the max of noisy estimates of actions that
    are all worth -0.1, so early on it is above 0 and ``left`` looks better than ``right``.
    Double Q-learning keeps two tables, picks B's action with one and scores it with the
    other (van Hasselt, 2010); behaviour is epsilon-greedy on their sum. All tables start at 0.

    Args:
        learner: ``'q_learning'`` or ``'double_q_learning'``.
        runs: Independent runs (>= 1), each with its own tables.
        episodes: Episodes per run (>= 1).
        n_b_actions: Actions in state B (>= 1).
        alpha: Step size in (0, 1].
        epsilon: Exploration rate in [0, 1].
        gamma: Discount in [0, 1].
        seed: Seed of everything random; the same seed gives the same array.

    Returns:
        ``(episodes, runs)`` bool: whether each run chose ``left`` in A in each episode.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    check_choice("learner", learner, LEARNERS)
    runs = check_int("runs", runs, minimum=1)
    episodes = check_int("episodes", episodes, minimum=1)
    n_b_actions = check_int("n_b_actions", n_b_actions, minimum=1)
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
    epsilon = check_float("epsilon", epsilon, low=0.0, high=1.0)
    gamma = check_float("gamma", gamma, low=0.0, high=1.0)
    rng = np.random.default_rng(check_seed("seed", seed))
    tables = 2 if learner == "double_q_learning" else 1
    q_a = np.zeros((tables, runs, 2))  # Q(A, left), Q(A, right)
    q_b = np.zeros((tables, runs, n_b_actions))
    every = np.arange(runs)
    went_left = np.zeros((episodes, runs), dtype=bool)
    for episode in range(episodes):
        action = _epsilon_greedy(q_a.sum(axis=0), epsilon, rng)
        left = action == LEFT
        went_left[episode] = left
        b_action = _epsilon_greedy(q_b.sum(axis=0), epsilon, rng)
        reward = rng.normal(-0.1, 1.0, runs)
        # which table each run updates (Double Q-learning: a fair coin per step)
        first = rng.integers(0, tables, runs)
        other = (first + 1) % tables
        # A, right: the episode ends with reward 0
        table, run = first[~left], every[~left]
        q_a[table, run, RIGHT] += alpha * (0.0 - q_a[table, run, RIGHT])
        # A, left -> B with reward 0: bootstrap on B's values
        picked = np.argmax(q_b[first, every], axis=1)  # the updated table picks ...
        value_b = q_b[other, every, picked]  # ... the other one scores (the same one if single)
        a_old = q_a[first[left], every[left], LEFT]
        q_a[first[left], every[left], LEFT] = a_old + alpha * (gamma * value_b[left] - a_old)
        # B -> end: the runs that went left learn from B's reward (a fresh coin for this step)
        first_b = rng.integers(0, tables, runs)[left]
        b_old = q_b[first_b, every[left], b_action[left]]
        q_b[first_b, every[left], b_action[left]] = b_old + alpha * (reward[left] - b_old)
    return went_left


def plot_left_share(
    results: Mapping[str, np.ndarray],
    *,
    optimal: float = 0.05,
    figsize: tuple[float, float] = (7.0, 3.8),
) -> Figure:
    """Draw the share of runs choosing ``left`` in each episode, one line per learner.

    Band: 95% bootstrap interval of the share over runs, at every 10th episode.

    Args:
        results: ``{label: (episodes, runs) bool}`` from :func:`maximization_bias`.
        optimal: The share an optimal epsilon-greedy agent goes left (dashed), in [0, 1].
        figsize: Width and height in inches.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty mapping {label: (episodes, runs) bools}")
    optimal = check_float("optimal", optimal, low=0.0, high=1.0)
    fig, (ax,) = new_figure(1, figsize=figsize)
    for label, left in results.items():
        left = np.asarray(left)
        if left.ndim != 2 or left.dtype != bool:
            raise ValueError(f"results[{label!r}] must be an (episodes, runs) bool array")
        episodes = np.arange(1, left.shape[0] + 1)
        (line,) = ax.plot(episodes, 100 * left.mean(axis=1), label=label)
        marks = episodes[::10] - 1
        bands = np.array([bootstrap_ci(left[e].astype(float), "mean", n_resamples=200)
                          for e in marks])  # fmt: skip
        ax.fill_between(marks + 1, 100 * bands[:, 0], 100 * bands[:, 1], color=line.get_color(),
                        alpha=0.2)  # fmt: skip
    ax.axhline(100 * optimal, color="black", linestyle="--", linewidth=1,
               label=f"optimal (epsilon-greedy): {100 * optimal:g}%")  # fmt: skip
    ax.set_xlabel("episode")
    ax.set_ylabel("% of runs choosing left in A")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    runs = next(iter(results.values())).shape[1]
    ax.set_title(f"maximisation bias (Sutton & Barto, Example 6.7), {runs:,} runs each",
                 fontsize=10)  # fmt: skip
    return fig


# --------------------------------------------------------------------------------------
# The widget: more actions in B, or more exploration, and both learners rerun
# --------------------------------------------------------------------------------------

_NAMES = {"q_learning": "Q-learning", "double_q_learning": "Double Q-learning"}


class MaximizationBiasExplorer(Explorer):
    """Move the number of actions in B or epsilon; both learners are rerun and redrawn.

    The max in Q-learning's target is over B's actions, all worth -0.1: with one action there
    is nothing to pick from and no bias, and the more actions, the higher the max of their
    noisy estimates. Each move reruns :func:`maximization_bias` for both learners on ``runs``
    runs (a fraction of a second) and draws :func:`plot_left_share`, the optimal line at
    ``epsilon / 2``.

    Attributes:
        runs: Runs per learner at each redraw.
        seed: Seed of every rerun (the same controls give the same picture).
        controls: ``{"n_b_actions", "epsilon"}`` -> slider.
        widget: The ``ipywidgets.VBox`` to display (controls above the picture).
        last_seconds: Wall time of the last redraw, in seconds.
    """

    noun = "slider"

    def __init__(
        self, *, runs: int = 300, seed: int = 0, n_b_actions: int = 10, epsilon: float = 0.1
    ) -> None:
        self.runs = check_int("runs", runs, minimum=1)
        self.seed = check_seed("seed", seed)
        n_b_actions = check_int("n_b_actions", n_b_actions, minimum=1, maximum=50)
        epsilon = check_float("epsilon", epsilon, low=0.0, high=0.5)
        style = {"description_width": "120px"}
        self.controls = {
            "n_b_actions": widgets.IntSlider(value=n_b_actions, min=1, max=50, step=1,
                                             description="actions in B", style=style,
                                             continuous_update=False),
            "epsilon": widgets.FloatSlider(value=epsilon, min=0.0, max=0.5, step=0.05,
                                           description="epsilon", style=style,
                                           continuous_update=False),
        }  # fmt: skip
        self._start()

    def figure(self, n_b_actions: int, epsilon: float) -> Figure:
        """Return the picture for these settings: share of runs going left, per learner.

        Args:
            n_b_actions: Actions in state B, in [1, 50].
            epsilon: Exploration rate of both learners, in [0, 0.5].

        Returns:
            The Figure; each label gives that learner's share of left over episodes 1-100.
        """
        n_b_actions = check_int("n_b_actions", n_b_actions, minimum=1, maximum=50)
        epsilon = check_float("epsilon", epsilon, low=0.0, high=0.5)
        results = {}
        for learner, name in _NAMES.items():
            left = maximization_bias(learner, runs=self.runs, n_b_actions=n_b_actions,
                                     epsilon=epsilon, seed=self.seed)  # fmt: skip
            results[f"{name} (episodes 1-100: {left[:100].mean():.0%} left)"] = left
        return plot_left_share(results, optimal=epsilon / 2)


def maximization_bias_explorer(**kwargs: int | float) -> MaximizationBiasExplorer:
    """Build the Lesson 5 widget on Example 6.7 (see :class:`MaximizationBiasExplorer`).

    Args:
        **kwargs: ``runs`` (per learner and redraw, default 300), ``seed``, and the first
            ``n_b_actions`` (1-50, default 10) and ``epsilon`` (0-0.5, default 0.1).

    Returns:
        The explorer; display its ``.widget``.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    return MaximizationBiasExplorer(**kwargs)
