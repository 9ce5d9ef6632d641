"""Evaluate a fixed policy by running it: mean return, spread and, where there is a goal,
the success rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from utils._checks import check_int, check_seed
from utils.envs import is_discrete

__all__ = ["GOAL_ENVS", "EvaluationResult", "evaluate", "has_goal"]

# Environments with a goal, and how to tell from the last step of an episode that it was
# reached: ``(reward, terminated) -> bool``. Elsewhere the success rate is None.
GOAL_ENVS: dict[str, Callable[[float, bool], bool]] = {
    # Termination happens in a hole (reward 0) or on the goal (reward 1).
    "FrozenLake-v1": lambda reward, terminated: terminated and reward > 0,
    "FrozenLake8x8-v1": lambda reward, terminated: terminated and reward > 0,
    # Taxi terminates only on a successful drop-off; CliffWalking only at the goal.
    "Taxi-v4": lambda reward, terminated: terminated,
    "CliffWalking-v1": lambda reward, terminated: terminated,
}


@dataclass(frozen=True)
class EvaluationResult:
    """What :func:`evaluate` returns.

    Attributes:
        returns: Undiscounted return of every episode, shape ``(episodes,)``.
        lengths: Steps of every episode, shape ``(episodes,)``, int64.
        successes: Whether each episode reached the goal, shape ``(episodes,)``, bool;
            None for an env without a goal.
    """

    returns: np.ndarray
    lengths: np.ndarray
    successes: np.ndarray | None

    @property
    def mean_return(self) -> float:
        """Mean undiscounted return over the episodes."""
        return float(self.returns.mean())

    @property
    def std_return(self) -> float:
        """Standard deviation of the returns (population, ``ddof=0``)."""
        return float(self.returns.std())

    @property
    def mean_length(self) -> float:
        """Mean episode length in steps."""
        return float(self.lengths.mean())

    @property
    def success_rate(self) -> float | None:
        """Fraction of episodes that reached the goal, or None when the env has no goal."""
        return None if self.successes is None else float(self.successes.mean())

    def __str__(self) -> str:
        text = (
            f"{len(self.returns)} episodes: mean return {self.mean_return:.3f} "
            f"(std {self.std_return:.3f}), mean length {self.mean_length:.1f}"
        )
        if self.success_rate is not None:
            text += f", success rate {self.success_rate:.3f}"
        return text


def has_goal(env: gym.Env) -> bool:
    """Return True if ``env`` is one of :data:`GOAL_ENVS` (it has a success criterion)."""
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    return env.spec is not None and env.spec.id in GOAL_ENVS


def evaluate(
    env: gym.Env,
    policy: np.ndarray | Callable[[Any], int],
    episodes: int = 1000,
    seed: int = 0,
) -> EvaluationResult:
    """Run ``policy`` for ``episodes`` episodes on ``env`` and summarise what happened.

    No learning and no exploration: the policy is followed as given. The first reset uses
    ``seed`` and the rest continue the env's generator, so the same seed replays the same
    episodes. Episodes end on ``terminated`` or ``truncated`` (the env's time limit).

    Args:
        env: A Gymnasium env.
        policy: Either an array of one action per state, shape ``(n_states,)`` (needs a
            ``Discrete`` observation space), or a callable ``obs -> action``.
        episodes: Number of episodes (>= 1).
        seed: Seed of the first reset, in [0, 2**32 - 1].

    Returns:
        An :class:`EvaluationResult` (``.mean_return``, ``.std_return``, ``.success_rate``
        (None where the env has no goal), ``.returns``, ``.lengths``).

    Raises:
        TypeError, ValueError: On a bad argument, before any step (the message names it).
    """
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    episodes = check_int("episodes", episodes, minimum=1)
    seed = check_seed("seed", seed)
    act = _as_callable(env, policy)
    success_of = GOAL_ENVS.get(env.spec.id) if env.spec is not None else None

    returns = np.zeros(episodes)
    lengths = np.zeros(episodes, dtype=np.int64)
    successes = np.zeros(episodes, dtype=bool)
    obs, _ = env.reset(seed=seed)
    for episode in range(episodes):
        if episode > 0:
            obs, _ = env.reset()
        total, n = 0.0, 0
        while True:
            obs, reward, terminated, truncated, _ = env.step(act(obs))
            total += float(reward)
            n += 1
            if terminated or truncated:
                break
        returns[episode] = total
        lengths[episode] = n
        if success_of is not None:
            successes[episode] = success_of(float(reward), bool(terminated))
    return EvaluationResult(returns, lengths, successes if success_of is not None else None)


def _as_callable(env: gym.Env, policy: object) -> Callable[[Any], int]:
    if callable(policy):
        return policy
    if not is_discrete(env.observation_space):
        raise TypeError(
            "policy must be a callable obs -> action for an env whose observation space is "
            f"not Discrete ({env.observation_space})"
        )
    table = np.asarray(policy)
    n_states = int(env.observation_space.n)
    if table.shape != (n_states,) or not np.issubdtype(table.dtype, np.integer):
        raise ValueError(
            f"policy must be a callable or an integer array of shape ({n_states},), got "
            f"shape {table.shape} and dtype {table.dtype}"
        )
    n_actions = getattr(env.action_space, "n", None)
    if n_actions is not None and (table.min() < 0 or table.max() >= n_actions):
        raise ValueError(f"policy actions must be in [0, {int(n_actions) - 1}]")
    actions = table.tolist()  # plain ints: env.step gets Python ints, lookups stay cheap
    return actions.__getitem__
