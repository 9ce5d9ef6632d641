"""Exploration schedules: epsilon as a function of the step (or episode) count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from utils._checks import check_int, check_probability

Schedule = Callable[[int], float]


@dataclass(frozen=True)
class LinearSchedule:
    """Epsilon that falls linearly from ``start`` to ``end`` over ``duration`` steps, then stays.

    Attributes:
        start: Value at step 0, in [0, 1].
        end: Value from step ``duration`` on, in [0, 1].
        duration: Number of steps the decay takes (>= 1).
    """

    start: float
    end: float
    duration: int

    def __post_init__(self) -> None:
        check_probability("start", self.start)
        check_probability("end", self.end)
        check_int("duration", self.duration, minimum=1)

    def __call__(self, t: int) -> float:
        """Return epsilon at step ``t`` (an integer; negative ``t`` counts as 0)."""
        check_int("t", t)
        fraction = min(max(t, 0) / self.duration, 1.0)
        return self.start + fraction * (self.end - self.start)


def as_schedule(epsilon: float | Schedule, name: str = "epsilon") -> Schedule:
    """Turn a constant in [0, 1] or a callable into a schedule, checking the constant.

    Raises:
        TypeError, ValueError: If ``epsilon`` is neither callable nor a number in [0, 1]
            (the message names it as ``name``).
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    if callable(epsilon):
        return epsilon
    value = check_probability(name, epsilon)
    return lambda t: value
