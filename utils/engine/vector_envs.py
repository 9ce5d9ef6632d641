"""K environments stepped together, and the greedy evaluation of K agents at once.

For plain CartPole training steps :class:`CartPoles` (Gymnasium's CartPole equations on NumPy
arrays, bit for bit, tested), with start states drawn from each agent's own seeds so that
nothing depends on the other agents; the fast evaluation runs on Gymnasium's
``CartPoleVectorEnv``, setting its ``state``: pyproject bounds gymnasium for it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch

from utils._checks import check_int, check_seed, check_str
from utils.engine.stacked import StackedQNetwork
from utils.runs import evaluate_greedy
from utils.seeding import episode_seeds


def is_plain_cartpole(env_id: str) -> bool:
    """Return True for a CartPole registered without constructor arguments (the fast path)."""
    if check_str("env_id", env_id) not in gym.registry:
        raise ValueError(f"env_id {env_id!r} is not a registered Gymnasium environment")
    spec = gym.spec(env_id)
    return str(spec.entry_point).endswith("CartPoleEnv") and not spec.kwargs


def cartpole_start(seed: int) -> np.ndarray:
    """Return the ``(4,)`` start state ``CartPoleEnv.reset(seed=seed)`` draws."""
    return gym.utils.seeding.np_random(check_seed("seed", seed))[0].uniform(
        low=-0.05, high=0.05, size=(4,)
    )


class SyncEnvs:
    """K copies of any Gymnasium env, one per agent, stepped together.

    ``step`` returns ``(obs, final_obs, rewards, terminated, truncated)``: ``obs`` is where each
    agent acts next (already reset where an episode ended), ``final_obs`` the true ``s'``.
    """

    def __init__(self, env_id: str, seeds: Sequence[int]):
        is_plain_cartpole(env_id)  # checks that env_id is registered
        seeds = check_seeds(seeds, distinct=False)
        self.envs = gym.vector.SyncVectorEnv(
            [lambda: gym.make(env_id)] * len(seeds),
            autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
        )
        self.seeds = seeds

    def reset(self) -> np.ndarray:
        """Reset agent k's env with ``seeds[k]``; return the ``(K, obs_dim)`` observations."""
        return self.envs.reset(seed=self.seeds)[0]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        """Step every env with its action ``(K,)``."""
        obs, rewards, terminated, truncated, infos = self.envs.step(actions)
        final_obs = obs
        if (terminated | truncated).any():  # the vector env already reset these
            final_obs = obs.copy()
            for k in np.flatnonzero(terminated | truncated):
                final_obs[k] = infos["final_obs"][k]
        return obs, final_obs, rewards, terminated, truncated

    def close(self) -> None:
        """Close the envs."""
        self.envs.close()


