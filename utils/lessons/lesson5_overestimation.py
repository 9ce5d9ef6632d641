"""Lesson 5: measuring overestimation in DQN, predicted Q against the return actually collected.

- :class:`NoisyReward`: a Gymnasium wrapper that adds ``N(0, sigma^2)`` noise to every reward,
  seeded through ``reset(seed=...)``; :func:`register_noisy_cartpole` registers CartPole with
  it under its own id (``train_many`` takes an environment id).
- :func:`predicted_and_realised`: each agent's prediction ``max_a Q(s0, a)`` on fixed start
  states, and the discounted return ``G0`` its greedy policy then collects (noise-free rewards,
  rolled out for at most ``horizon`` steps, whatever the training time limit; what is cut
  beyond them is worth at most ``gamma^horizon * max_reward / (1 - gamma)``).
- :func:`plot_gaps`: the gap ``Q(s0, a0) - G0`` per seed, one column per variant.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_seed, check_str
from utils.engine import StackedQNetwork
from utils.figures import new_figure
from utils.lessons.lesson5 import draw_seed_dots

__all__ = [
    "NoisyReward",
    "noisy_cartpole_id",
    "plot_gaps",
    "predicted_and_realised",
    "register_noisy_cartpole",
]


class NoisyReward(gym.Wrapper):
    """Add Gaussian noise ``N(0, sigma^2)`` to every reward; the expected reward is unchanged.

    The noise stream is seeded by ``reset(seed=...)`` (and only then), so the same seed gives
    the same noise: ``train_many`` resets each environment once with its agent's seed.
    """

    def __init__(self, env: gym.Env, sigma: float):
        """Wrap ``env``; ``sigma`` (>= 0) is the noise's standard deviation."""
        super().__init__(env)
        self.sigma = check_float("sigma", sigma, low=0.0, finite=True)
        self._noise = np.random.default_rng(0)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        """Reset the environment; a ``seed`` also restarts the noise stream."""
        if seed is not None:
            self._noise = np.random.default_rng([check_seed("seed", seed), 5])
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        """Step the environment and return its reward plus noise."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, float(reward) + self.sigma * self._noise.standard_normal(), terminated, \
            truncated, info  # fmt: skip


def noisy_cartpole_id(sigma: float) -> str:
    """Return the id :func:`register_noisy_cartpole` gives CartPole with reward noise ``sigma``."""
    sigma = check_float("sigma", sigma, low=0.0, low_inclusive=False, finite=True)
    return f"NoisyCartPole-sigma{sigma:g}-v1"


def register_noisy_cartpole(sigma: float) -> str:
    """Register ``CartPole-v1`` with reward noise ``N(0, sigma^2)``; return its id.

    Registering the same ``sigma`` again is harmless (same id, same environment).

    Args:
        sigma: Standard deviation of the noise added to each +1 reward (> 0).

    Returns:
        The environment id, e.g. ``'NoisyCartPole-sigma3-v1'``.
    """
    env_id = noisy_cartpole_id(sigma)
    if env_id not in gym.registry:
        gym.register(
            id=env_id,
            entry_point=_noisy_cartpole,
            kwargs={"sigma": float(sigma)},
            max_episode_steps=None,  # CartPole-v1's own TimeLimit (500) is inside
        )
    return env_id


def _noisy_cartpole(sigma: float) -> gym.Env:
    return NoisyReward(gym.make("CartPole-v1"), sigma)


def predicted_and_realised(
    runs: Sequence[Any],
    *,
    gamma: float | None = None,
    starts: int = 20,
    horizon: int = 1000,
    seed: int = 12345,
    env_id: str = "CartPole-v1",
) -> tuple[np.ndarray, np.ndarray]:
    """Return what each agent predicts at fixed start states and what its policy collects.

    Every agent starts from the same ``starts`` states (drawn with ``seed``), acts greedily,
    and collects ``G0 = sum_t gamma^t r_{t+1}`` in ``env_id`` with the time limit set to
    ``horizon`` steps, not the training one (the training time limit is not where the agent's
    future ends: it bootstraps through it). Rewards are the environment's own (give the
    noise-free id).

    Args:
        runs: Trained runs (``.q_network``, ``.config.gamma``) with the same network shape.
        gamma: Discount; default the runs' own (they must agree).
        starts: Start states per agent (>= 1).
        horizon: Steps rolled out at most (>= 1); what is cut is worth at most
            ``gamma^horizon * max_reward / (1 - gamma)``.
        seed: Seed of the start states.
        env_id: Environment to roll out in.

    Returns:
        ``(predicted, realised)``, each ``(n_runs, starts)``: ``max_a Q(s0, a)`` and ``G0``.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(runs, Sequence) or not runs:
        raise ValueError("runs must be a non-empty sequence of trained runs")
    if gamma is None:
        gammas = {float(r.config.gamma) for r in runs}
        if len(gammas) != 1:
            raise ValueError(f"runs have different gammas {sorted(gammas)}; pass gamma")
        gamma = gammas.pop()
    gamma = check_float("gamma", gamma, low=0.0, high=1.0, high_inclusive=False)
    starts = check_int("starts", starts, minimum=1)
    horizon = check_int("horizon", horizon, minimum=1)
    seed = check_seed("seed", seed)
    check_str("env_id", env_id)
    net = StackedQNetwork([r.q_network for r in runs])  # every agent in one forward pass
    envs = [gym.make_vec(env_id, num_envs=starts, vectorization_mode="sync",
                         max_episode_steps=horizon) for _ in runs]  # fmt: skip
    with contextlib.ExitStack() as stack:
        for env in envs:
            stack.callback(env.close)
        obs = np.stack([env.reset(seed=seed)[0] for env in envs]).astype(np.float32)
        with torch.no_grad():
            q = net(torch.from_numpy(obs))  # (agents, starts, actions)
        predicted = q.max(-1).values.numpy().astype(np.float64)
        realised = np.zeros(predicted.shape)
        alive = np.ones(predicted.shape, dtype=bool)
        for t in range(horizon):
            with torch.no_grad():
                actions = net(torch.from_numpy(obs)).argmax(-1).numpy()
            for k, env in enumerate(envs):
                next_obs, reward, terminated, truncated, _ = env.step(actions[k])
                obs[k] = next_obs
                realised[k] += alive[k] * gamma**t * reward
                alive[k] &= ~(terminated | truncated)
            if not alive.any():
                break
    return predicted, realised


