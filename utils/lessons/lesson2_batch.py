"""Lesson 2's fast tables: many CartPole Q-tables trained side by side in NumPy.

One :func:`utils.tabular.q_learning` run steps a Gymnasium env and a Python table one step at
a time; the lesson compares dozens of tables (bin counts, grids, initial values, ten seeds
each), so :func:`train_tables` trains them all in one loop: the poles are
:class:`utils.engine.vector_envs.CartPoles` (Gymnasium's equations on arrays), every agent
has its own grid, table, start states and random numbers, and one step of all of them is a
few array operations. The update is Lesson 1's, with the terminal mask:
``Q[s, a] += alpha * (r + gamma * (1 - terminated) * max_a' Q[s', a'] - Q[s, a])``.

- :func:`uniform_edges`: the inner edges of ``b`` equal bins per dimension (what
  :class:`utils.discretize.DiscretizeObservation` cuts), to pass as a grid.
- :func:`train_tables` (:class:`TableBatch`): train and evaluate K tables at once.
- :func:`greedy_returns`: evaluate K greedy tables on the episodes
  :func:`utils.evaluation.evaluate` would run with the same seeds.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.discretize import CARTPOLE_HIGH, CARTPOLE_LOW
from utils.engine.vector_envs import CartPoles
from utils.seeding import make_rng

__all__ = ["TableBatch", "greedy_returns", "train_tables", "uniform_edges"]

Grid = Sequence[Sequence[float]]
_BLOCK = 1024  # random numbers drawn per agent at a time
_ENV_ID = "CartPole-v1"


def uniform_edges(
    bins: int | Sequence[int],
    low: Sequence[float] = CARTPOLE_LOW,
    high: Sequence[float] = CARTPOLE_HIGH,
) -> tuple[tuple[float, ...], ...]:
    """Return the inner edges of equal-width bins: ``b - 1`` edges per dimension.

    Args:
        bins: Bins per dimension: one int for all four, or four ints, each >= 1.
        low, high: Clipping bounds, shape ``(4,)``; default CartPole's.

    Returns:
        Four tuples of edges ``low + i * (high - low) / b`` for ``i = 1 .. b - 1``.
    """
    counts = [bins] * len(low) if isinstance(bins, int | np.integer) else list(bins)
    if len(counts) != len(low) or len(high) != len(low):
        raise ValueError(f"bins, low and high must have {len(low)} entries")
    counts = [check_int(f"bins[{d}]", b, minimum=1) for d, b in enumerate(counts)]
    return tuple(
        tuple(float(lo + i * (hi - lo) / b) for i in range(1, b))
        for lo, hi, b in zip(low, high, counts, strict=True)
    )


class _Grids:
    """K grids as padded arrays: ``row(obs)`` numbers each agent's box as EdgesObservation."""

    def __init__(self, grids: Sequence[Grid]) -> None:
        dims = len(grids[0])
        self.bins = np.array([[len(e) + 1 for e in g] for g in grids], dtype=np.int64)  # (K, D)
        if self.bins.shape != (len(grids), dims):
            raise ValueError("grids must all have the same number of dimensions")
        width = max(1, int(self.bins.max()) - 1)
        self.edges = np.full((len(grids), dims, width), np.inf)  # +inf: never <= a value
        for k, grid in enumerate(grids):
            for d, inner in enumerate(grid):
                values = np.asarray(inner, dtype=float)
                if values.size and (np.any(np.diff(values) <= 0) or not np.isfinite(values).all()):
                    raise ValueError(f"grids[{k}][{d}] must be finite and strictly increasing")
                self.edges[k, d, : values.size] = values
        # Row-major numbering: stride of dimension d is the product of the later bin counts.
        self.strides = np.cumprod(self.bins[:, ::-1], axis=1)[:, ::-1]
        self.strides = np.concatenate([self.strides[:, 1:], np.ones((len(grids), 1), int)], 1)
        self.n_states = self.bins.prod(axis=1)
        self.offsets = np.concatenate([[0], np.cumsum(self.n_states)[:-1]])

    def rows(self, obs: np.ndarray, agents: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Return the flat table row of each observation ``(n, D)`` for ``agents`` ``(n,)``."""
        cells = (obs[:, :, None] >= self.edges[agents]).sum(axis=2)  # bisect_right, (n, D)
        return self.offsets[agents] + (cells * self.strides[agents]).sum(axis=1)


@dataclass(frozen=True)
class TableBatch:
    """K tables trained side by side (what :func:`train_tables` returns).

    Attributes:
        seeds: Training seed of each agent, shape ``(K,)``.
        n_states: Rows of each agent's table, shape ``(K,)``.
        q_tables: Agent k's learned table, shape ``(n_states[k], 2)``, one per agent.
        visit_counts: Updates of each entry, same shapes.
        returns: Mean greedy return after training per agent over the evaluation episodes,
            shape ``(K,)``.
        checkpoint_steps: Steps at which the greedy policy was also evaluated, ``(C,)``.
        checkpoint_returns: Its mean return there, shape ``(K, C)``.
        episode_end_steps: Per agent, the step at which each training episode ended.
        episode_returns: Per agent, the return of each training episode (its length).
        step_budget: Environment steps every agent took.
        seconds: Wall time of training.
    """

    seeds: np.ndarray
    n_states: np.ndarray
    q_tables: list[np.ndarray]
    visit_counts: list[np.ndarray]
    returns: np.ndarray
    checkpoint_steps: np.ndarray
    checkpoint_returns: np.ndarray
    episode_end_steps: list[np.ndarray]
    episode_returns: list[np.ndarray]
    step_budget: int
    seconds: float

    @property
    def visited(self) -> np.ndarray:
        """Share of each agent's entries ``(s, a)`` updated at least once, shape ``(K,)``."""
        return np.array([np.mean(c > 0) for c in self.visit_counts])

    @property
    def one_action_untried(self) -> np.ndarray:
        """Per agent, the share of visited states in which one action was never tried."""
        shares = []
        for c in self.visit_counts:
            seen = c.sum(axis=1) > 0
            shares.append(float((c[seen] == 0).any(axis=1).mean()))
        return np.array(shares)

    def window_returns(self, k: int, window: int) -> np.ndarray:
        """Mean return of agent k's training episodes that ended in each ``window`` of steps.

        Returns:
            Shape ``(step_budget // window,)``; NaN where no episode ended in a window.
        """
        window = check_int("window", window, minimum=1, maximum=self.step_budget)
        n = self.step_budget // window
        which = (self.episode_end_steps[k] - 1) // window
        keep = which < n
        sums = np.bincount(which[keep], weights=self.episode_returns[k][keep], minlength=n)
        counts = np.bincount(which[keep], minlength=n)
        with np.errstate(invalid="ignore"):
            return sums / counts


def _as_list(name: str, value: float | Sequence[float], k: int, check) -> list[float]:
    values = [value] * k if isinstance(value, int | float | np.number) else list(value)
    if len(values) != k:
        raise ValueError(f"{name} must be a number or have one entry per agent ({k})")
    return [check(name, v) for v in values]


def train_tables(
    grids: Sequence[Grid],
    seeds: Sequence[int],
    *,
    step_budget: int,
    q_init: float | Sequence[float] = 0.0,
    alpha: float = 0.2,
    gamma: float = 0.99,
    epsilon: float = 0.05,
    eval_episodes: int = 20,
    eval_seed: int = 10_000,
    checkpoints: Sequence[int] = (),
    progress: bool = False,
) -> TableBatch:
    """Train one CartPole Q-table per agent, all in one loop, and evaluate their greedy policies.

    Agent ``k`` bins the observation with ``grids[k]`` (inner edges per dimension, numbered as
    :class:`utils.lessons.lesson2_grids.EdgesObservation`), starts its table at
    ``q_init[k]``, resets its pole as ``env.reset(seed=seeds[k])`` would, and draws its
    exploration from ``make_rng(seeds[k])``: what it learns does not depend on the other
    agents. Exploration is epsilon-greedy with ties broken at random; every agent takes
    exactly ``step_budget`` steps; ``truncated`` only ends an episode. The greedy policy
    (ties to action 0, as :func:`utils.tabular.greedy_policy`) of agent ``k`` is evaluated
    on the ``eval_episodes`` episodes of ``evaluate(env, policy, eval_episodes,
    seed=eval_seed + seeds[k])``.

    Args:
        grids: One grid per agent: D sequences of strictly increasing inner edges
            (:func:`uniform_edges`, :data:`~utils.lessons.lesson2_grids.BOXES_EDGES`).
        seeds: One training seed per agent (the same seed may serve several grids).
        step_budget: Environment steps per agent (>= 1).
        q_init: Initial value of every entry: one number, or one per agent.
        alpha: Step size in (0, 1].
        gamma: Discount factor in [0, 1].
        epsilon: Constant exploration rate in [0, 1].
        eval_episodes: Evaluation episodes per agent (>= 1).
        eval_seed: Added to each agent's seed to seed its evaluation.
        checkpoints: Steps (each in [1, step_budget)) at which the greedy policy is also
            evaluated.
        progress: Show a tqdm progress bar.

    Returns:
        A :class:`TableBatch`.

    Raises:
        TypeError, ValueError: On a bad argument, before any step (the message names it).
    """
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    seeds = [check_seed("seeds[i]", s) for s in seeds]
    k_agents = len(seeds)
    if not isinstance(grids, Sequence) or len(grids) != k_agents:
        raise ValueError(f"grids must hold one grid per seed ({k_agents})")
    table = _Grids(grids)
    if table.bins.shape[1] != 4:
        raise ValueError("each grid must have 4 edge sequences (CartPole's dimensions)")
    step_budget = check_int("step_budget", step_budget, minimum=1)
    q_inits = np.array(_as_list("q_init", q_init, k_agents, check_float))
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
    gamma = check_probability("gamma", gamma)
    epsilon = check_probability("epsilon", epsilon)
    eval_episodes = check_int("eval_episodes", eval_episodes, minimum=1)
    eval_seed = check_int("eval_seed", eval_seed, minimum=0)
    checkpoints = sorted(
        check_int("checkpoints[i]", c, minimum=1, maximum=step_budget - 1) for c in checkpoints
    )

    q = np.repeat(q_inits, 2 * table.n_states)  # flat: entry (s, a) of agent k at 2 * s + a
    counts = np.zeros(q.size, dtype=np.int64)
    rngs = [make_rng(s) for s in seeds]
    envs = CartPoles(_ENV_ID, seeds)
    agents = np.arange(k_agents)
    lengths = np.zeros(k_agents, dtype=np.int64)
    ended: list[tuple[np.ndarray, int, np.ndarray]] = []
    saved: list[np.ndarray] = []
    rows = table.rows(envs.reset())
    bar = tqdm(total=step_budget, disable=not progress, desc=f"{k_agents} tables")
    start = time.perf_counter()
    for t in range(step_budget):
        if t % _BLOCK == 0:  # each agent's own numbers, so no agent depends on another
            explore = np.stack([r.random(_BLOCK) for r in rngs], axis=1) < epsilon
            coin = np.stack([r.random(_BLOCK) for r in rngs], axis=1) < 0.5
            bar.update(min(_BLOCK, step_budget - t))
        q0, q1 = q[2 * rows], q[2 * rows + 1]
        j = t % _BLOCK
        actions = np.where(explore[j] | (q0 == q1), coin[j], q1 > q0).astype(np.int64)
        obs, final_obs, rewards, terminated, truncated = envs.step(actions)
        next_rows = table.rows(final_obs)
        best_next = np.maximum(q[2 * next_rows], q[2 * next_rows + 1])
        target = rewards + gamma * (1.0 - terminated) * best_next
        entry = 2 * rows + actions
        q[entry] += alpha * (target - q[entry])
        counts[entry] += 1  # entries of different agents never coincide
        lengths += 1
        done = terminated | truncated
        if done.any():
            which = np.flatnonzero(done)
            ended.append((which, t + 1, lengths[which].copy()))
            lengths[which] = 0
            next_rows = next_rows.copy()
            next_rows[which] = table.rows(obs[which], which)
        rows = next_rows
        if len(saved) < len(checkpoints) and t + 1 == checkpoints[len(saved)]:
            saved.append(q.copy())
    bar.close()
    seconds = time.perf_counter() - start

    eval_seeds = [eval_seed + s for s in seeds]
    returns = greedy_returns(table, q, eval_seeds, eval_episodes).mean(axis=1)
    at = np.stack([greedy_returns(table, qc, eval_seeds, eval_episodes).mean(axis=1)
                   for qc in saved], axis=1) if saved else np.zeros((k_agents, 0))  # fmt: skip
    end_steps = [[] for _ in agents]
    end_returns = [[] for _ in agents]
    for which, step, length in ended:
        for k, n in zip(which.tolist(), length.tolist(), strict=True):
            end_steps[k].append(step)
            end_returns[k].append(float(n))
    bounds = np.concatenate([table.offsets, [table.n_states.sum()]])
    return TableBatch(
        seeds=np.array(seeds),
        n_states=table.n_states.copy(),
        q_tables=[q[2 * a : 2 * b].reshape(-1, 2) for a, b in itertools.pairwise(bounds)],
        visit_counts=[counts[2 * a : 2 * b].reshape(-1, 2) for a, b in itertools.pairwise(bounds)],
        returns=returns,
        checkpoint_steps=np.array(checkpoints, dtype=np.int64),
        checkpoint_returns=at,
        episode_end_steps=[np.array(s, dtype=np.int64) for s in end_steps],
        episode_returns=[np.array(r) for r in end_returns],
        step_budget=step_budget,
        seconds=seconds,
    )


def greedy_returns(
    grids: Sequence[Grid] | _Grids,
    q_tables: Sequence[np.ndarray] | np.ndarray,
    seeds: Sequence[int],
    episodes: int,
) -> np.ndarray:
    """Return the returns of K greedy tables, all poles simulated in one array.

    Agent ``k`` meets the episodes ``evaluate(env, greedy_policy(q_tables[k]), episodes,
    seed=seeds[k])`` meets: its first reset uses ``seeds[k]`` and the next ones continue that
    generator. The greedy action breaks ties towards action 0.

    Args:
        grids: One grid per agent (as in :func:`train_tables`).
        q_tables: One table per agent, shape ``(n_states_k, 2)``.
        seeds: One evaluation seed per agent.
        episodes: Episodes per agent (>= 1).

    Returns:
        Undiscounted returns, shape ``(K, episodes)``.
    """
    table = grids if isinstance(grids, _Grids) else _Grids(grids)
    k_agents = len(table.n_states)
    if isinstance(q_tables, np.ndarray) and q_tables.ndim == 1:
        q = q_tables  # already flat (from train_tables)
    else:
        if len(q_tables) != k_agents:
            raise ValueError(f"q_tables must hold one table per grid ({k_agents})")
        for k, (qk, n) in enumerate(zip(q_tables, table.n_states, strict=True)):
            if np.shape(qk) != (n, 2):
                raise ValueError(f"q_tables[{k}] must have shape ({n}, 2), got {np.shape(qk)}")
        q = np.concatenate([np.asarray(qk, dtype=float).reshape(-1) for qk in q_tables])
    if len(seeds) != k_agents:
        raise ValueError(f"seeds must hold one seed per grid ({k_agents})")
    episodes = check_int("episodes", episodes, minimum=1)
    starts = np.concatenate([
        gym.utils.seeding.np_random(check_seed("seeds[i]", s))[0].uniform(
            low=-0.05, high=0.05, size=(episodes, 4)
        )
        for s in seeds
    ])  # fmt: skip
    owner = np.repeat(np.arange(k_agents), episodes)
    poles = CartPoles(_ENV_ID, [0] * len(owner))
    poles.state = starts.T.copy()
    obs = starts.astype(np.float32)
    alive = np.ones(len(owner), dtype=bool)
    returns = np.zeros(len(owner))
    while alive.any():
        rows = table.rows(obs, owner)
        actions = (q[2 * rows + 1] > q[2 * rows]).astype(np.int64)
        _, final_obs, rewards, terminated, truncated = poles.step(actions)
        returns += alive * rewards
        alive &= ~(terminated | truncated)
        obs = final_obs
    return returns.reshape(k_agents, episodes)
