"""Lesson 4: the moving target on fixed data, the per-sync limit, the stability map."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.lessons.lesson4 import draw_sync_limit, plot_target_staircase, sync_limit
from utils.lessons.lesson4_fixed_data import (
    FixedData,
    FixedDataSweep,
    StabilityMapExplorer,
    collect_fixed_data,
    plot_fixed_data_traces,
    plot_stability_map,
    stability_map_explorer,
    train_on_fixed_data,
)


@pytest.fixture(scope="module")
def data() -> FixedData:
    return collect_fixed_data(300, seed=0, gamma=0.9)


@pytest.fixture(scope="module")
def sweep(data) -> FixedDataSweep:
    return train_on_fixed_data(
        data, [1e-3, 1e-2], [1, 5, 1000], steps=60, batch_size=16, hidden_sizes=(16,),
        loss="huber", record_every=20,
    )  # fmt: skip


def test_monte_carlo_returns_by_hand(data):
    # within an episode G_t = r_t + gamma * G_{t+1}; the terminal transition's G is its reward
    g, r, t = data.returns, data.rewards.numpy(), data.terminated.numpy()
    ends = np.flatnonzero(t == 1)
    assert len(ends) == data.episodes and ends[-1] == len(data) - 1
    assert np.allclose(g[ends], r[ends])
    inside = np.setdiff1d(np.arange(len(data) - 1), ends)
    assert np.allclose(g[inside], r[inside] + 0.9 * g[inside + 1])
    assert len(data) >= 300 and data.dropped == 0


def test_truncated_episodes_are_left_out():
    cut = collect_fixed_data(200, seed=1, max_episode_steps=10)
    assert cut.dropped > 0  # the random policy often lasts 10 steps
    assert cut.terminated.sum() == cut.episodes  # every kept episode ends in a termination


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_transitions=0, seed=0), "n_transitions"),
        (dict(n_transitions=10, seed=-1), "seed"),
        (dict(n_transitions=10, seed=0, gamma=1.0), "gamma"),
    ],
)
def test_collect_rejects_bad_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        collect_fixed_data(**kwargs)


def test_sweep_shapes_and_same_start(sweep):
    assert sweep.learning_rates == (1e-3, 1e-2) and sweep.periods == (1, 5, 1000)
    assert sweep.max_q.shape == sweep.error.shape == (2, 3, 3)
    assert list(sweep.steps) == [20, 40, 60]
    assert sweep.bound == pytest.approx(10.0)
    assert sweep.largest().shape == (2, 3)
    assert sweep.index(1e-2, 5) == (1, 1)
    with pytest.raises(ValueError, match="swept"):
        sweep.index(3e-3, 5)


def test_same_pair_gives_the_same_numbers(data):
    kwargs = dict(steps=30, batch_size=8, hidden_sizes=(8,), record_every=10)
    a = train_on_fixed_data(data, [1e-3], [1, 10], **kwargs)
    b = train_on_fixed_data(data, [1e-3], [1, 10], **kwargs)
    assert np.array_equal(a.max_q, b.max_q) and np.array_equal(a.error, b.error)
    # before the first sync C = 10 trains on the first network's labels, C = 1 on its own:
    # both start alike, so their first update is identical
    first = train_on_fixed_data(data, [1e-3], [1, 10], steps=1, batch_size=8,
                                hidden_sizes=(8,), record_every=1)  # fmt: skip
    assert first.max_q[0, 0, 0] == first.max_q[0, 1, 0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(learning_rates=[0.0], periods=[1]), "learning_rates"),
        (dict(learning_rates=[1e-3], periods=[0]), "periods"),
        (dict(learning_rates=[], periods=[1]), "empty"),
        (dict(learning_rates=[1e-3], periods=[1], loss="l1"), "loss"),
        (dict(learning_rates=[1e-3], periods=[1], steps=0, record_every=1), "steps"),
    ],
)
def test_train_rejects_bad_arguments(data, kwargs, match):
    args = dict(steps=10, record_every=5) | kwargs
    with pytest.raises((TypeError, ValueError), match=match):
        train_on_fixed_data(data, **args)
    with pytest.raises(TypeError, match="data"):
        train_on_fixed_data("data", [1e-3], [1], steps=1)


def test_over_limit_divides_the_largest_q_by_the_last_limit(sweep):
    # 60 steps, gamma 0.9: C = 1 synced 59 times, C = 5 11 times, C = 1000 never
    limits = [(1 - 0.9**60) / 0.1, (1 - 0.9**12) / 0.1, 1.0]
    np.testing.assert_allclose(sweep.over_limit(), sweep.largest() / limits, rtol=1e-6)


def test_sync_limit_by_hand():
    # C = 2, gamma = 0.5, first update at step 1: syncs after steps 2, 4, ...
    limit = sync_limit(np.arange(1, 7), 2, 0.5)
    assert np.allclose(limit, [1, 1, 1.5, 1.5, 1.75, 1.75])
    # learning starts at step 5 (first update 5): the syncs at steps 2 and 4 copy nothing
    late = sync_limit(np.array([5, 6, 7, 9]), 2, 0.5, first_update=5)
    assert np.allclose(late, [1, 1, 1.5, 1.75])
    with pytest.raises(ValueError, match="period"):
        sync_limit(np.arange(3), 0, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        sync_limit(np.arange(3), 2, 1.0)


def test_staircase_draws_the_limit():
    steps = np.arange(1001, 1401)
    targets = np.repeat(np.arange(4.0), 100)[:, None] * np.ones((1, 3))
    limit = sync_limit(steps, 100, 0.99, first_update=1001)
    fig = plot_target_staircase(steps, targets, sync_period=100, limit=limit)
    assert isinstance(fig, Figure)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert any(label.startswith("per-sync limit") for label in labels)
    with pytest.raises(ValueError, match="limit"):
        plot_target_staircase(steps, targets, limit=limit[:-1])
    with pytest.raises(ValueError, match="limit"):
        draw_sync_limit(fig.axes[0], steps, limit[:-1])


def test_figures_and_widget(sweep, data):
    assert isinstance(plot_fixed_data_traces(sweep, 1e-3, data_returns=data.returns), Figure)
    assert isinstance(plot_stability_map(sweep, highlight=(1e-2, 5)), Figure)
    explorer = stability_map_explorer(sweep, start=(1e-3, 5))
    assert isinstance(explorer, StabilityMapExplorer)
    explorer.move(C=1)
    assert explorer.controls["C"].value == 1
    with pytest.raises(ValueError, match="swept"):
        stability_map_explorer(sweep, start=(5e-3, 5))
    with pytest.raises(TypeError, match="sweep"):
        stability_map_explorer({})
