"""Lesson 2: a fair trial for the CartPole table (designed grids, optimism, borrowed values).

- :data:`BOXES_EDGES` and :class:`EdgesObservation` (:func:`make_boxes_cartpole`): a grid with
  hand-placed edges per dimension, such as the 162 boxes of Barto, Sutton and Anderson (1983),
  fine near the upright pole and coarse elsewhere.
- :func:`fill_unvisited`: give every never-visited state the values of the nearest visited
  one, the crudest way to generalise from similar states.
- :func:`grid_trial` (:class:`GridTrial`): train one table per seed on the same step budget
  and record what the lesson compares (greedy return, share of states visited, share of
  visited states where one action was never tried).
- :func:`plot_fair_trial` (with :func:`draw_iqm_bars`): the greedy return of each variant
  against the steps trained, IQM over seeds with bootstrap 95% intervals.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.envs import make_env
from utils.evaluation import evaluate
from utils.figures import figure_and_axes
from utils.stats import bootstrap_ci, iqm
from utils.tabular import greedy_policy, q_learning

__all__ = [
    "BOXES_EDGES",
    "EdgesObservation",
    "GridTrial",
    "draw_iqm_bars",
    "fill_unvisited",
    "grid_trial",
    "make_boxes_cartpole",
    "plot_fair_trial",
]

_DEGREE = math.pi / 180.0

#: Inner edges of the 162 boxes of Barto, Sutton and Anderson (1983), in CartPole-v1's units
#: (m, m/s, rad, rad/s): cart position at +-0.8 m (3 boxes), cart velocity at +-0.5 m/s (3),
#: pole angle at 0, +-1 and +-6 degrees (6), pole angular velocity at +-50 degrees/s (3).
BOXES_EDGES: tuple[tuple[float, ...], ...] = (
    (-0.8, 0.8),
    (-0.5, 0.5),
    (-6 * _DEGREE, -1 * _DEGREE, 0.0, 1 * _DEGREE, 6 * _DEGREE),
    (-50 * _DEGREE, 50 * _DEGREE),
)


class EdgesObservation(gym.ObservationWrapper):
    """Replace a ``Box`` observation by the number of its box in a grid with given edges.

    Dimension ``d`` is cut at the increasing inner edges ``edges[d]`` into ``len(edges[d]) + 1``
    boxes (box ``i`` holds ``edges[d][i-1] <= x < edges[d][i]``; the end boxes are open), and
    the boxes are numbered row-major as in :class:`utils.discretize.DiscretizeObservation`.

    Args:
        env: An environment with a 1-D ``Box`` observation space of ``D`` dimensions.
        edges: ``D`` sequences of finite, strictly increasing inner edges (a sequence may be
            empty: one box for that dimension).

    Raises:
        TypeError: If ``env`` has no 1-D ``Box`` observation space.
        ValueError: If ``edges`` has the wrong length or an edge list is not increasing.
    """

    def __init__(self, env: gym.Env, edges: Sequence[Sequence[float]]) -> None:
        if not isinstance(env, gym.Env):
            raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"env must have a 1-D Box observation space, got {space}")
        if len(edges) != space.shape[0]:
            raise ValueError(
                f"edges must have one sequence per dimension ({space.shape[0]}), got {len(edges)}"
            )
        checked = []
        for d, inner in enumerate(edges):
            values = [check_float(f"edges[{d}]", v) for v in inner]
            if not all(math.isfinite(v) for v in values) or any(
                b <= a for a, b in itertools.pairwise(values)
            ):
                raise ValueError(f"edges[{d}] must be finite and strictly increasing, got {values}")
            checked.append(tuple(values))
        super().__init__(env)
        self.edges: tuple[tuple[float, ...], ...] = tuple(checked)
        self.bins: tuple[int, ...] = tuple(len(e) + 1 for e in checked)
        self.n_states: int = math.prod(self.bins)
        self.observation_space = gym.spaces.Discrete(self.n_states)

    def cell(self, observation: np.ndarray) -> tuple[int, ...]:
        """Return the box of each dimension of ``observation`` (shape ``(D,)``), a D-tuple."""
        values = np.asarray(observation, dtype=float).reshape(-1).tolist()
        if len(values) != len(self.bins):
            raise ValueError(f"observation must have {len(self.bins)} entries, got {len(values)}")
        return tuple(bisect.bisect_right(e, v) for e, v in zip(self.edges, values, strict=True))

    def observation(self, observation: np.ndarray) -> int:
        """Return the state number of ``observation`` (shape ``(D,)``), in ``[0, n_states)``."""
        index = 0
        for v, e, b in zip(observation.tolist(), self.edges, self.bins, strict=True):
            index = index * b + bisect.bisect_right(e, v)
        return index

    def cell_centres(self, low: Sequence[float], high: Sequence[float]) -> np.ndarray:
        """Return a representative point of every box, row ``s`` for state ``s``: ``(n_states, D)``.

        Inner boxes give their midpoint; the open end boxes are closed at ``low``/``high``.

        Args:
            low, high: Outer bounds per dimension, shape ``(D,)``, outside the inner edges.
        """
        axes = []
        for d, inner in enumerate(self.edges):
            lo, hi = check_float(f"low[{d}]", low[d]), check_float(f"high[{d}]", high[d])
            points = (lo, *inner, hi)
            if any(b <= a for a, b in itertools.pairwise(points)):
                raise ValueError(f"low[{d}] and high[{d}] must lie outside edges[{d}]")
            axes.append((np.array(points[:-1]) + np.array(points[1:])) / 2)
        grids = np.meshgrid(*axes, indexing="ij")
        return np.stack([g.reshape(-1) for g in grids], axis=1)


def make_boxes_cartpole(
    edges: Sequence[Sequence[float]] = BOXES_EDGES, seed: int | None = None, **kwargs: Any
) -> EdgesObservation:
    """Create ``CartPole-v1`` (via :func:`utils.envs.make_env`) with a designed grid of boxes.

    Args:
        edges: Inner edges per dimension; default :data:`BOXES_EDGES` (162 boxes).
        seed: Optional seed, as in :func:`utils.envs.make_env`.
        **kwargs: Passed to :func:`utils.envs.make_env`.

    Returns:
        The environment; its observation space is ``Discrete(n_boxes)``.
    """
    return EdgesObservation(make_env("CartPole-v1", seed=seed, **kwargs), edges)


def fill_unvisited(q_table: np.ndarray, visited: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Return a copy of ``q_table`` in which every unvisited state borrows a visited one's row.

    State ``s`` with ``visited[s] == False`` gets the row of the visited state whose centre is
    nearest to ``centres[s]`` (Euclidean distance; ties go to the lowest state number).
    Visited rows are kept as they are.

    Args:
        q_table: Shape ``(n_states, n_actions)``.
        visited: Boolean mask, shape ``(n_states,)``; at least one True.
        centres: Shape ``(n_states, D)``: where each state sits (scale the dimensions first so
            that one unit means the same in each, e.g. divide by the bin widths).

    Returns:
        The filled table, same shape, float64.

    Raises:
        ValueError: If the shapes disagree or no state was visited.
    """
    q = np.asarray(q_table, dtype=float)
    mask = np.asarray(visited)
    points = np.asarray(centres, dtype=float)
    if q.ndim != 2 or mask.shape != (q.shape[0],) or mask.dtype != bool:
        raise ValueError(
            f"visited must be a boolean mask of shape ({q.shape[0]},) for a 2-D q_table"
        )
    if points.ndim != 2 or points.shape[0] != q.shape[0]:
        raise ValueError(f"centres must have shape ({q.shape[0]}, D), got {points.shape}")
    if not mask.any():
        raise ValueError("visited must mark at least one state")
    filled = q.copy()
    sources = np.flatnonzero(mask)
    targets = np.flatnonzero(~mask)
    for start in range(0, targets.size, 2048):  # in chunks: a few MB of distances at a time
        chunk = targets[start : start + 2048]
        d2 = ((points[chunk, None, :] - points[None, sources, :]) ** 2).sum(axis=2)
        filled[chunk] = q[sources[np.argmin(d2, axis=1)]]
    return filled


