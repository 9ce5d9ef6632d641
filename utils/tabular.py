"""Tabular Q-learning, and the table read as a policy.

- :func:`q_learning` - the agent: it steps a real Gymnasium environment and keeps a table
  ``Q[s, a]`` that it updates after every step with the terminal mask
  ``target = r + gamma * (1 - terminated) * max_a' Q[s', a']``; :func:`q_update` is one step.
- :func:`greedy_policy` and :func:`optimal_action_fraction` - the table read as a policy.

The exact answers it is checked against (:func:`value_iteration`, :func:`success_probability`,
...) live in :mod:`utils.mdp` and are re-exported here.

Shapes: ``n_states`` rows (one per observation of a ``Discrete`` space), ``n_actions`` columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from utils._checks import (
    check_float,
    check_int,
    check_policy_array,
    check_probability,
    check_q_table,
    check_seed,
)
from utils.envs import require_discrete_env
from utils.mdp import (
    MDPArrays,
    expected_return,
    mdp_arrays,
    reachable_states,
    success_probability,
    value_iteration,
)
from utils.schedules import as_schedule
from utils.seeding import make_rng

__all__ = [
    "MDPArrays",
    "QLearningResult",
    "expected_return",
    "greedy_policy",
    "mdp_arrays",
    "optimal_action_fraction",
    "q_learning",
    "q_update",
    "reachable_states",
    "success_probability",
    "value_iteration",
]

# Random numbers are drawn this many at a time: one NumPy call per block, not per step.
_BLOCK = 4096


# --------------------------------------------------------------------------------------
# The table as a policy
# --------------------------------------------------------------------------------------


def greedy_policy(q_table: np.ndarray) -> np.ndarray:
    """Return the greedy action of every state: ``argmax_a Q[s, a]``.

    Ties are broken deterministically towards the **lowest action index** (that is what
    :func:`numpy.argmax` does), so the same table always gives the same policy. An untouched
    row of zeros therefore maps to action 0.

    Args:
        q_table: Action values, shape ``(n_states, n_actions)``.

    Returns:
        Actions, shape ``(n_states,)``, dtype int64.

    Raises:
        TypeError: If ``q_table`` is not array-like of numbers.
        ValueError: If it is not 2-D with at least one action, or holds NaN.
    """
    q = check_q_table(q_table)
    return np.argmax(q, axis=1).astype(np.int64)


def optimal_action_fraction(
    policy: np.ndarray, q_star: np.ndarray, states: np.ndarray | None = None, atol: float = 1e-9
) -> float:
    """Return the fraction of states where ``policy`` picks an optimal action of ``q_star``.

    Ties count: where several actions share the best value (FrozenLake's cell 6, Taxi's many
    equally short routes), any of them is optimal. Comparing with ``greedy_policy(q_star)``
    instead would mark a correct choice wrong.

    Args:
        policy: One action per state, shape ``(n_states,)``.
        q_star: Exact table, shape ``(n_states, n_actions)``.
        states: Optional boolean mask ``(n_states,)`` of the states to count, e.g.
            :func:`reachable_states`; default all.
        atol: Values within ``atol`` of the best count as tied (>= 0).

    Returns:
        A fraction in [0, 1].
    """
    q_star = check_q_table(q_star, "q_star")
    n_states, n_actions = q_star.shape
    policy = check_policy_array(policy, n_states, n_actions)
    atol = check_float("atol", atol, low=0.0, finite=True)
    if states is None:
        states = np.ones(n_states, dtype=bool)
    states = np.asarray(states)
    if states.shape != (n_states,) or states.dtype != bool or not states.any():
        raise ValueError(f"states must be a non-empty boolean mask of shape ({n_states},)")
    chosen = q_star[np.arange(n_states), policy]
    optimal = chosen >= q_star.max(axis=1) - atol
    return float(optimal[states].mean())


# --------------------------------------------------------------------------------------
# Q-learning
# --------------------------------------------------------------------------------------


def q_update(
    q_table: np.ndarray,
    obs: int,
    action: int,
    reward: float,
    next_obs: int,
    terminated: bool,
    alpha: float,
    gamma: float,
) -> float:
    """Apply one Q-learning update to ``q_table`` in place and return the TD error.

    ``Q[s, a] += alpha * (r + gamma * (1 - terminated) * max_a' Q[s', a'] - Q[s, a])``.
    Truncation is not an argument: a time limit ends the loop, it never masks the target.

    Args:
        q_table: Float array, shape ``(n_states, n_actions)``, changed in place.
        obs: The state ``s`` the action was taken in.
        action: The action ``a``.
        reward: The reward ``r``.
        next_obs: The state ``s'`` the step led to.
        terminated: Whether ``s'`` is terminal (then nothing is bootstrapped from it).
        alpha: Step size in (0, 1].
        gamma: Discount factor in [0, 1].

    Returns:
        The TD error ``target - Q[s, a]`` before the update.
    """
    if not isinstance(q_table, np.ndarray) or q_table.ndim != 2:
        raise TypeError("q_table must be a 2-D numpy array (n_states, n_actions)")
    if not np.issubdtype(q_table.dtype, np.floating):
        raise TypeError(f"q_table must hold floats (an update is fractional), got {q_table.dtype}")
    n_states, n_actions = q_table.shape
    obs = check_int("obs", obs, minimum=0, maximum=n_states - 1)
    action = check_int("action", action, minimum=0, maximum=n_actions - 1)
    next_obs = check_int("next_obs", next_obs, minimum=0, maximum=n_states - 1)
    reward = check_float("reward", reward, finite=True)
    if not isinstance(terminated, (bool, np.bool_)):
        raise TypeError(f"terminated must be True or False, got {terminated!r}")
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
    gamma = check_probability("gamma", gamma)
    target = reward + gamma * (1.0 - float(bool(terminated))) * float(q_table[next_obs].max())
    td_error = target - float(q_table[obs, action])
    q_table[obs, action] += alpha * td_error
    return td_error


@dataclass
class QLearningResult:
    """What :func:`q_learning` returns.

    Attributes:
        q_table: The learned table, shape ``(n_states, n_actions)``, float64.
        episode_returns: Undiscounted return of every training episode, shape ``(episodes,)``.
        episode_lengths: Steps of every training episode, shape ``(episodes,)``, int64.
        episode_epsilons: The epsilon used in every episode, shape ``(episodes,)``.
        distance_episodes: Episode counts at which ``||Q - Q*||_inf`` was recorded, shape
            ``(n_records,)`` (0 is the initial table); empty without ``q_star``.
        distances: ``max_{s,a} |Q[s, a] - Q*[s, a]|`` at those counts, shape ``(n_records,)``.
        seconds: Wall time of the training loop.
        visit_counts: How many updates each entry ``(s, a)`` received, shape
            ``(n_states, n_actions)``, int64 (Lesson 2 reads how much of a table gets filled).
    """

    q_table: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_epsilons: np.ndarray
    distance_episodes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    distances: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: float = 0.0
    visit_counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))

    @property
    def total_steps(self) -> int:
        """Number of environment steps taken in training."""
        return int(self.episode_lengths.sum())


def q_learning(
    env: gym.Env,
    *,
    episodes: int,
    alpha: float = 0.1,
    gamma: float = 0.99,
    epsilon: float | Callable[[int], float] = 0.1,
    seed: int = 0,
    q_init: float | np.ndarray = 0.0,
    q_star: np.ndarray | None = None,
    record_every: int = 100,
    distance_states: np.ndarray | None = None,
    max_steps_per_episode: int | None = None,
    step_budget: int | None = None,
) -> QLearningResult:
    """Train a Q-table by epsilon-greedy Q-learning on ``env``.

    Every step goes through ``env.step``; after it the table moves towards the target
    ``r + gamma * (1 - terminated) * max_a' Q[s', a']``. ``truncated`` (a time limit) only ends
    the episode. Exploration: with probability epsilon a uniformly random action, otherwise
    the greedy action, ties broken uniformly at random (so an all-zero table does not always
    pick action 0). Randomness comes from ``seed`` alone: the first ``env.reset(seed=seed)``
    seeds the environment and :func:`utils.seeding.make_rng` the exploration, so the same
    seed gives the same table.

    Args:
        env: A Gymnasium env with ``Discrete`` observation and action spaces.
        episodes: Number of training episodes (>= 0).
        alpha: Step size in (0, 1].
        gamma: Discount factor in [0, 1].
        epsilon: Exploration rate in [0, 1], or a schedule: a callable of the episode index
            (0, 1, ...) returning a value in [0, 1], e.g. ``LinearSchedule(1.0, 0.05, 2000)``.
        seed: Seed in [0, 2**32 - 1].
        q_init: Initial value of every entry (a number), or a whole initial table of shape
            ``(n_states, n_actions)`` (copied, not changed).
        q_star: Optional exact table (from :func:`value_iteration` with the same ``gamma``);
            when given, ``||Q - Q*||_inf`` is recorded every ``record_every`` episodes.
        record_every: Episodes between two distance records (>= 1).
        distance_states: Optional boolean mask, shape ``(n_states,)``: only these states'
            rows enter the distance, e.g. ``reachable_states(env)`` (Taxi has states no
            episode can visit, whose rows never change).
        max_steps_per_episode: Optional cap (>= 1) on steps per episode on top of the env's
            own time limit; hitting it counts as truncation (no masking).
        step_budget: Optional cap (>= 1) on the total number of environment steps. Training
            stops as soon as it is spent, even mid-episode (that last episode is recorded, cut
            short), so the result may hold fewer than ``episodes`` episodes.

    Returns:
        A :class:`QLearningResult`.

    Raises:
        TypeError, ValueError: On a bad argument, before any step (the message names it).
    """
    n_states, n_actions = require_discrete_env(env)
    episodes = check_int("episodes", episodes, minimum=0)
    alpha = check_float("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
    gamma = check_probability("gamma", gamma)
    schedule = as_schedule(epsilon, "epsilon")
    # Every episode's epsilon, checked before the first step rather than in the middle.
    epsilons = np.array([check_probability("epsilon", schedule(e)) for e in range(episodes)])
    seed = check_seed("seed", seed)
    record_every = check_int("record_every", record_every, minimum=1)
    if distance_states is not None:
        distance_states = np.asarray(distance_states)
        if distance_states.shape != (n_states,) or distance_states.dtype != bool:
            raise ValueError(
                f"distance_states must be a boolean mask of shape ({n_states},), got "
                f"shape {distance_states.shape} and dtype {distance_states.dtype}"
            )
        if not distance_states.any():
            raise ValueError("distance_states must select at least one state")
    if max_steps_per_episode is not None:
        max_steps_per_episode = check_int("max_steps_per_episode", max_steps_per_episode, minimum=1)
    if step_budget is not None:
        step_budget = check_int("step_budget", step_budget, minimum=1)
    if isinstance(q_init, np.ndarray):
        if q_init.shape != (n_states, n_actions):
            raise ValueError(
                f"q_init must be a number or have shape ({n_states}, {n_actions}), "
                f"got {q_init.shape}"
            )
        start = check_q_table(q_init, "q_init")
    else:
        start = np.full((n_states, n_actions), check_float("q_init", q_init, finite=True))
    if q_star is not None:
        q_star = check_q_table(q_star, "q_star")
        if q_star.shape != (n_states, n_actions):
            raise ValueError(
                f"q_star must have shape ({n_states}, {n_actions}), got {q_star.shape}"
            )

    # Speed: the table is a list of Python lists and every number a Python float, so one
    # step costs a few list lookups instead of many small NumPy calls; random numbers come
    # in blocks. The maths is exactly q_update's.
    q = start.tolist()
    rng = make_rng(seed)
    uniforms: list[float] = []
    random_actions: list[int] = []
    k = _BLOCK  # position in the current blocks; _BLOCK means "draw new blocks"
    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    record_at: list[int] = []
    distances: list[float] = []
    step_limit = max_steps_per_episode if max_steps_per_episode is not None else -1
    steps_left = step_budget if step_budget is not None else -1
    counts = [[0] * n_actions for _ in range(n_states)]
    if q_star is not None:
        record_at.append(0)
        rows = slice(None) if distance_states is None else distance_states
        distances.append(float(np.abs(start[rows] - q_star[rows]).max()))

    t0 = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    for episode in range(episodes):
        if episode > 0:
            obs, _ = env.reset()
        eps = float(epsilons[episode])
        total = 0.0
        n = 0
        while True:
            if k >= _BLOCK - 1:  # each step uses up to two numbers
                uniforms = rng.random(_BLOCK).tolist()
                random_actions = rng.integers(n_actions, size=_BLOCK).tolist()
                k = 0
            row = q[obs]
            if uniforms[k] < eps:
                action = random_actions[k]
            else:
                best = max(row)
                if row.count(best) == 1:
                    action = row.index(best)
                else:
                    ties = [a for a in range(n_actions) if row[a] == best]
                    action = ties[int(uniforms[k + 1] * len(ties))]
            k += 2
            next_obs, reward, terminated, truncated, _ = env.step(action)
            reward = float(reward)
            # The update, with the terminal mask: no bootstrapping from a terminal state.
            if terminated:
                target = reward
            else:
                target = reward + gamma * max(q[next_obs])
            row[action] += alpha * (target - row[action])
            counts[obs][action] += 1
            total += reward
            n += 1
            steps_left -= 1
            obs = next_obs
            if terminated or truncated or n == step_limit or steps_left == 0:
                break
        returns[episode] = total
        lengths[episode] = n
        if q_star is not None and (episode + 1) % record_every == 0:
            record_at.append(episode + 1)
            distances.append(float(np.abs(np.asarray(q)[rows] - q_star[rows]).max()))
        if steps_left == 0:
            returns, lengths, epsilons = (a[: episode + 1] for a in (returns, lengths, epsilons))
            break
    seconds = time.perf_counter() - t0

    return QLearningResult(
        q_table=np.asarray(q, dtype=float),
        episode_returns=returns,
        episode_lengths=lengths,
        episode_epsilons=epsilons,
        distance_episodes=np.asarray(record_at, dtype=np.int64),
        distances=np.asarray(distances),
        seconds=seconds,
        visit_counts=np.asarray(counts, dtype=np.int64).reshape(n_states, n_actions),
    )
