"""Gymnasium environments as the lessons use them."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from utils._checks import check_callable, check_int, check_seed


def make_env(env_id: str, seed: int | None = None, **kwargs: Any) -> gym.Env:
    """Create ``env_id`` with per-episode return and length recorded in ``info["episode"]``.

    When ``seed`` is given the environment and its action space are seeded once, so the
    episodes that follow (``env.reset()`` with no seed) are the same on every run.

    Args:
        env_id: A registered Gymnasium id, e.g. ``"FrozenLake-v1"`` or ``"CartPole-v1"``.
        seed: Optional seed in [0, 2**32 - 1].
        **kwargs: Passed to :func:`gymnasium.make` (``is_slippery``, ``render_mode``, ...).

    Returns:
        The wrapped environment.

    Raises:
        TypeError: If ``env_id`` is not a string or ``seed`` is not an integer.
        ValueError: If ``env_id`` is not registered or ``seed`` is out of range.
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string, got {type(env_id).__name__}")
    if env_id not in gym.registry:
        raise ValueError(f"env_id {env_id!r} is not a registered Gymnasium environment")
    if seed is not None:
        seed = check_seed("seed", seed)
    if kwargs.get("render_mode") is not None:
        # Rendering goes through pygame/SDL, which must not look for a display.
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    env = gym.wrappers.RecordEpisodeStatistics(gym.make(env_id, **kwargs))
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


def is_discrete(space: gym.Space) -> bool:
    """Return True for a :class:`gymnasium.spaces.Discrete` space."""
    return isinstance(space, gym.spaces.Discrete)


def require_discrete_env(env: gym.Env) -> tuple[int, int]:
    """Return ``(n_states, n_actions)`` of a fully discrete env, or raise a clear error.

    Raises:
        TypeError: If ``env`` is not a Gymnasium env.
        ValueError: If its observation or action space is not ``Discrete`` (a table needs
            one row per state and one column per action).
    """
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    if not is_discrete(env.observation_space):
        raise ValueError(
            "env must have a Discrete observation space for a Q-table, got "
            f"{env.observation_space}; discretise it first (see Lesson 2)"
        )
    if not is_discrete(env.action_space):
        raise ValueError(f"env must have a Discrete action space, got {env.action_space}")
    return int(env.observation_space.n), int(env.action_space.n)


def require_dqn_env(env: gym.Env) -> tuple[int, int]:
    """Return ``(obs_dim, n_actions)`` of an env a DQN can learn, or raise a clear error.

    A DQN needs one Q-value per action (a ``Discrete`` action space) and a vector to feed its
    network (a flat ``Box`` observation space).

    Raises:
        TypeError: If ``env`` is not a Gymnasium env.
        ValueError: If its action space is not ``Discrete`` or its observation space is not a
            1-D ``Box``.
    """
    if not isinstance(env, gym.Env):
        raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
    if not is_discrete(env.action_space):
        raise ValueError(
            f"DQN needs a discrete action space (one Q-value per action), got {env.action_space}"
        )
    space = env.observation_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"observations must be a flat Box (a vector), got {space}")
    return int(space.shape[0]), int(env.action_space.n)


def record_episode(
    env_id: str,
    policy: Callable[[Any], int],
    seed: int = 0,
    max_steps: int = 500,
    **kwargs: Any,
) -> tuple[list[np.ndarray], float]:
    """Run one episode with ``policy`` and return its ``rgb_array`` frames and its return.

    Needs no display: frames are rendered off-screen.

    Args:
        env_id: Gymnasium id.
        policy: Maps an observation to an action.
        seed: Seed of the episode's reset.
        max_steps: Stop after this many steps even if the episode goes on (>= 1).
        **kwargs: Passed to :func:`make_env`.

    Returns:
        ``(frames, episode_return)``; ``frames`` has one ``(H, W, 3)`` uint8 array per step
        plus the first.
    """
    check_int("max_steps", max_steps, minimum=1)
    check_callable("policy", policy)
    check_seed("seed", seed)
    env = make_env(env_id, render_mode="rgb_array", **kwargs)
    try:
        obs, _ = env.reset(seed=check_seed("seed", seed))
        frames = [env.render()]
        total = 0.0
        for _ in range(max_steps):
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            total += float(reward)
            frames.append(env.render())
            if terminated or truncated:
                break
    finally:
        env.close()
    return frames, total
