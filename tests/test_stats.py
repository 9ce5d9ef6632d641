"""IQM and bootstrap confidence intervals on cases worked out by hand."""

import numpy as np
import pytest

from utils.stats import bootstrap_ci, iqm, summarize


@pytest.mark.parametrize(
    "values, expected",
    [
        (range(1, 11), 5.5),  # drop 1, 2 and 9, 10: mean of 3..8
        ([4.0, 1.0, 3.0, 2.0], 2.5),  # drop 1 and 4
        ([1.0, 2.0, 3.0], 2.0),  # fewer than 4 values: nothing dropped
        ([7.0], 7.0),
        (range(1, 9), 4.5),  # drop 2 at each end: mean of 3..6
        ([100.0] * 9 + [0.0], 100.0),  # one collapsed seed does not move it (the mean is 90)
    ],
)
def test_iqm_by_hand(values, expected):
    assert iqm(values) == pytest.approx(expected)


def test_iqm_drops_floor_of_a_quarter_like_scipy_trim_mean():
    """scipy.stats.trim_mean(x, 0.25) cuts int(0.25 * n) values per end: 2 of 11, not 2.75."""
    values = np.arange(11.0)  # cut 0, 1 and 9, 10: mean of 2..8 = 5
    assert iqm(values) == 5.0
    assert iqm(np.r_[values, 1000.0]) == pytest.approx(np.arange(3.0, 9.0).mean())  # n=12: cut 3


def test_bootstrap_ci_of_two_runs_by_hand():
    # resampled means of [0, 1]: 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4
    assert bootstrap_ci([0.0, 1.0], "mean", n_resamples=4000) == (0.0, 1.0)
    assert bootstrap_ci([0.0, 1.0], "mean", confidence=0.4, n_resamples=4000) == (0.5, 0.5)


def test_bootstrap_ci_is_reproducible_and_holds_the_estimate():
    values = np.random.default_rng(0).normal(400.0, 50.0, size=10)
    low, high = bootstrap_ci(values, seed=3)
    assert (low, high) == bootstrap_ci(values, seed=3)
    assert low < iqm(values) < high
    assert bootstrap_ci([5.0] * 6) == (5.0, 5.0)


def test_bootstrap_ci_of_the_mean_covers_the_true_mean_about_as_often_as_it_says():
    rng = np.random.default_rng(1)
    trials, covered = 200, 0
    for i in range(trials):
        sample = rng.normal(0.0, 1.0, size=20)
        low, high = bootstrap_ci(sample, "mean", 0.9, n_resamples=1000, seed=i)
        covered += low <= 0.0 <= high
    assert 0.8 <= covered / trials <= 0.97  # percentile intervals run a little narrow at n=20


def test_summarize_reads_like_a_results_line():
    text = summarize(range(1, 11), digits=1)
    low, high = bootstrap_ci(range(1, 11))
    assert text == f"IQM 5.5 [95% CI {low:.1f}, {high:.1f}] over 10 seeds"
    assert summarize([1.0, 3.0], "mean", unit="runs").startswith("mean 2 [95% CI 1, 3]")
