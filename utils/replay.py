"""Experience replay: a ring buffer of transitions in preallocated arrays."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from utils._checks import check_int

_MAX_ACTION = 2**24  # actions are stored as float32, exact below this
_KIND_NAMES = {"iu": "integers", "iuf": "numbers", "biuf": "bools or numbers"}


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

    All storage is allocated up front; ``add`` writes one slot and ``sample`` gathers random
    slots, so neither allocates per transition. One transition is one row of a float32 array
    ``[obs, next_obs, reward, terminated, action]`` (the action as a float, exact for any
    action id below 2**24), so sampling a transition reads one block of memory instead of five.
    ``obs``, ``next_obs``, ``rewards``, ``terminated`` and ``actions`` give the fields as arrays
    of shape ``(K, capacity, ...)``.

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
        d = int(np.prod(self.obs_shape))
        self._d = d
        # Agent k's slot i is row k * capacity + i; one ``take`` gathers every agent's batch.
        self._rows = np.zeros((n_agents * capacity, 2 * d + 3), dtype=np.float32)
        self._slots = self._rows.reshape(n_agents, capacity, 2 * d + 3)
        self._offsets = np.arange(n_agents)[:, None] * capacity
        # add() writes a transition here first and checks it against these bounds per column:
        # finite observations and reward, terminated in [0, 1], actions in [0, 2**24).
        self._staging = np.zeros((n_agents, 2 * d + 3), dtype=np.float32)
        big = np.finfo(np.float32).max
        self._low = np.array([-big] * (2 * d + 1) + [0, 0], dtype=np.float32)
        self._high = np.array([big] * (2 * d + 1) + [1, _MAX_ACTION - 1], dtype=np.float32)
        self.pos = 0
        self.size = 0

    @property
    def obs(self) -> np.ndarray:
        """Stored observations ``(K, capacity, *obs_shape)`` (a view)."""
        return self._slots[..., : self._d].reshape(*self._slots.shape[:2], *self.obs_shape)

    @property
    def next_obs(self) -> np.ndarray:
        """Stored next observations ``(K, capacity, *obs_shape)`` (a view)."""
        d = self._d
        return self._slots[..., d : 2 * d].reshape(*self._slots.shape[:2], *self.obs_shape)

    @property
    def rewards(self) -> np.ndarray:
        """Stored rewards ``(K, capacity)`` (a view)."""
        return self._slots[..., 2 * self._d]

    @property
    def terminated(self) -> np.ndarray:
        """Stored terminal flags ``(K, capacity)``, 1.0 where ``next_obs`` is terminal (a view)."""
        return self._slots[..., 2 * self._d + 1]

    @property
    def actions(self) -> np.ndarray:
        """Stored actions ``(K, capacity)`` as int64 (a copy)."""
        return self._slots[..., 2 * self._d + 2].astype(np.int64)

    def __len__(self) -> int:
        return self.size

    def add(self, obs, action, reward, next_obs, terminated) -> None:
        """Store one transition (per agent) in the next slot, overwriting the oldest when full.

        Every field is checked before anything is written: on an error the buffer is as it was.

        Args:
            obs, next_obs: ``obs_shape`` arrays (``(K, *obs_shape)`` with K agents), finite.
            action: Discrete action id in [0, 2**24) (``(K,)`` with K agents).
            reward: Finite reward (``(K,)``).
            terminated: Whether ``next_obs`` is terminal: a bool, or 0/1 (``(K,)``). Pass
                Gymnasium's ``terminated``, never ``terminated or truncated``.

        Raises:
            ValueError: If a field has the wrong shape or an impossible value.
        """
        d, row = self._d, self._staging
        row[:, :d] = self._as_rows("obs", obs)
        row[:, d : 2 * d] = self._as_rows("next_obs", next_obs)
        row[:, 2 * d] = self._per_agent("reward", reward, "iuf")
        row[:, 2 * d + 1] = flags = self._per_agent("terminated", terminated, "biuf")
        row[:, 2 * d + 2] = self._per_agent("action", action, "iu")
        if not ((row >= self._low) & (row <= self._high)).all() or (
            flags.dtype != bool and (flags != flags.round()).any()
        ):  # NaN fails both comparisons, so it lands here too
            raise ValueError(self._out_of_range(obs, action, reward, next_obs, terminated))
        self._slots[:, self.pos] = row  # only now, when every field is known to be good
        self.pos = (self.pos + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    @staticmethod
    def _out_of_range(obs, action, reward, next_obs, terminated) -> str:
        """Name the first field of a transition :meth:`add` refused, and why."""
        fields = {"obs": obs, "next_obs": next_obs, "reward": reward}
        for name, value in fields.items():
            if not np.isfinite(np.asarray(value, dtype=np.float32)).all():
                return f"{name} must be finite, got {value}"
        flags = np.asarray(terminated)
        if not np.isin(flags, (0, 1)).all():
            return f"terminated must be True/False (or 1/0), got {terminated}"
        return f"action must be action ids in [0, 2**24), got {action}"

    def _as_rows(self, name: str, value) -> np.ndarray:
        """``value`` as ``(K, prod(obs_shape))`` float32 rows, or a ValueError naming it."""
        expected = (self.n_agents, *self.obs_shape) if self.n_agents > 1 else self.obs_shape
        try:
            return np.asarray(value, dtype=np.float32).reshape(self.n_agents, self._d)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} must be an array of numbers of shape {expected}, got {np.shape(value)}"
            ) from exc

    def _per_agent(self, name: str, value, kinds: str) -> np.ndarray:
        """``value`` as one entry per agent (a scalar, or ``(K,)``) of a dtype kind in ``kinds``."""
        array = np.asarray(value)
        if array.shape not in ((), (self.n_agents,)) or array.dtype.kind not in kinds:
            shape = "a scalar" if self.n_agents == 1 else f"shape ({self.n_agents},)"
            raise ValueError(
                f"{name} must be {shape} of {_KIND_NAMES[kinds]}, got shape {array.shape} "
                f"and dtype {array.dtype}"
            )
        return array

    def sample_indices(self, batch_size: int, rngs: list[np.random.Generator]) -> np.ndarray:
        """Draw ``(K, batch_size)`` indices uniformly with replacement, one generator per agent."""
        check_int("batch_size", batch_size, minimum=1)
        self._check_rngs(rngs)
        return np.stack([rng.integers(0, self.size, batch_size) for rng in rngs])

    def _check_rngs(self, rngs: list) -> None:
        if self.size == 0:
            raise ValueError("cannot sample from an empty buffer: add transitions first")
        if (
            not isinstance(rngs, list)
            or len(rngs) != self.n_agents
            or not all(isinstance(r, np.random.Generator) for r in rngs)
        ):
            raise TypeError(f"rng must be a numpy Generator (or a list of {self.n_agents})")

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
        stacked = isinstance(rng, list)
        rngs = rng if stacked else [rng]
        self._check_rngs(rngs)
        if device is not None and not isinstance(device, (str, torch.device)):
            raise TypeError(f"device must be a str or torch.device, got {type(device).__name__}")
        if stacked:
            indices = np.stack([r.integers(0, self.size, batch_size) for r in rngs])
        else:
            indices = rngs[0].integers(0, self.size, batch_size)
        return self.gather(indices, device)

    def gather(self, indices: np.ndarray, device: torch.device | str | None = None) -> Batch:
        """Return the transitions at ``indices`` as a :class:`Batch` (what :meth:`sample` returns).

        Args:
            indices: ``(K, batch)`` int64 slots, row ``k`` from agent ``k``'s buffer, or
                ``(batch,)`` for a single buffer; each in ``[0, len(self))``.
            device: Put the tensors there (default: the CPU, where they are stored).

        Raises:
            ValueError: If ``indices`` is not an integer array of those shapes and range.
        """
        if (
            not isinstance(indices, np.ndarray)
            or indices.dtype.kind not in "iu"
            or indices.ndim not in (1, 2)
            or (indices.ndim == 2 and indices.shape[0] != self.n_agents)
            or (indices.ndim == 1 and self.n_agents != 1)
            or indices.size == 0
            or indices.min() < 0
            or indices.max() >= self.size
        ):
            raise ValueError(
                f"indices must be integers in [0, {self.size}) of shape ({self.n_agents}, batch)"
                + (" or (batch,)" if self.n_agents == 1 else "")
            )
        if indices.ndim == 2:
            rows, lead = (indices + self._offsets).ravel(), indices.shape
        else:
            rows, lead = indices, indices.shape
        picked = self._rows.take(rows, axis=0)  # (K * batch, row): slice it with NumPy views
        d, obs_shape = self._d, (*lead, *self.obs_shape)

        def tensor(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a).to(device)

        return Batch(
            obs=tensor(picked[:, :d].reshape(obs_shape)),
            actions=tensor(picked[:, 2 * d + 2].astype(np.int64).reshape(lead)),
            rewards=tensor(picked[:, 2 * d].reshape(lead)),
            next_obs=tensor(picked[:, d : 2 * d].reshape(obs_shape)),
            terminated=tensor(picked[:, 2 * d + 1].reshape(lead)),
        )