def plot_gaps(
    gaps: Mapping[str, np.ndarray | Sequence[float]],
    *,
    ylabel: str = "predicted Q(s0, a0) - collected G0",
    title: str | None = None,
    figsize: tuple[float, float] = (6.0, 3.6),
) -> Figure:
    """Draw one dot per seed for each variant's gap, with its IQM and 95% bootstrap interval.

    Each variant is one column of :func:`utils.lessons.lesson5.draw_seed_dots`, on a line at 0
    (above it: the agent predicts more than it collects).

    Args:
        gaps: ``{variant: (n_seeds,) gaps}``, finite.
        ylabel, title, figsize: The y label, an optional title, the size in inches.

    Returns:
        The Figure, one Axes.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(gaps, Mapping) or not gaps:
        raise ValueError("gaps must be a non-empty mapping {variant: per-seed gaps}")
    check_str("ylabel", ylabel)
    fig, (ax,) = new_figure(1, figsize=figsize)
    for i, (name, values) in enumerate(gaps.items()):
        draw_seed_dots(ax, i, values, name=f"gaps[{name!r}]")
    ax.axhline(0, color="black", linewidth=1)
    ax.set_xticks(range(len(gaps)), list(gaps))
    ax.set_ylabel(ylabel)
    ax.set_title(title or "dots: seeds; square: IQM with 95% bootstrap interval", fontsize=10)
    ax.grid(alpha=0.3)
    return fig
