"""Lesson 2's data code: how a Q-table scales, and the record of the bin-count sweep.

- Bigger FrozenLake maps (:func:`frozen_lake_map`, :func:`make_frozen_lake`), the memory of
  a table (:func:`table_bytes`) and the training a table needs before its greedy policy is
  as good as the optimal one (:func:`episodes_to_near_optimal`).
- :func:`plot_scaling`: what a table costs to learn against its size.
- :class:`BinsSweep`: one Q-table per bin count and seed of discretised CartPole, on the
  same step budget (the lesson fills it; its figure and widget read it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium.envs.toy_text.frozen_lake import MAPS, generate_random_map
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.envs import make_env, require_discrete_env
from utils.figures import new_figure
from utils.seeding import make_rng
from utils.tabular import greedy_policy, q_learning, success_probability, value_iteration

__all__ = [
    "BinsSweep",
    "NearOptimalResult",
    "episodes_to_near_optimal",
    "frozen_lake_map",
    "make_frozen_lake",
    "plot_scaling",
    "table_bytes",
]

# FrozenLake ships these two maps; other sizes are generated.
_STANDARD_SIZES = (4, 8)


def frozen_lake_map(size: int, p: float = 0.8, map_seed: int = 0) -> list[str]:
    """Return a ``size`` x ``size`` FrozenLake map as rows of letters (``S F H G``).

    Sizes 4 and 8 give Gymnasium's standard maps (``map_name="4x4"``/``"8x8"``); any other
    size is drawn by :func:`gymnasium.envs.toy_text.frozen_lake.generate_random_map`, which
    keeps drawing until there is a path from ``S`` to ``G``. The same ``map_seed`` gives the
    same map.

    Args:
        size: Side length of the square map, in [2, 64].
        p: Probability that a generated tile is frozen (not a hole), in (0, 1].
        map_seed: Seed of the generated map, in [0, 2**32 - 1]; unused for sizes 4 and 8.

    Returns:
        ``size`` strings of ``size`` letters each.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    size = check_int("size", size, minimum=2, maximum=64)
    p = check_float("p", p, low=0.0, high=1.0, low_inclusive=False)
    map_seed = check_seed("map_seed", map_seed)
    if size in _STANDARD_SIZES:
        return list(MAPS[f"{size}x{size}"])
    return generate_random_map(size=size, p=p, seed=map_seed)


