"""Exact answers from an environment's model: the optimal table and exact success rates.

Dynamic programming on ``env.unwrapped.P`` of a toy-text environment (FrozenLake, Taxi,
CliffWalking): :func:`value_iteration` gives the optimal table ``Q*``,
:func:`success_probability` and :func:`expected_return` the exact chance of reaching the goal
and the exact expected return of a policy within the time limit. The agent never sees these;
the lessons use them to grade it. :mod:`utils.tabular` re-exports them.

Shapes: ``n_states`` rows (one per observation of a ``Discrete`` space), ``n_actions`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from utils._checks import check_float, check_int, check_policy_array, check_probability
from utils.envs import require_discrete_env

__all__ = [
    "MDPArrays",
    "expected_return",
    "mdp_arrays",
    "reachable_states",
    "success_probability",
    "value_iteration",
]


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
    policy = check_policy_array(policy, n_states, n_actions)
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
