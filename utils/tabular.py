"""Tabular Q-learning and the exact answers it is checked against.

Three kinds of functions live here:

- :func:`q_learning` - the agent: it steps a real Gymnasium environment and keeps a table
  ``Q[s, a]`` that it updates after every step with the terminal mask
  ``target = r + gamma * (1 - terminated) * max_a' Q[s', a']``.
- :func:`value_iteration` and :func:`success_probability` - exact dynamic programming on the
  environment's model ``env.unwrapped.P``: the optimal table ``Q*`` and the exact chance
  that a policy reaches the goal within the time limit. The agent never sees these; the
  lessons use them to grade it.
- :func:`greedy_policy` - the table read as a policy.

Shapes: ``n_states`` rows (one per observation of a ``Discrete`` space), ``n_actions`` columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.envs import require_discrete_env
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
# The model of the environment, as arrays
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MDPArrays:
    """A finite MDP read from ``env.unwrapped.P``, as dense arrays.

    Attributes:
        transition: ``(n_states, n_actions, n_states)``: probability that ``(s, a)`` leads to
            ``s'`` *and the episode goes on* (transitions that terminate are left out, so
            their next state is never bootstrapped from).
        reward: ``(n_states, n_actions)``: expected reward of ``(s, a)``.
        terminal: ``(n_states, n_actions)``: probability that ``(s, a)`` ends the episode.
        success: ``(n_states, n_actions)``: probability that ``(s, a)`` ends the episode with
            a positive reward (reaching the goal in FrozenLake, a drop-off in Taxi).
        initial: ``(n_states,)``: distribution of the first observation.
    """

    transition: np.ndarray
    reward: np.ndarray
    terminal: np.ndarray
    success: np.ndarray
    initial: np.ndarray


def _model(env: gym.Env) -> dict:
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    model = getattr(env.unwrapped, "P", None)
    if not isinstance(model, dict):
        raise ValueError(
            "env must expose its model as env.unwrapped.P (toy-text envs such as "
            f"FrozenLake-v1 and Taxi-v4 do); {env.unwrapped} does not"
        )
    return model


def mdp_arrays(env: gym.Env) -> MDPArrays:
    """Read the model ``env.unwrapped.P`` of a toy-text environment into dense arrays.

    ``P[s][a]`` is a list of ``(probability, next_state, reward, terminated)`` tuples.

    Args:
        env: A Gymnasium env with ``Discrete`` spaces and a model ``env.unwrapped.P``.

    Returns:
        The :class:`MDPArrays` of the environment.

    Raises:
        TypeError: If ``env`` is not a Gymnasium env.
        ValueError: If its spaces are not ``Discrete`` or it has no model.
    """
    n_states, n_actions = require_discrete_env(env)
    model = _model(env)
    transition = np.zeros((n_states, n_actions, n_states))
    reward = np.zeros((n_states, n_actions))
    terminal = np.zeros((n_states, n_actions))
    success = np.zeros((n_states, n_actions))
    for s in range(n_states):
        for a in range(n_actions):
            for p, next_s, r, terminated in model[s][a]:
                reward[s, a] += p * r
                if terminated:
                    terminal[s, a] += p
                    if r > 0:
                        success[s, a] += p
                else:
                    transition[s, a, next_s] += p
    initial = getattr(env.unwrapped, "initial_state_distrib", None)
    if initial is None:
        initial = np.full(n_states, 1.0 / n_states)
    initial = np.asarray(initial, dtype=float)
    return MDPArrays(transition, reward, terminal, success, initial / initial.sum())


def reachable_states(env: gym.Env) -> np.ndarray:
    """Return the states in which the agent may have to act, from the model ``env.unwrapped.P``.

    A state counts if it has positive initial probability, or if some action leads to it
    with positive probability from a counted state *without terminating*. States reached
    only by terminating (FrozenLake's holes and goal, Taxi after a drop-off) are left out:
    the agent never acts there and, by the terminal mask, their values are never used.

    Args:
        env: A toy-text Gymnasium env with a model ``env.unwrapped.P``.

    Returns:
        Boolean mask, shape ``(n_states,)``.
    """
    n_states, n_actions = require_discrete_env(env)
    model = _model(env)
    initial = getattr(env.unwrapped, "initial_state_distrib", None)
    frontier = list(range(n_states)) if initial is None else list(np.flatnonzero(initial))
    seen = np.zeros(n_states, dtype=bool)
    seen[frontier] = True
    while frontier:
        s = frontier.pop()
        for a in range(n_actions):
            for p, next_s, _, terminated in model[s][a]:
                if p > 0 and not terminated and not seen[next_s]:
                    seen[next_s] = True
                    frontier.append(next_s)
    return seen


# --------------------------------------------------------------------------------------
# Exact answers: value iteration and the success probability within the time limit
# --------------------------------------------------------------------------------------


def value_iteration(
    env: gym.Env, gamma: float = 0.99, tol: float = 1e-10, max_iterations: int = 1_000_000
) -> np.ndarray:
    """Compute the optimal action values ``Q*`` exactly from the model ``env.unwrapped.P``.

    Repeats the Bellman optimality update
    ``Q(s, a) <- E[r + gamma * (1 - terminated) * max_a' Q(s', a')]`` until no entry moves
    by more than ``tol``. Transitions that terminate do not bootstrap, exactly as in
    :func:`q_learning`, so the two tables can be compared entry by entry.

    The time limit (``TimeLimit`` truncation) is not part of the model: ``Q*`` is the value
    of the never-ending MDP. Use :func:`success_probability` for what happens within the limit.

    Args:
        env: A toy-text Gymnasium env (``Discrete`` spaces, a model ``env.unwrapped.P``).
        gamma: Discount factor in [0, 1]. With ``gamma = 1`` the iteration converges only if
            every policy it passes through ends episodes (true for FrozenLake and Taxi).
        tol: Stop when the largest change of one sweep is below this (> 0).
        max_iterations: Give up after this many sweeps (>= 1).

    Returns:
        ``Q*``, shape ``(n_states, n_actions)``, float64.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
        RuntimeError: If the iteration has not converged after ``max_iterations`` sweeps.
    """
    gamma = check_probability("gamma", gamma)
    tol = check_float("tol", tol, low=0.0, low_inclusive=False, finite=True)
    max_iterations = check_int("max_iterations", max_iterations, minimum=1)
    mdp = mdp_arrays(env)
    n_states, n_actions = mdp.reward.shape
    # (n_states * n_actions, n_states) @ (n_states,) is one sweep of the Bellman update.
    transition = mdp.transition.reshape(n_states * n_actions, n_states)
    q = np.zeros((n_states, n_actions))
    for _ in range(max_iterations):
        v = q.max(axis=1)
        new_q = mdp.reward + gamma * (transition @ v).reshape(n_states, n_actions)
        delta = np.abs(new_q - q).max()
        q = new_q
        if delta < tol:
            return q
    raise RuntimeError(
        f"value_iteration did not converge to tol={tol} in {max_iterations} sweeps; "
        "try gamma < 1 or a larger max_iterations"
    )


def success_probability(env: gym.Env, policy: np.ndarray, max_steps: int | None = None) -> float:
    """Return the exact probability that ``policy`` reaches the goal within ``max_steps`` steps.

    Dynamic programming over time, no sampling: ``d_t(s)`` is the probability of being in
    state ``s`` after ``t`` steps with the episode still going. Each step adds
    ``sum_s d_t(s) * P(goal | s, policy(s))`` to the answer and moves ``d`` one step on.
    "Goal" means a transition that terminates the episode with a positive reward.

    Args:
        env: A toy-text Gymnasium env with a model ``env.unwrapped.P``.
        policy: One action per state, shape ``(n_states,)``, e.g. ``greedy_policy(q)``.
        max_steps: The horizon (>= 1). ``None`` uses the env's time limit
            (``env.spec.max_episode_steps``: 100 for 4x4 FrozenLake, 200 for Taxi).

    Returns:
        The success probability in [0, 1].

    Raises:
        TypeError, ValueError: On a bad argument (the message names it), or if ``max_steps``
            is ``None`` and the env has no time limit.
    """
    return _rollout(env, policy, max_steps)[0]


def expected_return(env: gym.Env, policy: np.ndarray, max_steps: int | None = None) -> float:
    """Return the exact expected undiscounted return of ``policy`` within ``max_steps`` steps.

    The same dynamic programming over time as :func:`success_probability`, adding the
    expected reward ``sum_s d_t(s) * r(s, policy(s))`` of every step. Sampled returns of two
    policies are noisy and, in envs whose ``step`` draws random numbers even when the move
    is deterministic (Taxi), start from different states; this compares them exactly.

    Args:
        env: A toy-text Gymnasium env with a model ``env.unwrapped.P``.
        policy: One action per state, shape ``(n_states,)``.
        max_steps: The horizon (>= 1); ``None`` uses the env's time limit.

    Returns:
        The expected return, averaged over the env's initial-state distribution.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    return _rollout(env, policy, max_steps)[1]


def _rollout(env: gym.Env, policy: np.ndarray, max_steps: int | None) -> tuple[float, float]:
    mdp = mdp_arrays(env)
    n_states, n_actions = mdp.reward.shape
    policy = _check_policy_array(policy, n_states, n_actions)
    if max_steps is None:
        max_steps = env.spec.max_episode_steps if env.spec is not None else None
        if max_steps is None:
            raise ValueError("max_steps must be given: env has no time limit (spec)")
    max_steps = check_int("max_steps", max_steps, minimum=1)
    states = np.arange(n_states)
    step = mdp.transition[states, policy]  # (n_states, n_states), episode goes on
    goal = mdp.success[states, policy]  # (n_states,)
    reward = mdp.reward[states, policy]  # (n_states,)
    d = mdp.initial.copy()  # probability of being in s after t steps, still going
    success = 0.0
    total = 0.0
    for _ in range(max_steps):
        success += float(d @ goal)
        total += float(d @ reward)
        d = d @ step
    return success, total


def _check_policy_array(policy: object, n_states: int, n_actions: int) -> np.ndarray:
    array = np.asarray(policy)
    if array.shape != (n_states,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"policy must be an integer array of shape ({n_states},), got "
            f"shape {array.shape} and dtype {array.dtype}"
        )
    if array.min() < 0 or array.max() >= n_actions:
        raise ValueError(f"policy actions must be in [0, {n_actions - 1}]")
    return array


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
    q = _check_q_table(q_table)
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
    q_star = _check_q_table(q_star, "q_star")
    n_states, n_actions = q_star.shape
    policy = _check_policy_array(policy, n_states, n_actions)
    atol = check_float("atol", atol, low=0.0, finite=True)
    if states is None:
        states = np.ones(n_states, dtype=bool)
    states = np.asarray(states)
    if states.shape != (n_states,) or states.dtype != bool or not states.any():
        raise ValueError(f"states must be a non-empty boolean mask of shape ({n_states},)")
    chosen = q_star[np.arange(n_states), policy]
    optimal = chosen >= q_star.max(axis=1) - atol
    return float(optimal[states].mean())


def _check_q_table(q_table: object, name: str = "q_table") -> np.ndarray:
    try:
        q = np.asarray(q_table, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(q_table).__name__}"
        ) from error
    if q.ndim != 2 or q.shape[0] < 1 or q.shape[1] < 1:
        raise ValueError(f"{name} must have shape (n_states, n_actions), got {q.shape}")
    if np.isnan(q).any():
        raise ValueError(f"{name} must not contain NaN")
    return q


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
        start = _check_q_table(q_init, "q_init")
    else:
        start = np.full((n_states, n_actions), check_float("q_init", q_init, finite=True))
    if q_star is not None:
        q_star = _check_q_table(q_star, "q_star")
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
