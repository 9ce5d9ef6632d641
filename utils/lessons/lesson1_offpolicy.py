"""Lesson 1: what the greedy policy achieves while Q-learning trains epsilon-greedily.

Q-learning is **off-policy**: it learns the values of the greedy policy while it behaves
epsilon-greedily. Its training episodes therefore succeed less often than the policy it is
learning. This module measures both sides exactly, from the environment's model:

- :func:`q_learning_tracked`: Q-learning (the core :func:`utils.tabular.q_learning`, run in
  chunks that carry the table and the epsilon schedule on) that also records the exact success
  probability of the greedy policy after every chunk.
- :func:`epsilon_greedy_value_iteration`: the values of the best epsilon-greedy policy (the
  fixed point of expected Sarsa's target with the same epsilon).
- :func:`epsilon_greedy_success`: the exact success probability of a policy followed
  epsilon-greedily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from utils._checks import check_int, check_probability, check_seed
from utils.schedules import as_schedule
from utils.seeding import make_rng
from utils.tabular import (
    QLearningResult,
    greedy_policy,
    mdp_arrays,
    q_learning,
    success_probability,
)

__all__ = [
    "TrackedRun",
    "epsilon_greedy_success",
    "epsilon_greedy_value_iteration",
    "q_learning_tracked",
]


@dataclass(frozen=True)
class TrackedRun:
    """A Q-learning run with the greedy policy's exact success recorded along the way.

    Attributes:
        result: The whole run as one :class:`utils.tabular.QLearningResult` (returns, lengths,
            epsilons, visit counts and seconds over all chunks; distances at chunk ends).
        record_episodes: Episode counts of the records, shape ``(n_records,)`` (0 first).
        greedy_success: Exact success probability of the greedy policy of the table at those
            counts, shape ``(n_records,)``.
    """

    result: QLearningResult
    record_episodes: np.ndarray
    greedy_success: np.ndarray


def q_learning_tracked(
    env: gym.Env,
    *,
    episodes: int,
    every: int = 250,
    seed: int = 0,
    epsilon: float | Callable[[int], float] = 0.1,
    q_star: np.ndarray | None = None,
    **kwargs: object,
) -> TrackedRun:
    """Run Q-learning in chunks of ``every`` episodes, recording the greedy policy's success.

    Each chunk is one call of :func:`utils.tabular.q_learning` that starts from the table the
    previous chunk ended with (``q_init``) and continues the epsilon schedule where it stopped;
    chunk ``k`` is seeded with the ``k``-th number drawn from ``make_rng(seed)``, so the whole
    run is reproducible from ``seed`` (it is not the same run as one call with ``seed``).

    Args:
        env: A toy-text env with ``Discrete`` spaces and a model (for the exact success).
        episodes: Training episodes (a multiple of ``every``).
        every: Episodes per chunk (>= 1).
        seed: Seed of the run.
        epsilon: Constant exploration rate or schedule of the episode index.
        q_star: Optional exact table: ``||Q - Q*||_inf`` is recorded at every chunk end.
        **kwargs: Passed to ``q_learning`` (``alpha``, ``gamma``, ``distance_states``, ...).

    Returns:
        A :class:`TrackedRun`.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    every = check_int("every", every, minimum=1)
    episodes = check_int("episodes", episodes, minimum=every)
    if episodes % every:
        raise ValueError(f"episodes must be a multiple of every={every}, got {episodes}")
    seed = check_seed("seed", seed)
    schedule = as_schedule(epsilon, "epsilon")
    for name in ("q_init", "record_every", "episodes", "seed", "epsilon"):
        if name in kwargs:
            raise ValueError(f"{name} is set by q_learning_tracked, do not pass it")
    n_chunks = episodes // every
    chunk_seeds = make_rng(seed).integers(0, 2**31 - 1, size=n_chunks).tolist()
    q = np.zeros((env.observation_space.n, env.action_space.n))
    success = [success_probability(env, greedy_policy(q))]
    parts: list[QLearningResult] = []
    for k, chunk_seed in enumerate(chunk_seeds):
        offset = k * every
        part = q_learning(
            env, episodes=every, seed=int(chunk_seed), q_init=q, q_star=q_star,
            record_every=every, epsilon=lambda e, o=offset: schedule(o + e), **kwargs,
        )  # fmt: skip
        q = part.q_table
        parts.append(part)
        success.append(success_probability(env, greedy_policy(q)))
    distances = np.zeros(0)
    if q_star is not None:
        distances = np.array([parts[0].distances[0]] + [p.distances[-1] for p in parts])
    result = QLearningResult(
        q_table=q,
        episode_returns=np.concatenate([p.episode_returns for p in parts]),
        episode_lengths=np.concatenate([p.episode_lengths for p in parts]),
        episode_epsilons=np.concatenate([p.episode_epsilons for p in parts]),
        distance_episodes=np.arange(0, episodes + 1, every) if q_star is not None else
        np.zeros(0, dtype=np.int64),
        distances=distances,
        seconds=float(sum(p.seconds for p in parts)),
        visit_counts=sum(p.visit_counts for p in parts),
    )  # fmt: skip
    return TrackedRun(result, np.arange(0, episodes + 1, every), np.array(success))


