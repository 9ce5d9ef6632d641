"""Summaries of a few runs that survive a bad seed: IQM and bootstrap confidence intervals.

Following rliable (Agarwal et al., 2021, "Deep RL at the edge of the statistical precipice"):
report the interquartile mean (IQM) over runs, with a percentile-bootstrap confidence
interval over runs, rather than a mean of three seeds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from utils._checks import check_choice, check_float, check_int, check_seed

STATISTICS = ("iqm", "mean")


def _as_values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"values must be a sequence of numbers, got {values!r}")
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"values must be a sequence of numbers, got {values!r}") from exc
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"values must be a non-empty 1-D sequence, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("values must be finite (no NaN or inf)")
    return array


def _trimmed_means(samples: np.ndarray) -> np.ndarray:
    """IQM of each row of ``samples`` ``(m, n)``: drop ``floor(n / 4)`` values at each end."""
    n = samples.shape[-1]
    cut = int(0.25 * n)
    ordered = np.sort(samples, axis=-1)
    return ordered[..., cut : n - cut].mean(axis=-1)


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Return the interquartile mean: the mean of the middle half of ``values``.

    As rliable's IQM, i.e. ``scipy.stats.trim_mean(values, 0.25)``: ``floor(n / 4)`` values are
    dropped at each end (so with 10 runs, the 2 lowest and 2 highest), and fewer than 4 values
    are averaged whole. One collapsed seed moves it far less than the mean.

    Args:
        values: ``(n_runs,)`` one number per run (e.g. each seed's final return).

    Raises:
        TypeError: If ``values`` are not numbers.
        ValueError: If ``values`` is empty, not 1-D, or not finite.
    """
    return float(_trimmed_means(_as_values(values)[None])[0])


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: str = "iqm",
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int = 0,
) -> tuple[float, float]:
    """Return a percentile-bootstrap confidence interval ``(low, high)`` for ``statistic``.

    The runs are resampled with replacement ``n_resamples`` times; the interval holds the
    middle ``confidence`` of the statistic over the resamples (rliable's default method).

    Args:
        values: ``(n_runs,)`` one number per run.
        statistic: ``'iqm'`` (see :func:`iqm`) or ``'mean'``.
        confidence: Coverage in (0, 1), e.g. 0.95.
        n_resamples: Bootstrap resamples (>= 100).
        seed: Seed of the resampling; the same seed gives the same interval.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    array = _as_values(values)
    check_choice("statistic", statistic, STATISTICS)
    confidence = check_float("confidence", confidence, low=0.0, high=1.0, low_inclusive=False,
                             high_inclusive=False)  # fmt: skip
    n_resamples = check_int("n_resamples", n_resamples, minimum=100)
    rng = np.random.default_rng(check_seed("seed", seed))
    samples = array[rng.integers(0, array.size, size=(n_resamples, array.size))]
    stats = _trimmed_means(samples) if statistic == "iqm" else samples.mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(stats, [tail, 100 - tail])
    return float(low), float(high)


def summarize(
    values: Sequence[float] | np.ndarray,
    statistic: str = "iqm",
    confidence: float = 0.95,
    unit: str = "seeds",
    digits: int = 0,
) -> str:
    """Return e.g. ``"IQM 487 [95% CI 471, 500] over 10 seeds"``.

    Args:
        values: ``(n_runs,)`` one number per run.
        statistic: ``'iqm'`` or ``'mean'``.
        confidence: Coverage of the bootstrap interval, in (0, 1).
        unit: What one value is (``"seeds"``, ``"runs"``).
        digits: Decimals shown (>= 0).
    """
    array = _as_values(values)
    check_choice("statistic", statistic, STATISTICS)
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string, got {type(unit).__name__}")
    digits = check_int("digits", digits, minimum=0)
    low, high = bootstrap_ci(array, statistic, confidence)
    point = iqm(array) if statistic == "iqm" else float(array.mean())
    name = "IQM" if statistic == "iqm" else "mean"
    return (
        f"{name} {point:.{digits}f} [{100 * confidence:g}% CI {low:.{digits}f}, "
        f"{high:.{digits}f}] over {array.size} {unit}"
    )