@dataclass(frozen=True)
class GridTrial:
    """One grid trained on several seeds with the same budget (what :func:`grid_trial` returns).

    Attributes:
        n_states: Rows of the table.
        returns: Mean greedy return per seed, shape ``(n_seeds,)``.
        visited: Share of states visited at least once per seed, shape ``(n_seeds,)``.
        one_action_untried: Per seed, the share of visited states in which some action was
            never tried, shape ``(n_seeds,)``.
        q_tables: The learned tables, shape ``(n_seeds, n_states, n_actions)``.
        visit_counts: Updates per entry, same shape.
        seconds: Training seconds per seed, shape ``(n_seeds,)``.
    """

    n_states: int
    returns: np.ndarray
    visited: np.ndarray
    one_action_untried: np.ndarray
    q_tables: np.ndarray
    visit_counts: np.ndarray
    seconds: np.ndarray


def grid_trial(
    env: gym.Env,
    seeds: Sequence[int],
    *,
    step_budget: int,
    q_init: float = 0.0,
    alpha: float = 0.2,
    gamma: float = 0.99,
    epsilon: float = 0.05,
    eval_episodes: int = 20,
    eval_seed: int = 10_000,
) -> GridTrial:
    """Train one Q-table per seed for ``step_budget`` steps and evaluate its greedy policy.

    Args:
        env: A binned environment (``Discrete`` observations), e.g.
            :func:`utils.discretize.make_discrete_cartpole` or :func:`make_boxes_cartpole`.
        seeds: Training seeds; the greedy policy of seed ``k`` is evaluated with seed
            ``eval_seed + k``.
        step_budget: Environment steps per seed (>= 1).
        q_init: Initial value of every entry (``1 / (1 - gamma)`` is optimistic on CartPole).
        alpha, gamma, epsilon: As in :func:`utils.tabular.q_learning` (epsilon constant).
        eval_episodes: Evaluation episodes per seed (>= 1).
        eval_seed: Base seed of the evaluation episodes.

    Returns:
        A :class:`GridTrial`.
    """
    seeds = [check_seed("seeds", s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    step_budget = check_int("step_budget", step_budget, minimum=1)
    q_init = check_float("q_init", q_init)
    epsilon = check_probability("epsilon", epsilon)
    eval_episodes = check_int("eval_episodes", eval_episodes, minimum=1)
    eval_seed = check_seed("eval_seed", eval_seed)
    returns, visited, untried, tables, counts, seconds = [], [], [], [], [], []
    for seed in seeds:
        result = q_learning(
            env, episodes=step_budget, step_budget=step_budget, alpha=alpha, gamma=gamma,
            epsilon=epsilon, seed=seed, q_init=q_init,
        )  # fmt: skip
        policy = greedy_policy(result.q_table)
        returns.append(evaluate(env, policy, eval_episodes, seed=eval_seed + seed).mean_return)
        per_state = result.visit_counts
        seen = per_state.sum(axis=1) > 0
        visited.append(float(seen.mean()))
        untried.append(float((per_state[seen] == 0).any(axis=1).mean()))
        tables.append(result.q_table)
        counts.append(per_state)
        seconds.append(result.seconds)
    return GridTrial(
        n_states=int(tables[0].shape[0]),
        returns=np.array(returns),
        visited=np.array(visited),
        one_action_untried=np.array(untried),
        q_tables=np.stack(tables),
        visit_counts=np.stack(counts),
        seconds=np.array(seconds),
    )


def draw_iqm_bars(
    ax: Axes, x: Sequence[float], values: np.ndarray, *, color: Any = None, label: str = ""
) -> None:
    """Draw one IQM per x with its bootstrap 95% CI as an error bar, and every seed as a dot.

    Args:
        ax: The Axes to draw on.
        x: Positions, shape ``(n_points,)``.
        values: One number per point and seed, shape ``(n_points, n_seeds)``.
        color: Colour of the line, bars and dots.
        label: Legend label.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2 or values.shape[0] != len(x):
        raise ValueError(f"values must have shape ({len(x)}, n_seeds), got {values.shape}")
    centre = np.array([iqm(v) for v in values])
    low, high = np.array([bootstrap_ci(v) for v in values]).T
    ax.errorbar(x, centre, yerr=(centre - low, high - centre), color=color, marker="o",
                capsize=3, label=label)  # fmt: skip
    for xi, v in zip(x, values, strict=True):
        ax.scatter(np.full(v.size, xi), v, s=8, color=color, alpha=0.4)


def plot_fair_trial(
    steps: Sequence[int],
    returns: Mapping[str, np.ndarray],
    *,
    max_return: float = 500.0,
    ax: Axes | None = None,
) -> Figure:
    """Plot each variant's greedy return against the steps trained: IQM and 95% CI per point.

    Args:
        steps: Steps at which the greedy policies were evaluated, shape ``(n_points,)``.
        returns: ``{variant: array (n_seeds, n_points)}`` of mean greedy returns.
        max_return: Drawn as a dashed line (500 for CartPole-v1).
        ax: Axes to draw on; a new Figure if None.

    Returns:
        The Figure.
    """
    x = np.asarray(steps, dtype=float)
    if not isinstance(returns, Mapping) or not returns:
        raise TypeError("returns must be a non-empty mapping {variant: (n_seeds, n_points)}")
    fig, ax = figure_and_axes(ax, (7.5, 4.0))
    shift = 0.012 * (x.max() - x.min() if x.size > 1 else 1.0)  # keep the bars apart
    for i, (name, values) in enumerate(returns.items()):
        values = np.asarray(values, dtype=float)
        if values.ndim != 2 or values.shape[1] != x.size:
            raise ValueError(f"returns[{name!r}] must have shape (n_seeds, {x.size})")
        offset = (i - (len(returns) - 1) / 2) * shift
        draw_iqm_bars(ax, x + offset, values.T, color=f"C{i}", label=name)
    ax.axhline(max_return, color="0.3", linestyle="--", linewidth=1, label="maximum")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{int(s):,}" for s in x])
    ax.set_xlabel("environment steps trained")
    ax.set_ylabel("return of the greedy policy")
    ax.set_ylim(0, 1.08 * max_return)
    ax.legend(loc="upper left", fontsize="small", ncol=2)
    ax.grid(alpha=0.3)
    return fig
