"""Primitives for training runs: the one check for groups of runs, episode curves on a grid of
steps, the run summary, and the largest-Q and target-drift figures (Lessons 3 and 4)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.dqn import History
from utils.run_figures import (
    check_probe_targets,
    episode_curves,
    is_run,
    plot_max_q_vs_bound,
    plot_target_drift,
    returns_on_steps,
    run_groups,
    run_summary,
    step_grid,
)


def fake_run(seed, *, peak_q=100.0, n_updates=300, returns=None, step=None):
    """A run-like object with a hand-made history (no training needed)."""
    update_steps = np.arange(101, 101 + n_updates)
    ends = np.arange(20, 101 + n_updates, 20)
    returns = np.linspace(10.0, 100.0, len(ends)) + seed if returns is None else returns
    return SimpleNamespace(
        seed=seed,
        global_step=int(update_steps[-1]) if step is None else step,
        history=History(
            episode_returns=np.asarray(returns, dtype=float),
            episode_lengths=np.full(len(ends), 20),
            episode_end_steps=ends,
            update_steps=update_steps,
            losses=np.zeros(n_updates),
            max_q=np.linspace(1.0, peak_q, n_updates),
            eval_steps=np.array([100, 200, 300]),
            eval_returns=np.array([20.0, 200.0, 480.0]),
        ),
    )


# --- the one check for groups of runs -------------------------------------------------------


def test_run_groups_accepts_mappings_and_returns_lists():
    a, b = fake_run(0), fake_run(1)
    groups = run_groups({"x": (a, b), "y": a})
    assert groups == {"x": [a, b], "y": [a]}
    assert run_groups(a, bare=True) == {"run": [a]}
    assert run_groups([a, b], bare=True) == {"run": [a, b]}
    assert run_groups({(1, 0.1): [a]}, "sweep", label_type=tuple) == {(1, 0.1): [a]}
    assert is_run(a) and not is_run(a, needs=("q_network",)) and not is_run(3)


@pytest.mark.parametrize(
    ("runs", "kwargs", "error", "match"),
    [
        ([fake_run(0)], {}, TypeError, "runs must be a mapping"),
        (3.0, {"bare": True}, TypeError, "runs must be a DQNRun, a list of DQNRuns or a mapping"),
        ({}, {}, ValueError, "runs must not be empty"),
        ([], {"bare": True}, ValueError, "runs must not be empty"),
        ({"a": []}, {}, ValueError, r"runs\['a'\] must not be empty"),
        ({"a": "runs"}, {}, TypeError, r"runs\['a'\] must be a list of runs"),
        ({"a": [1, 2]}, {}, TypeError, "must hold DQNRun objects"),
        ({1: [fake_run(0)]}, {}, TypeError, "runs keys must be strings"),
        ({"a": [fake_run(0)]}, {"needs": ("q_network",)}, TypeError, "with q_network"),
        ({"a": [fake_run(0)]}, {"label_type": tuple}, TypeError, "keys must be tuple"),
    ],
)
def test_run_groups_names_what_is_wrong(runs, kwargs, error, match):
    with pytest.raises(error, match=match):
        run_groups(runs, **kwargs)


def test_run_groups_names_the_argument():
    with pytest.raises(ValueError, match="sweep must not be empty"):
        run_groups({}, "sweep")


# --- episodes on a grid of steps ------------------------------------------------------------


def test_step_grid_reaches_the_longest_run():
    np.testing.assert_array_equal(step_grid([fake_run(0, step=250), fake_run(1, step=520)], 100),
                                  [100, 200, 300, 400, 500])  # fmt: skip
    np.testing.assert_array_equal(step_grid([fake_run(0, step=50)], 100), [100])
    with pytest.raises(ValueError, match="grid_step"):
        step_grid([fake_run(0)], 0)


def test_episode_curves_stack_one_row_per_run():
    runs = [fake_run(0, returns=np.arange(1.0, 21.0)), fake_run(1, returns=np.zeros(20))]
    curves = episode_curves(runs, np.array([10, 40, 100]), last=2)
    # episodes end every 20 steps: none by step 10, the first two by 40, five by 100
    np.testing.assert_allclose(curves, [[np.nan, 1.5, 4.5], [np.nan, 0.0, 0.0]])
    lengths = episode_curves(runs, np.array([40]), "episode_lengths")
    np.testing.assert_allclose(lengths, [[20.0], [20.0]])
    with pytest.raises(ValueError, match="field"):
        episode_curves(runs, np.array([40]), "losses")


# --- returns on a common grid of steps -----------------------------------------------------


def test_returns_on_steps_by_hand():
    got = returns_on_steps(
        np.array([10, 20, 35]), np.array([1.0, 3.0, 5.0]), np.array([5, 10, 25, 40]), last=2
    )
    # nothing ended yet; only episode 1; episodes 1-2; the last two of three
    np.testing.assert_allclose(got, [np.nan, 1.0, 2.0, 4.0])


def test_returns_on_steps_names_bad_input():
    with pytest.raises(ValueError, match="last"):
        returns_on_steps(np.array([1]), np.array([1.0]), np.array([1]), last=0)
    with pytest.raises(ValueError, match="same length"):
        returns_on_steps(np.array([1, 2]), np.array([1.0]), np.array([1]))
    with pytest.raises(ValueError, match="non-decreasing"):
        returns_on_steps(np.array([5, 2]), np.array([1.0, 2.0]), np.array([1]))


# --- the largest prediction against the bound ------------------------------------------------


def test_max_q_plot_keeps_block_maxima_and_draws_the_bound():
    steps = np.array([1, 2, 3, 4, 5])
    values = np.array([[1.0, 5.0, 2.0, 200.0, 3.0], [0.0, 0.0, 0.0, 0.0, 0.0]])
    fig = plot_max_q_vs_bound({"replay": (steps, values)}, 99.34, block=2)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    first = ax.lines[0]
    np.testing.assert_array_equal(first.get_xdata(), [2, 4, 5])  # each block's last step
    np.testing.assert_array_equal(first.get_ydata(), [5.0, 200.0, 3.0])  # 200 is not averaged away
    assert len(ax.lines) == 3  # two seeds and the bound
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(99.34)
    assert ax.get_yscale() == "symlog"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["replay (2 seeds)", "impossible above 99.34"]


def test_max_q_plot_names_bad_input():
    steps = np.arange(4)
    with pytest.raises(TypeError, match="curves"):
        plot_max_q_vs_bound({}, 1.0)
    with pytest.raises(TypeError, match="tuple"):
        plot_max_q_vs_bound({"a": np.ones(4)}, 1.0)
    with pytest.raises(ValueError, match="max_q must have shape"):
        plot_max_q_vs_bound({"a": (steps, np.ones((2, 3)))}, 1.0)
    with pytest.raises(ValueError, match="block"):
        plot_max_q_vs_bound({"a": (steps, np.ones(4))}, 1.0, block=0)
    with pytest.raises(TypeError, match="bound"):
        plot_max_q_vs_bound({"a": (steps, np.ones(4))}, "high")


# --- the drifting targets --------------------------------------------------------------------


def test_drift_plot_draws_mean_target_chosen_transitions_and_predictions():
    steps = np.array([10, 20, 30])
    targets = np.array([[1.0, 1.0, 2.0], [1.0, 3.0, 5.0], [1.0, 6.0, 8.0]])  # 0 is fixed
    predictions = targets - 0.5
    fig = plot_target_drift(steps, targets, predictions=predictions, show=[0, 2], bound=5.0)
    ax = fig.axes[0]
    mean = ax.lines[0]
    np.testing.assert_allclose(mean.get_ydata(), targets.mean(axis=1))
    solid = [ln for ln in ax.lines[1:] if ln.get_linestyle() == "-"]
    dotted = [ln for ln in ax.lines if ln.get_linestyle() == ":" and len(ln.get_xdata())]
    np.testing.assert_allclose(solid[0].get_ydata(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(solid[1].get_ydata(), [2.0, 5.0, 8.0])
    np.testing.assert_allclose(dotted[1].get_ydata(), [1.5, 4.5, 7.5])
    assert any(ln.get_linestyle() == "--" and ln.get_ydata()[0] == 5.0 for ln in ax.lines)


def test_drift_plot_names_bad_input():
    steps, targets = np.arange(3), np.ones((3, 4))
    with pytest.raises(ValueError, match="targets must have shape"):
        plot_target_drift(steps, np.ones((2, 4)))
    with pytest.raises(ValueError, match="predictions"):
        plot_target_drift(steps, targets, predictions=np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"show\[i\]"):
        plot_target_drift(steps, targets, show=[4])
    with pytest.raises(TypeError, match="show"):
        plot_target_drift(steps, targets, show=2)


def test_probe_target_check_returns_floats_and_names_the_caller_arrays():
    steps, y, other = check_probe_targets([1, 2], [[1, 2], [3, 4]])
    assert other is None and steps.dtype == y.dtype == np.float64 and y.shape == (2, 2)
    _, _, other = check_probe_targets([1, 2], np.ones((2, 3)), np.zeros((2, 3), dtype=int))
    assert other.dtype == np.float64
    names = ("frozen_targets", "moving_targets")
    with pytest.raises(ValueError, match=r"^frozen_targets must have shape .* = 0 .* got \(0, 3\)"):
        check_probe_targets(np.arange(0), np.ones((0, 3)), names=names)
    with pytest.raises(ValueError, match=r"^moving_targets must have the shape of frozen_targets"):
        check_probe_targets(np.arange(2), np.ones((2, 3)), np.ones((2, 2)), names=names)
    with pytest.raises(TypeError, match="names"):
        check_probe_targets(np.arange(2), np.ones((2, 3)), names=["targets", "predictions"])


# --- the run summary ----------------------------------------------------------------------


def test_run_summary_by_hand():
    run = fake_run(3, peak_q=199.0, n_updates=199)  # max_q = 1, 2, ..., 199
    summary = run_summary(run, 99.5, last=2)
    assert summary["seed"] == 3
    assert summary["share_above"] == pytest.approx(100 / 199)  # 100, ..., 199 are above
    assert summary["max_q"] == 199.0
    returns = run.history.episode_returns
    assert summary["final_return"] == pytest.approx(returns[-2:].mean())
    with pytest.raises(TypeError, match="run"):
        run_summary(object(), 99.5)
    with pytest.raises(ValueError, match="last"):
        run_summary(run, 99.5, last=0)


def test_run_summary_without_a_bound():
    summary = run_summary(fake_run(0, peak_q=50.0), None)
    assert np.isnan(summary["share_above"]) and summary["max_q"] == 50.0


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: step_grid([], 100), ValueError, "runs must not be empty"),
        (lambda: step_grid(fake_run(0), 100), TypeError, "runs must be a list of runs"),
        (lambda: episode_curves([1], np.array([10])), TypeError, "DQNRun"),
        (lambda: episode_curves("runs", np.array([10])), TypeError, "list of runs"),
    ],
)
def test_grid_helpers_name_bad_groups(call, error, match):
    with pytest.raises(error, match=match):
        call()
