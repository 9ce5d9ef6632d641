"""Experience replay: a ring buffer of transitions in preallocated arrays."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from utils._checks import check_int


class Batch(NamedTuple):
    """A sampled minibatch of transitions, as tensors ready for the loss.

    Shapes (with ``K`` agents the leading ``K`` comes first, see :class:`ReplayBuffer`):
        obs, next_obs: ``(batch, *obs_shape)`` float32
        actions: ``(batch,)`` int64
        rewards: ``(batch,)`` float32
        terminated: ``(batch,)`` float32, 1.0 where ``next_obs`` is terminal. Time-limit
        truncation is *not* stored here: a truncated episode still has a future.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor


class ReplayBuffer:
    """A fixed-size ring buffer; once full, each new transition overwrites the oldest.

    All storage is allocated up front as NumPy arrays; ``add`` writes one slot and
    ``sample`` gathers random slots, so neither allocates per transition.

    With ``n_agents=K > 1`` it holds K independent buffers in one array (leading axis K):
    ``add`` takes one transition per agent and ``sample`` draws each agent's minibatch from
    its own data with its own generator.

    Args:
        capacity: Maximum number of transitions per agent (>= 1).
        obs_shape: Shape of one observation, e.g. ``(4,)`` for CartPole.
        n_agents: Number of independent buffers stored side by side (>= 1).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], n_agents: int = 1):
        self.capacity = check_int("capacity", capacity, minimum=1)
        self.n_agents = check_int("n_agents", n_agents, minimum=1)
        if not isinstance(obs_shape, tuple):
            raise TypeError(f"obs_shape must be a tuple of ints, got {obs_shape!r}")
        self.obs_shape = tuple(check_int("obs_shape[i]", d, minimum=1) for d in obs_shape)
        lead = (n_agents, capacity)
        self.obs = np.zeros((*lead, *self.obs_shape), dtype=np.float32)
        self.next_obs = np.zeros((*lead, *self.obs_shape), dtype=np.float32)
        self.actions = np.zeros(lead, dtype=np.int64)
        self.rewards = np.zeros(lead, dtype=np.float32)
        self.terminated = np.zeros(lead, dtype=np.float32)
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        """Store one transition (per agent) in the next slot, overwriting the oldest when full.

        Args:
            obs, next_obs: ``obs_shape`` arrays (``(K, *obs_shape)`` with K agents).
            action: Discrete action (``(K,)`` with K agents).
            reward: Scalar reward (``(K,)``).
            terminated: Whether ``next_obs`` is terminal (``(K,)``). Pass Gymnasium's
                ``terminated``, never ``terminated or truncated``.
        """
        i = self.pos
        self.obs[:, i] = obs
        self.next_obs[:, i] = next_obs
        self.actions[:, i] = action
        self.rewards[:, i] = reward
        self.terminated[:, i] = terminated
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, batch_size: int, rngs: list[np.random.Generator]) -> np.ndarray:
        """Draw ``(K, batch_size)`` indices uniformly with replacement, one generator per agent."""
        return np.stack([rng.integers(0, self.size, batch_size) for rng in rngs])

    def sample(
        self,
        batch_size: int,
        rng: np.random.Generator | list[np.random.Generator],
        device: torch.device | str | None = None,
    ) -> Batch:
        """Sample a minibatch uniformly with replacement.

        Args:
            batch_size: Transitions per agent (>= 1). Sampling is with replacement, so a
                batch may be larger than what is stored (early in training).
            rng: A NumPy generator (single buffer), or a list of K generators, one per agent.
            device: Put the tensors there (default: the CPU, where they are stored).

        Returns:
            A :class:`Batch`; shapes ``(batch, ...)`` for one generator, ``(K, batch, ...)``
            for a list of K.
        """
        check_int("batch_size", batch_size, minimum=1)
        if self.size == 0:
            raise ValueError("cannot sample from an empty buffer: add transitions first")
        stacked = isinstance(rng, list)
        rngs = rng if stacked else [rng]
        if len(rngs) != self.n_agents or not all(isinstance(r, np.random.Generator) for r in rngs):
            raise TypeError(f"rng must be a numpy Generator (or a list of {self.n_agents})")
        if not stacked:
            idx = rngs[0].integers(0, self.size, batch_size)
            take = lambda a: torch.from_numpy(a[0, idx]).to(device)
        else:
            idx = self.sample_indices(batch_size, rngs)
            rows = np.arange(self.n_agents)[:, None]
            take = lambda a: torch.from_numpy(a[rows, idx]).to(device)
        return Batch(
            take(self.obs), take(self.actions), take(self.rewards),
            take(self.next_obs), take(self.terminated),
        )  # fmt: skip