def make_frozen_lake(
    size: int,
    *,
    is_slippery: bool = True,
    p: float = 0.8,
    map_seed: int = 0,
    seed: int | None = None,
    max_episode_steps: int | None = None,
) -> gym.Env:
    """Create ``FrozenLake-v1`` on the map :func:`frozen_lake_map` returns.

    Args:
        size: Side length, in [2, 64] (4 and 8 are the standard maps).
        is_slippery: Gymnasium's slippery ice (move as asked only 1 time in 3) if True.
        p: Probability that a generated tile is frozen, in (0, 1].
        map_seed: Seed of the generated map.
        seed: Optional seed of the environment (see :func:`utils.envs.make_env`).
        max_episode_steps: Time limit (>= 1); ``None`` keeps FrozenLake-v1's 100 steps.

    Returns:
        The environment (``Discrete(size**2)`` observations, 4 actions).

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(is_slippery, bool):
        raise TypeError(f"is_slippery must be a bool, got {type(is_slippery).__name__}")
    kwargs: dict = {}
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = check_int("max_episode_steps", max_episode_steps, minimum=1)
    desc = frozen_lake_map(size, p=p, map_seed=map_seed)
    return make_env("FrozenLake-v1", seed=seed, desc=desc, is_slippery=is_slippery, **kwargs)


def table_bytes(n_states: int, n_actions: int, itemsize: int = 8) -> int:
    """Return the memory of a dense Q-table: ``n_states * n_actions * itemsize`` bytes.

    Args:
        n_states: Rows, >= 1.
        n_actions: Columns, >= 1.
        itemsize: Bytes per entry, >= 1 (8 for float64, 4 for float32).
    """
    n_states = check_int("n_states", n_states, minimum=1)
    n_actions = check_int("n_actions", n_actions, minimum=1)
    itemsize = check_int("itemsize", itemsize, minimum=1)
    return n_states * n_actions * itemsize


@dataclass(frozen=True)
class NearOptimalResult:
    """What :func:`episodes_to_near_optimal` returns.

    Attributes:
        reached: Whether the greedy policy got near optimal within ``max_episodes``.
        episodes: Training episodes at the first check that passed (``max_episodes`` or
            the last check's count if none did).
        steps: Environment steps taken in those episodes.
        seconds: Wall time spent in :func:`utils.tabular.q_learning` (the checks excluded).
        success: Exact success probability of the greedy policy at that point.
        optimal_success: Exact success probability of the greedy policy of ``Q*``.
        q_table: The table at that point, shape ``(n_states, n_actions)``.
    """

    reached: bool
    episodes: int
    steps: int
    seconds: float
    success: float
    optimal_success: float
    q_table: np.ndarray


def episodes_to_near_optimal(
    env: gym.Env,
    *,
    seed: int,
    alpha: float = 0.5,
    gamma: float = 0.99,
    epsilon: float = 0.05,
    q_init: float = 0.0,
    fraction: float = 0.95,
    max_episodes: int = 100_000,
    first_check: int = 10,
    growth: float = 1.1,
    optimal_success: float | None = None,
) -> NearOptimalResult:
    """Train Q-learning until its greedy policy is near optimal; return how long that took.

    "Near optimal" means: the greedy policy of the table reaches the goal within the env's
    time limit with probability at least ``fraction`` times that of the greedy policy of
    ``Q*``. Both probabilities are exact (dynamic programming on ``env.unwrapped.P`` with
    :func:`utils.tabular.success_probability`), so no evaluation noise enters the count.

    Training is :func:`utils.tabular.q_learning`, continued in chunks: the table is checked
    after ``first_check`` episodes and then whenever the episode count has grown by the
    factor ``growth`` (so the count is known to within that factor, evenly on a log axis).
    Each chunk starts from the previous table with its own seed drawn from ``seed``.

    Args:
        env: A toy-text env with a goal (FrozenLake, Taxi) and a model ``env.unwrapped.P``.
        seed: Seed in [0, 2**32 - 1]; the same seed gives the same counts.
        alpha: Step size in (0, 1].
        gamma: Discount factor in [0, 1] (also used for ``Q*``).
        epsilon: Constant exploration rate in [0, 1].
        q_init: Initial value of every entry. An *optimistic* value (at least the largest
            return possible) makes every untried action look best, so the agent tries them all.
        fraction: Required share of the optimal success probability, in (0, 1].
        max_episodes: Give up after this many episodes (>= 1).
        first_check: Episodes before the first check (>= 1).
        growth: Factor between two checks' episode counts (> 1).
        optimal_success: The optimal success probability if already known (skips value
            iteration), in [0, 1].

    Returns:
        A :class:`NearOptimalResult`.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    require_discrete_env(env)
    seed = check_seed("seed", seed)
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
    gamma = check_probability("gamma", gamma)
    epsilon = check_probability("epsilon", epsilon)
    q_init = check_float("q_init", q_init)
    fraction = check_float("fraction", fraction, low=0.0, high=1.0, low_inclusive=False)
    max_episodes = check_int("max_episodes", max_episodes, minimum=1)
    first_check = check_int("first_check", first_check, minimum=1)
    growth = check_float("growth", growth, low=1.0, low_inclusive=False)
    if optimal_success is None:
        optimal_success = success_probability(env, greedy_policy(value_iteration(env, gamma)))
    optimal_success = check_probability("optimal_success", optimal_success)

    rng = make_rng(seed)
    q = np.full((env.observation_space.n, env.action_space.n), q_init)
    target = fraction * optimal_success
    episodes = steps = 0
    seconds = 0.0
    checkpoint = min(first_check, max_episodes)
    while True:
        result = q_learning(
            env,
            episodes=checkpoint - episodes,
            alpha=alpha,
            gamma=gamma,
            epsilon=epsilon,
            seed=int(rng.integers(2**32)),  # a fresh seed per chunk, all drawn from `seed`
            q_init=q,
        )
        q = result.q_table
        episodes = checkpoint
        steps += result.total_steps
        seconds += result.seconds
        success = success_probability(env, greedy_policy(q))
        if success >= target or episodes >= max_episodes:
            break
        checkpoint = min(max(int(np.ceil(episodes * growth)), episodes + 1), max_episodes)
    return NearOptimalResult(
        reached=success >= target,
        episodes=episodes,
        steps=steps,
        seconds=seconds,
        success=success,
        optimal_success=optimal_success,
        q_table=q,
    )


def plot_scaling(
    entries: Sequence[int] | np.ndarray,
    costs: Mapping[str, np.ndarray],
    *,
    groups: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    reached: np.ndarray | None = None,
    guide_slope: float | None = 1.0,
) -> Figure:
    """Plot what a table costs to learn against its size, one log-log panel per cost.

    Each panel shows every seed as a small dot and the mean over seeds as a larger marker;
    means of points in the same group (e.g. FrozenLake maps of growing size) are joined by a
    line, and each group gets its own colour and marker.

    Args:
        entries: Table entries ``n_states * n_actions`` of each environment, shape
            ``(n_points,)``, each >= 1.
        costs: ``{name: array}``, e.g. ``{"episodes": ..., "seconds": ...}``, each of shape
            ``(n_points, n_seeds)`` with positive values.
        groups: Group name of each point, shape ``(n_points,)``; default one group.
        labels: Text written next to each point (e.g. ``"8x8"``), shape ``(n_points,)``.
        reached: Optional boolean ``(n_points, n_seeds)``: False marks a run that never got
            there within its budget; its dot is drawn hollow (the cost is only a lower bound).
        guide_slope: Draw a dashed guide line of this slope through the smallest table's mean
            (slope 1: a cost that grows in proportion to the table); None for no guide.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    x = np.asarray(entries, dtype=float)
    if x.ndim != 1 or x.size == 0 or np.any(x < 1):
        raise ValueError(f"entries must be a non-empty 1-D array of counts >= 1, got {entries!r}")
    n = x.size
    if not isinstance(costs, Mapping) or not costs:
        raise TypeError("costs must be a non-empty mapping {name: array (n_points, n_seeds)}")
    arrays = {}
    for name, values in costs.items():
        array = np.asarray(values, dtype=float)
        if array.ndim != 2 or array.shape[0] != n or array.shape[1] < 1:
            raise ValueError(
                f"costs[{name!r}] must have shape ({n}, n_seeds), got {np.shape(values)}"
            )
        if np.any(array <= 0) or np.isnan(array).any():
            raise ValueError(f"costs[{name!r}] must be positive (log axes)")
        arrays[name] = array
    groups = list(groups) if groups is not None else [""] * n
    if len(groups) != n:
        raise ValueError(f"groups must have {n} entries, got {len(groups)}")
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels must have {n} entries, got {len(labels)}")
    shape = next(iter(arrays.values())).shape
    done = np.ones(shape, dtype=bool) if reached is None else np.asarray(reached, dtype=bool)
    if done.shape != shape:
        raise ValueError(f"reached must have shape {shape}, got {done.shape}")

    if guide_slope is not None:
        guide_slope = check_float("guide_slope", guide_slope, finite=True)
    fig, axes = new_figure(len(arrays), figsize=(4.0 * len(arrays), 3.6))
    markers = "osD^v<>"
    names = list(dict.fromkeys(groups))
    for ax, (name, array) in zip(axes, arrays.items(), strict=True):
        for g, group in enumerate(names):
            idx = np.array([i for i in range(n) if groups[i] == group])
            order = idx[np.argsort(x[idx])]
            color = f"C{g}"
            means = array[order].mean(axis=1)
            ax.plot(
                x[order],
                means,
                marker=markers[g % len(markers)],
                color=color,
                label=group or None,
                linewidth=1.2,
                markersize=6,
            )
            for i in order:
                xs = np.full(array.shape[1], x[i])
                ax.scatter(xs[done[i]], array[i, done[i]], s=10, color=color, alpha=0.5)
                ax.scatter(
                    xs[~done[i]], array[i, ~done[i]], s=14, facecolors="none", edgecolors=color
                )
                if labels is not None:
                    ax.annotate(
                        str(labels[i]),
                        (x[i], array[i].mean()),
                        textcoords="offset points",
                        xytext=(5, -10),
                        fontsize=7,
                    )
        if guide_slope is not None:
            first = int(np.argmin(x))
            xs = np.array([x.min(), x.max()])
            ys = array[first].mean() * (xs / x[first]) ** guide_slope
            ax.plot(xs, ys, color="0.4", linestyle="--", linewidth=1,
                    label=f"slope {guide_slope:g}")  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"table entries $|\mathcal{S}|\,|\mathcal{A}|$")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3, which="both")
    if len(names) > 1 or (not done.all()) or guide_slope is not None:
        if not done.all():
            axes[0].scatter([], [], s=14, facecolors="none", edgecolors="0.3", label="not reached")
        axes[0].legend(loc="upper left", fontsize="small")
    return fig


@dataclass(frozen=True)
class BinsSweep:
    """Results of training one Q-table per bin count and seed, on the same step budget.

    Lesson 2 fills this from one :func:`utils.lessons.lesson2_batch.train_tables` batch (a
    table per bin count and seed); :func:`utils.lessons.lesson2.plot_bins_sweep` reads it.

    Attributes:
        bins: Bin counts per dimension, shape ``(n_bins,)``, increasing, each >= 1.
        entries: Q-table entries of each bin count, shape ``(n_bins,)``.
        visited: Fraction of entries ``(s, a)`` updated at least once, in [0, 1], shape
            ``(n_bins, n_seeds)``.
        returns: Mean return of the greedy policy after training, shape ``(n_bins, n_seeds)``.
        step_budget: Environment steps each run trained for (>= 1).
        max_return: The largest return an episode can have (500 for CartPole-v1), > 0.
        copied_returns: Optional return of a good hand-made controller copied into the table
            cell by cell (what the grid *can* represent), shape ``(n_bins,)``.
    """

    bins: np.ndarray
    entries: np.ndarray
    visited: np.ndarray
    returns: np.ndarray
    step_budget: int
    max_return: float = 500.0
    copied_returns: np.ndarray | None = None

    def __post_init__(self) -> None:
        bins = np.asarray(self.bins)
        if bins.ndim != 1 or bins.size == 0 or not np.issubdtype(bins.dtype, np.integer):
            raise ValueError(f"bins must be a non-empty 1-D integer array, got {bins!r}")
        if bins.min() < 1 or np.any(np.diff(bins) <= 0):
            raise ValueError(f"bins must be increasing counts >= 1, got {bins.tolist()}")
        n_bins = bins.size
        entries = np.asarray(self.entries)
        if entries.shape != (n_bins,) or entries.min() < 1:
            raise ValueError(f"entries must be {n_bins} counts >= 1, got shape {entries.shape}")
        visited = np.asarray(self.visited, dtype=float)
        returns = np.asarray(self.returns, dtype=float)
        if visited.ndim != 2 or visited.shape[0] != n_bins or visited.shape[1] < 1:
            raise ValueError(f"visited must have shape ({n_bins}, n_seeds), got {visited.shape}")
        if returns.shape != visited.shape:
            raise ValueError(
                f"returns must have the shape of visited {visited.shape}, got {returns.shape}"
            )
        if np.any((visited < 0) | (visited > 1)) or np.isnan(visited).any():
            raise ValueError("visited must hold fractions in [0, 1]")
        if np.isnan(returns).any():
            raise ValueError("returns must not contain NaN")
        if self.copied_returns is not None:
            copied = np.asarray(self.copied_returns, dtype=float)
            if copied.shape != (n_bins,) or np.isnan(copied).any():
                raise ValueError(f"copied_returns must have shape ({n_bins},) without NaN")
            object.__setattr__(self, "copied_returns", copied)
        check_int("step_budget", self.step_budget, minimum=1)
        check_float("max_return", self.max_return, low=0.0, low_inclusive=False)
        # Frozen dataclass: store the checked arrays through object.__setattr__.
        object.__setattr__(self, "bins", bins.astype(np.int64))
        object.__setattr__(self, "entries", entries.astype(np.int64))
        object.__setattr__(self, "visited", visited)
        object.__setattr__(self, "returns", returns)

    @property
    def n_seeds(self) -> int:
        """Number of seeds (columns of ``visited`` and ``returns``)."""
        return int(self.visited.shape[1])

    def index(self, bins: int) -> int:
        """Return the row of bin count ``bins``; raise ValueError if it was not swept."""
        bins = check_int("bins", bins, minimum=1)
        matches = np.flatnonzero(self.bins == bins)
        if matches.size == 0:
            raise ValueError(
                f"bins must be one of the swept counts {self.bins.tolist()}, got {bins}"
            )
        return int(matches[0])

    def summary(self, bins: int) -> str:
        """Return one sentence on bin count ``bins``: table size, filled share and return."""
        i = self.index(bins)
        r = self.returns[i]
        return (
            f"{bins} bins per dimension: {self.entries[i]:,} table entries, "
            f"{100 * self.visited[i].mean():.1f}% visited in {self.step_budget:,} steps; "
            f"greedy return {r.mean():.0f} (seeds: {r.min():.0f} to {r.max():.0f}) "
            f"of at most {self.max_return:.0f}"
        )
