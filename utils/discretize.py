"""Turn a continuous observation into a table row: equal-width bins per dimension (Lesson 2).

A Q-table needs one row per state. CartPole's state is four real numbers, so the lesson cuts
each dimension into ``bins`` equal-width intervals and numbers the resulting grid cells
``0 .. bins**4 - 1``. Velocities have no bounds in the observation space, so the wrapper
clips them to stated bounds first: everything faster than the bound lands in the end bin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from utils._checks import check_float, check_int
from utils.envs import make_env

#: Clipping bounds for CartPole-v1's (cart position, cart velocity, pole angle, pole angular
#: velocity). Position and angle use the limits where an episode terminates (2.4 and 12 degrees);
#: the velocities have no limit, and +-3 / +-3.5 hold more than 99.5 % of the values seen under a
#: random policy, so almost nothing is clipped.
CARTPOLE_LOW: tuple[float, ...] = (-2.4, -3.0, -0.2095, -3.5)
CARTPOLE_HIGH: tuple[float, ...] = (2.4, 3.0, 0.2095, 3.5)


def bin_index(value: float, low: float, high: float, bins: int) -> int:
    """Return which of ``bins`` equal-width bins over ``[low, high]`` holds ``value``.

    Bin ``i`` covers ``[low + i * w, low + (i + 1) * w)`` with ``w = (high - low) / bins``;
    values below ``low`` go to bin 0 and values at or above ``high`` to bin ``bins - 1``
    (clipping), so every real number has a bin.

    Args:
        value: The number to place.
        low: Lower edge of the first bin.
        high: Upper edge of the last bin, ``> low``.
        bins: Number of bins, ``>= 1``.

    Returns:
        An int in ``[0, bins - 1]``.

    Raises:
        TypeError: If an argument has the wrong type.
        ValueError: If ``bins < 1``, ``high <= low``, a bound is not finite or ``value`` is NaN.
    """
    value = check_float("value", value)
    low = check_float("low", low)
    high = check_float("high", high)
    bins = check_int("bins", bins, minimum=1)
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise ValueError(f"low and high must be finite with high > low, got low={low}, high={high}")
    return _bin(value, low, (high - low) / bins, bins)


def _bin(value: float, low: float, width: float, bins: int) -> int:
    # Clip before dividing so +-inf also lands in an end bin.
    if value <= low:
        return 0
    position = (value - low) / width
    return int(position) if position < bins else bins - 1


class DiscretizeObservation(gym.ObservationWrapper):
    """Replace a ``Box`` observation by the number of its grid cell, a ``Discrete`` state.

    Dimension ``d`` is cut into ``bins[d]`` equal-width bins over ``[low[d], high[d]]``
    (values outside are clipped into the end bins). The cell ``(i_0, ..., i_{D-1})`` gets the
    number ``i_0 * bins[1] * ... * bins[D-1] + ... + i_{D-1}`` (row-major, like
    ``np.ravel_multi_index``), so the observation space is ``Discrete(prod(bins))``.

    Example:
        >>> env = DiscretizeObservation(gym.make("CartPole-v1"), bins=6,
        ...                             low=CARTPOLE_LOW, high=CARTPOLE_HIGH)
        >>> env.observation_space
        Discrete(1296)

    Args:
        env: An environment whose observation space is a 1-D ``Box``.
        bins: Bins per dimension: one int for every dimension, or one int per dimension
            (each ``>= 1``).
        low: Lower clipping bound per dimension, shape ``(D,)``; defaults to the space's ``low``.
        high: Upper clipping bound per dimension, shape ``(D,)``; defaults to the space's
            ``high``. Both must end up finite with ``high > low``: CartPole's velocities are
            unbounded, so pass bounds for them (e.g. :data:`CARTPOLE_LOW`/:data:`CARTPOLE_HIGH`).

    Raises:
        TypeError: If ``env`` is not an env with a ``Box`` observation space, or ``bins`` is
            not an int or a sequence of ints.
        ValueError: If a bin count is below 1, the lengths disagree, or a bound is infinite or
            empty.
    """

    def __init__(
        self,
        env: gym.Env,
        bins: int | Sequence[int],
        low: Sequence[float] | np.ndarray | None = None,
        high: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        if not isinstance(env, gym.Env):
            raise TypeError(f"env must be a gymnasium.Env, got {type(env).__name__}")
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
            raise TypeError(f"env must have a 1-D Box observation space, got {space}")
        dims = space.shape[0]
        if isinstance(bins, Sequence) and not isinstance(bins, str):
            if len(bins) != dims:
                raise ValueError(
                    f"bins must have one entry per dimension ({dims}), got {len(bins)}"
                )
            counts = tuple(check_int(f"bins[{d}]", b, minimum=1) for d, b in enumerate(bins))
        else:
            counts = (check_int("bins", bins, minimum=1),) * dims
        lows = self._bounds("low", space.low if low is None else low, dims)
        highs = self._bounds("high", space.high if high is None else high, dims)
        for d in range(dims):
            if not highs[d] > lows[d]:
                raise ValueError(f"high[{d}] must be > low[{d}], got {highs[d]} <= {lows[d]}")
        super().__init__(env)
        self.bins: tuple[int, ...] = counts
        self.low: tuple[float, ...] = lows
        self.high: tuple[float, ...] = highs
        self._widths = tuple((h - lo) / b for lo, h, b in zip(lows, highs, counts, strict=True))
        self.n_states: int = math.prod(counts)
        self.observation_space = gym.spaces.Discrete(self.n_states)

    @staticmethod
    def _bounds(name: str, values: Any, dims: int) -> tuple[float, ...]:
        array = np.asarray(values, dtype=float)
        if array.shape != (dims,):
            raise ValueError(f"{name} must have shape ({dims},), got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(
                f"{name} must be finite in every dimension, got {array.tolist()}; unbounded "
                "dimensions (such as velocities) need explicit clipping bounds"
            )
        return tuple(float(v) for v in array)

    def cell(self, observation: np.ndarray) -> tuple[int, ...]:
        """Return the bin of each dimension of ``observation`` (shape ``(D,)``), a D-tuple."""
        values = np.asarray(observation, dtype=float).reshape(-1).tolist()
        if len(values) != len(self.bins):
            raise ValueError(f"observation must have {len(self.bins)} entries, got {len(values)}")
        return tuple(
            _bin(v, lo, w, b)
            for v, lo, w, b in zip(values, self.low, self._widths, self.bins, strict=True)
        )

    def cell_centres(self) -> np.ndarray:
        """Return the centre of every cell, row ``s`` for state ``s``: shape ``(n_states, D)``.

        End bins are centred inside the clipping bounds, although they also hold everything
        beyond them.
        """
        axes = [
            lo + (np.arange(b) + 0.5) * w
            for lo, w, b in zip(self.low, self._widths, self.bins, strict=True)
        ]
        grids = np.meshgrid(*axes, indexing="ij")  # row-major, like observation()
        return np.stack([g.reshape(-1) for g in grids], axis=1)

    def observation(self, observation: np.ndarray) -> int:
        """Return the state number of ``observation`` (shape ``(D,)``), in ``[0, n_states)``."""
        index = 0
        # Plain floats beat NumPy on four numbers, and this runs on every step.
        for v, lo, w, b in zip(
            observation.tolist(), self.low, self._widths, self.bins, strict=True
        ):
            index = index * b + _bin(v, lo, w, b)
        return index


def make_discrete_cartpole(
    bins: int | Sequence[int],
    seed: int | None = None,
    low: Sequence[float] = CARTPOLE_LOW,
    high: Sequence[float] = CARTPOLE_HIGH,
    **kwargs: Any,
) -> DiscretizeObservation:
    """Create ``CartPole-v1`` (via :func:`utils.envs.make_env`) with a binned observation.

    Args:
        bins: Bins per dimension (an int for all four, or four ints), each ``>= 1``.
        seed: Optional seed in [0, 2**32 - 1], as in :func:`utils.envs.make_env`.
        low: Lower clipping bounds, shape ``(4,)``; default :data:`CARTPOLE_LOW`.
        high: Upper clipping bounds, shape ``(4,)``; default :data:`CARTPOLE_HIGH`.
        **kwargs: Passed to :func:`utils.envs.make_env` (e.g. ``render_mode``).

    Returns:
        The environment; its observation space is ``Discrete(prod(bins))``.
    """
    return DiscretizeObservation(make_env("CartPole-v1", seed=seed, **kwargs), bins, low, high)


def cartpole_table_entries(bins: int, n_actions: int = 2, dims: int = 4) -> int:
    """Return the number of Q-table entries, ``bins**dims * n_actions``, for equal bins.

    Args:
        bins: Bins per dimension, ``>= 1``.
        n_actions: Number of actions, ``>= 1`` (CartPole has 2).
        dims: Number of observation dimensions, ``>= 1`` (CartPole has 4).
    """
    bins = check_int("bins", bins, minimum=1)
    n_actions = check_int("n_actions", n_actions, minimum=1)
    dims = check_int("dims", dims, minimum=1)
    return bins**dims * n_actions