def _epsilon_greedy_matrix(policy: np.ndarray, n_actions: int, epsilon: float) -> np.ndarray:
    probs = np.full((policy.size, n_actions), epsilon / n_actions)
    probs[np.arange(policy.size), policy] += 1.0 - epsilon
    return probs


def epsilon_greedy_value_iteration(
    env: gym.Env, *, gamma: float, epsilon: float, tolerance: float = 1e-10
) -> np.ndarray:
    """Return ``Q`` of the best epsilon-greedy policy by value iteration.

    Iterates ``Q(s, a) = E[r + gamma * (1 - terminated) * ((1 - eps) * max_a' Q(s', a')
    + eps * mean_a' Q(s', a'))]`` to its fixed point: the table expected Sarsa converges to
    when it keeps exploring with ``epsilon``.

    Args:
        env: A toy-text env with a model ``env.unwrapped.P``.
        gamma: Discount in [0, 1).
        epsilon: Exploration rate in [0, 1].
        tolerance: Stop when no entry moves by more than this (> 0).

    Returns:
        The table, shape ``(n_states, n_actions)``.
    """
    gamma = check_probability("gamma", gamma)
    if gamma >= 1.0:
        raise ValueError(f"gamma must be < 1 for value iteration to converge, got {gamma}")
    epsilon = check_probability("epsilon", epsilon)
    if not tolerance > 0:
        raise ValueError(f"tolerance must be > 0, got {tolerance}")
    mdp = mdp_arrays(env)
    q = np.zeros_like(mdp.reward)
    for _ in range(100_000):
        v = (1.0 - epsilon) * q.max(axis=1) + epsilon * q.mean(axis=1)
        new = mdp.reward + gamma * mdp.transition @ v
        if np.abs(new - q).max() < tolerance:
            return new
        q = new
    raise RuntimeError("epsilon-greedy value iteration did not converge")


def epsilon_greedy_success(
    env: gym.Env, policy: np.ndarray, epsilon: float, max_steps: int | None = None
) -> float:
    """Return the exact probability that ``policy``, followed epsilon-greedily, reaches the goal.

    As :func:`utils.tabular.success_probability`, but in every state the action is
    ``policy[s]`` with probability ``1 - epsilon`` and uniformly random otherwise.

    Args:
        env: A toy-text env with a model ``env.unwrapped.P``.
        policy: One action per state, shape ``(n_states,)``.
        epsilon: Exploration rate in [0, 1].
        max_steps: Horizon (>= 1); ``None`` uses the env's time limit.

    Returns:
        The success probability in [0, 1].
    """
    epsilon = check_probability("epsilon", epsilon)
    mdp = mdp_arrays(env)
    n_states, n_actions = mdp.reward.shape
    policy = np.asarray(policy)
    if policy.shape != (n_states,) or not np.issubdtype(policy.dtype, np.integer):
        raise ValueError(f"policy must be an integer array of shape ({n_states},)")
    if policy.min() < 0 or policy.max() >= n_actions:
        raise ValueError(f"policy actions must be in [0, {n_actions - 1}]")
    if max_steps is None:
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
        if max_steps is None:
            raise ValueError("max_steps must be given: env has no time limit (spec)")
    max_steps = check_int("max_steps", max_steps, minimum=1)
    probs = _epsilon_greedy_matrix(policy, n_actions, epsilon)
    step = np.einsum("sa,sat->st", probs, mdp.transition)
    goal = (probs * mdp.success).sum(axis=1)
    d = mdp.initial.copy()
    success = 0.0
    for _ in range(max_steps):
        success += float(d @ goal)
        d = d @ step
    return success
