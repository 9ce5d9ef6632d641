"""How a Q-table scales: bigger FrozenLake maps, table sizes, and the training a table needs
before its greedy policy is as good as the optimal one (Lesson 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from gymnasium.envs.toy_text.frozen_lake import MAPS, generate_random_map

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.envs import make_env, require_discrete_env
from utils.seeding import make_rng
from utils.tabular import greedy_policy, q_learning, success_probability, value_iteration

__all__ = [
    "NearOptimalResult",
    "episodes_to_near_optimal",
    "frozen_lake_map",
    "make_frozen_lake",
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
