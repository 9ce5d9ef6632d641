"""Argument checks shared by every public function: fail early, name the parameter."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` as an int or raise, naming ``name`` and the allowed range.

    Bools are rejected: ``True`` is an int in Python but never a sensible count or seed.
    """
    if type(value) is not int:  # the common case skips the slower abstract-class check
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
        value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    finite: bool = False,
) -> float:
    """Return ``value`` as a float in the given interval or raise, naming ``name``.

    With ``finite=True`` infinities are rejected too (a learning rate of ``inf`` is in
    ``(0, inf]`` but is no learning rate).
    """
    if type(value) is not float:  # the common case skips the slower abstract-class check
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({value!r})")
        value = float(value)
    interval = (
        f"{'[' if low_inclusive else '('}{'-inf' if low is None else low}, "
        f"{'inf' if high is None else high}{']' if high_inclusive else ')'}"
    )
    if value != value:  # NaN fails every comparison below, so name it explicitly
        raise ValueError(f"{name} must be in {interval}, got nan")
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    too_low = low is not None and (value < low if low_inclusive else value <= low)
    too_high = high is not None and (value > high if high_inclusive else value >= high)
    if too_low or too_high:
        raise ValueError(f"{name} must be in {interval}, got {value}")
    return value


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` if it lies in [0, 1], else raise naming ``name``."""
    return check_float(name, value, low=0.0, high=1.0)


def check_seed(name: str, value: Any) -> int:
    """Return a valid seed (an int in [0, 2**32 - 1]) or raise naming ``name``."""
    return check_int(name, value, minimum=0, maximum=2**32 - 1)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise naming ``name`` (``"no"`` is not False)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} ({value!r})")
    return value


def check_callable(name: str, value: Any, *, optional: bool = False) -> Any:
    """Return ``value`` if callable (or None when ``optional``), else raise naming ``name``."""
    if value is None and optional:
        return value
    if not callable(value):
        allowed = "a callable or None" if optional else "a callable"
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} ({value!r})")
    return value


def check_str(name: str, value: Any) -> str:
    """Return ``value`` if it is a str, else raise naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__} ({value!r})")
    return value


def check_policy_array(policy: object, n_states: int, n_actions: int) -> np.ndarray:
    """Return ``policy`` as an integer array ``(n_states,)`` of actions in range, or raise."""
    array = np.asarray(policy)
    if array.shape != (n_states,) or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(
            f"policy must be an integer array of shape ({n_states},), got "
            f"shape {array.shape} and dtype {array.dtype}"
        )
    if array.min() < 0 or array.max() >= n_actions:
        raise ValueError(f"policy actions must be in [0, {n_actions - 1}]")
    return array


def check_q_table(q_table: object, name: str = "q_table") -> np.ndarray:
    """Return ``q_table`` as a float array ``(n_states, n_actions)`` without NaN, or raise."""
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