class CartPoles:
    """K ``CartPole`` envs as NumPy arrays, stepped by one set of array operations.

    Gymnasium's ``CartPoleVectorEnv`` equations, written out in the same order (so K separate
    ``gym.make`` envs give the same numbers, bit for bit: tested), without its per-step checks
    and autoreset bookkeeping. Each pole is reset here, from its own generator seeded as a
    single env's ``reset(seed=...)`` seeds it, so agent k's episodes are the ones
    :func:`utils.train.train` sees and do not depend on the other agents. Interface as
    :class:`SyncEnvs`.
    """

    def __init__(self, env_id: str, seeds: Sequence[int]):
        if not is_plain_cartpole(env_id):
            raise ValueError(
                f"env_id must be a CartPole without constructor arguments, got {env_id!r}"
            )
        seeds = check_seeds(seeds, distinct=False)
        self.limit = gym.spec(env_id).max_episode_steps or np.iinfo(np.int64).max
        with contextlib.closing(gym.make(env_id)) as env:
            self.env = env.unwrapped  # its constants (gravity, masses, thresholds, ...)
        if self.env.kinematics_integrator != "euler":
            raise ValueError("CartPoles steps the Euler integrator only")
        self.rngs = [gym.utils.seeding.np_random(s)[0] for s in seeds]
        self.state = np.zeros((4, len(seeds)))
        self.steps = np.zeros(len(seeds), dtype=np.int64)

    def _start(self, k: int) -> np.ndarray:
        return self.rngs[k].uniform(low=-0.05, high=0.05, size=(4,))  # as CartPoleEnv.reset

    def reset(self) -> np.ndarray:
        """Start every pole from its own generator; return the ``(K, 4)`` observations."""
        self.state = np.stack([self._start(k) for k in range(len(self.rngs))], axis=1)
        self.steps[:] = 0
        return self.state.T.astype(np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        """Step every pole with its action ``(K,)``; reset the ones whose episode ended."""
        e = self.env
        x, x_dot, theta, theta_dot = self.state
        force = np.sign(actions - 0.5) * e.force_mag
        costheta = np.cos(theta)
        sintheta = np.sin(theta)
        temp = (force + e.polemass_length * np.square(theta_dot) * sintheta) / e.total_mass
        thetaacc = (e.gravity * sintheta - costheta * temp) / (
            e.length * (4.0 / 3.0 - e.masspole * np.square(costheta) / e.total_mass)
        )
        xacc = temp - e.polemass_length * thetaacc * costheta / e.total_mass
        self.state = np.stack(
            (
                x + e.tau * x_dot,
                x_dot + e.tau * xacc,
                theta + e.tau * theta_dot,
                theta_dot + e.tau * thetaacc,
            )
        )
        x, theta = self.state[0], self.state[2]
        terminated = (
            (x < -e.x_threshold)
            | (x > e.x_threshold)
            | (theta < -e.theta_threshold_radians)
            | (theta > e.theta_threshold_radians)
        )
        self.steps += 1
        truncated = self.steps >= self.limit
        rewards = np.ones(len(self.steps), dtype=np.float32)
        final_obs = self.state.T.astype(np.float32)
        obs, done = final_obs, terminated | truncated
        if done.any():
            obs = final_obs.copy()
            for k in np.flatnonzero(done):
                self.state[:, k] = self._start(k)
                obs[k] = self.state[:, k]
            self.steps[done] = 0
        return obs, final_obs, rewards, terminated, truncated

    def close(self) -> None:
        """Nothing to release (the interface of :class:`SyncEnvs`)."""


def check_seeds(seeds: Sequence[int], distinct: bool = True) -> list[int]:
    """Return ``seeds`` as a list of valid seeds (distinct unless told), or raise naming them."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    seeds = [check_seed("seeds[i]", s) for s in seeds]
    if distinct and len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    return seeds


def make_envs(env_id: str, seeds: Sequence[int], distinct: bool = True) -> CartPoles | SyncEnvs:
    """Return K envs for ``seeds``: NumPy CartPoles when possible, else a ``SyncVectorEnv``.

    ``distinct=False`` allows a seed twice (two agents of different configs on one seed).

    Raises:
        TypeError, ValueError: If ``env_id`` is not registered or ``seeds`` are not distinct
            valid seeds.
    """
    seeds = check_seeds(seeds, distinct)
    return (CartPoles if is_plain_cartpole(env_id) else SyncEnvs)(env_id, seeds)


@functools.lru_cache(maxsize=64)
def _cartpole_starts(seed: int, episodes: int) -> np.ndarray:
    return np.stack([cartpole_start(s) for s in episode_seeds(seed, episodes)])


@torch.no_grad()
def evaluate_greedy_many(
    env_id: str, q_network: StackedQNetwork, seeds: Sequence[int], episodes: int
) -> np.ndarray:
    """Run K agents' greedy policies for ``episodes`` episodes each, all side by side.

    Agent ``k`` meets the episodes :func:`utils.runs.evaluate_greedy` runs with
    ``seed=seeds[k]`` (same start states, same dynamics), whoever else is evaluated. For plain
    CartPole all K x episodes poles are simulated in one array, about 50x faster than stepping
    envs one by one; other envs evaluate each agent in turn.

    Args:
        env_id: Gymnasium id.
        q_network: The K agents.
        seeds: One evaluation seed per agent.
        episodes: Episodes per agent (>= 1).

    Returns:
        ``(K, episodes)`` undiscounted returns.
    """
    check_str("env_id", env_id)
    if not isinstance(q_network, StackedQNetwork):
        raise TypeError(f"q_network must be a StackedQNetwork, got {type(q_network).__name__}")
    if len(seeds) != q_network.n_agents:
        raise ValueError(f"seeds must hold one seed per agent ({q_network.n_agents})")
    seeds = [check_seed("seeds[i]", s) for s in seeds]
    episodes = check_int("episodes", episodes, minimum=1)
    if not is_plain_cartpole(env_id):
        return np.stack(
            [
                evaluate_greedy(env_id, q_network.network(k), episodes, s)
                for k, s in enumerate(seeds)
            ]
        )
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    k, e = len(seeds), episodes
    device = q_network.weights[0].device
    limit = gym.spec(env_id).max_episode_steps or np.iinfo(np.int32).max
    venv = CartPoleVectorEnv(num_envs=k * e, max_episode_steps=limit)
    venv.reset(seed=0)
    starts = np.concatenate([_cartpole_starts(seed, e) for seed in seeds])
    venv.state = starts.T.copy()
    obs = starts.astype(np.float32)
    returns = np.zeros(k * e)
    alive = np.ones(k * e, dtype=bool)
    while alive.any():
        q = q_network(torch.from_numpy(obs).reshape(k, e, -1).to(device))
        actions = q.argmax(-1).reshape(-1).cpu().numpy()
        obs, reward, terminated, truncated, _ = venv.step(actions)
        returns += reward * alive
        alive &= ~(terminated | truncated)
    venv.close()
    return returns.reshape(k, e)
