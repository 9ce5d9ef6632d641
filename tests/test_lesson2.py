"""Tests for what Lesson 2 adds: scaling helpers, q_learning's step budget and visit counts,
the sweep record, the scaling and sweep figures, the bin-count widget and the bin-index
exercise."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from gymnasium.envs.toy_text.frozen_lake import MAPS
from matplotlib.figure import Figure

from utils.discretize import bin_index, make_discrete_cartpole
from utils.envs import make_env
from utils.evaluation import evaluate
from utils.lessons.lesson2 import (
    BIN_INDEX,
    GridExplorer,
    check_bin_index,
    grid_explorer,
    plot_bins_sweep,
    plot_greedy_slice,
)
from utils.lessons.lesson2_scaling import (
    BinsSweep,
    episodes_to_near_optimal,
    frozen_lake_map,
    make_frozen_lake,
    plot_scaling,
    table_bytes,
)
from utils.tabular import greedy_policy, q_learning, success_probability

# --------------------------------------------------------------------------------------
# Maps and table sizes
# --------------------------------------------------------------------------------------


def test_standard_and_generated_maps():
    assert frozen_lake_map(4) == list(MAPS["4x4"])
    assert frozen_lake_map(8) == list(MAPS["8x8"])
    big = frozen_lake_map(12, map_seed=3)
    assert len(big) == 12 and all(len(row) == 12 for row in big)
    assert big[0][0] == "S" and big[-1][-1] == "G"
    assert frozen_lake_map(12, map_seed=3) == big
    assert frozen_lake_map(12, map_seed=4) != big


def test_make_frozen_lake_sizes_and_time_limit():
    env = make_frozen_lake(12, is_slippery=False)
    assert env.observation_space.n == 144 and env.action_space.n == 4
    assert env.spec.max_episode_steps == 100
    env = make_frozen_lake(4, is_slippery=False, max_episode_steps=7)
    assert env.spec.max_episode_steps == 7


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: frozen_lake_map(1), ValueError, "size"),
        (lambda: frozen_lake_map(8, p=0.0), ValueError, "p"),
        (lambda: frozen_lake_map(8, map_seed=-1), ValueError, "map_seed"),
        (lambda: make_frozen_lake(8, is_slippery=1), TypeError, "is_slippery"),
        (lambda: make_frozen_lake(8, max_episode_steps=0), ValueError, "max_episode_steps"),
        (lambda: table_bytes(0, 4), ValueError, "n_states"),
        (lambda: table_bytes(4, 4, itemsize=0), ValueError, "itemsize"),
    ],
)
def test_scaling_helpers_name_bad_arguments(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_table_bytes():
    assert table_bytes(16, 4) == 512
    assert table_bytes(500, 6, itemsize=4) == 12_000


# --------------------------------------------------------------------------------------
# Episodes until the greedy policy is near optimal
# --------------------------------------------------------------------------------------


def test_episodes_to_near_optimal_on_the_still_4x4_lake():
    env = make_frozen_lake(4, is_slippery=False)
    result = episodes_to_near_optimal(env, seed=0, q_init=1.0)
    assert result.reached
    assert result.optimal_success == pytest.approx(1.0)
    # The claim is re-checked independently from the returned table.
    assert success_probability(env, greedy_policy(result.q_table)) >= 0.95
    assert 10 <= result.episodes < 1000
    assert result.steps >= result.episodes  # every episode has at least one step
    assert result.seconds > 0
    again = episodes_to_near_optimal(env, seed=0, q_init=1.0)
    assert (again.episodes, again.steps) == (result.episodes, result.steps)


def test_episodes_to_near_optimal_reports_a_miss():
    env = make_frozen_lake(8, is_slippery=False)
    result = episodes_to_near_optimal(env, seed=0, q_init=0.0, epsilon=0.0, max_episodes=5)
    assert not result.reached
    assert result.episodes == 5
    assert result.success < 0.95 * result.optimal_success


def test_checks_grow_geometrically_so_counts_are_on_the_grid():
    env = make_frozen_lake(8, is_slippery=False)
    result = episodes_to_near_optimal(env, seed=1, q_init=1.0, first_check=10, growth=2.0)
    assert result.episodes in {10, 20, 40, 80, 160, 320, 640, 1280}


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"fraction": 0.0}, ValueError, "fraction"),
        ({"growth": 1.0}, ValueError, "growth"),
        ({"max_episodes": 0}, ValueError, "max_episodes"),
        ({"first_check": 0}, ValueError, "first_check"),
        ({"optimal_success": 1.5}, ValueError, "optimal_success"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_episodes_to_near_optimal_names_bad_arguments(kwargs, error, name):
    env = make_frozen_lake(4, is_slippery=False)
    with pytest.raises(error, match=name):
        episodes_to_near_optimal(env, **{"seed": 0, **kwargs})


# --------------------------------------------------------------------------------------
# q_learning: step budget and visit counts (added for Lesson 2)
# --------------------------------------------------------------------------------------


def test_step_budget_stops_training_mid_episode_and_counts_visits():
    env = make_discrete_cartpole(4)
    result = q_learning(env, episodes=10_000, step_budget=1234, epsilon=0.5, seed=0)
    assert result.total_steps == 1234
    assert result.visit_counts.shape == (4**4, 2)
    assert result.visit_counts.sum() == 1234
    assert len(result.episode_returns) == len(result.episode_lengths) < 10_000
    assert len(result.episode_epsilons) == len(result.episode_lengths)
    # Entries never updated still hold their initial value; updated ones moved.
    untouched = result.visit_counts == 0
    assert np.all(result.q_table[untouched] == 0.0)
    assert np.all(result.q_table[~untouched] != 0.0)  # CartPole pays +1 per step


def test_visit_counts_without_budget_sum_to_the_steps_taken():
    env = make_env("FrozenLake-v1")
    result = q_learning(env, episodes=50, seed=0)
    assert result.visit_counts.sum() == result.total_steps
    assert result.episode_returns.shape == (50,)


def test_episode_count_still_limits_when_the_budget_is_large():
    env = make_env("FrozenLake-v1")
    result = q_learning(env, episodes=20, step_budget=10**9, seed=0)
    assert result.episode_lengths.shape == (20,)


def test_step_budget_is_checked():
    with pytest.raises(ValueError, match="step_budget"):
        q_learning(make_env("FrozenLake-v1"), episodes=1, step_budget=0)


def test_binned_cartpole_learns_beyond_a_single_cell():
    # The lesson's claim in small: a 6-bin table learns to balance far longer than the
    # 1-bin table (one state: it can only push one way, about 9-10 steps).
    def greedy_return(bins):
        env = make_discrete_cartpole(bins)
        result = q_learning(
            env, episodes=100_000, step_budget=60_000, alpha=0.2, epsilon=0.05, seed=0
        )
        return evaluate(env, greedy_policy(result.q_table), episodes=10, seed=1).mean_return

    one, six = greedy_return(1), greedy_return(6)
    assert one < 12
    assert six > 60


# --------------------------------------------------------------------------------------
# The record of the bin-count sweep
# --------------------------------------------------------------------------------------


def _small_sweep(**overrides):
    values = {
        "bins": np.array([1, 2, 4]),
        "entries": np.array([2, 32, 512]),
        "visited": np.array([[1.0, 1.0], [1.0, 0.9], [0.4, 0.5]]),
        "returns": np.array([9.0, 10.0, 150.0, 170.0, 100.0, 300.0]).reshape(3, 2),
        "step_budget": 1000,
    }
    values.update(overrides)
    return BinsSweep(**values)


def test_sweep_index_and_summary():
    sweep = _small_sweep(copied_returns=np.array([9.0, 200.0, 500.0]))
    assert sweep.n_seeds == 2
    assert sweep.index(4) == 2
    text = sweep.summary(4)
    assert "512 table entries" in text and "45.0% visited" in text
    assert "return 200 (seeds: 100 to 300)" in text
    with pytest.raises(ValueError, match="swept"):
        sweep.index(3)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"bins": np.array([2, 1, 4])}, "increasing"),
        ({"bins": np.array([1.0, 2.0, 4.0])}, "integer"),
        ({"entries": np.array([2, 32])}, "entries"),
        ({"visited": np.ones((3, 2)) * 1.5}, "visited"),
        ({"returns": np.ones((3, 3))}, "returns"),
        ({"step_budget": 0}, "step_budget"),
        ({"copied_returns": np.ones(2)}, "copied_returns"),
    ],
)
def test_sweep_names_bad_fields(overrides, name):
    with pytest.raises(ValueError, match=name):
        _small_sweep(**overrides)


# --------------------------------------------------------------------------------------
# Figures and the widget
# --------------------------------------------------------------------------------------


def _sweep():
    return BinsSweep(
        bins=np.array([1, 2, 4, 8]),
        entries=np.array([2, 32, 512, 8192]),
        visited=np.array([[1.0, 1.0], [1.0, 1.0], [0.4, 0.45], [0.08, 0.09]]),
        returns=np.array([[9.0, 10.0], [150.0, 170.0], [200.0, 120.0], [90.0, 80.0]]),
        step_budget=100_000,
        copied_returns=np.array([9.5, 212.0, 210.0, 500.0]),
    )


def test_plot_scaling_panels_groups_and_unreached_points():
    costs = {
        "episodes": np.array([[30, 27], [120, 90], [3000, 3100]]),
        "seconds": np.array([[0.01, 0.02], [0.1, 0.1], [1.0, 1.2]]),
    }
    reached = np.array([[True, True], [True, False], [True, True]])
    fig = plot_scaling(
        [64, 256, 3000],
        costs,
        groups=["lake", "lake", "taxi"],
        labels=["4x4", "8x8", "Taxi"],
        reached=reached,
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_ylabel() == "episodes"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["lake", "taxi", "slope 1", "not reached"]
    # The lake line joins the two lake means, in order of size.
    lake_line = ax.get_lines()[0]
    np.testing.assert_allclose(lake_line.get_xdata(), [64, 256])
    np.testing.assert_allclose(lake_line.get_ydata(), [28.5, 105])
    # The slope-1 guide starts at the smallest table's mean and grows in proportion.
    guide = next(line for line in ax.get_lines() if line.get_label() == "slope 1")
    np.testing.assert_allclose(guide.get_xdata(), [64, 3000])
    np.testing.assert_allclose(guide.get_ydata(), [28.5, 28.5 * 3000 / 64])
    no_guide = plot_scaling([64, 256], {"episodes": costs["episodes"][:2]}, guide_slope=None)
    assert no_guide.axes[0].get_legend() is None


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "name"),
    [
        (([0, 1], {"a": np.ones((2, 1))}), {}, ValueError, "entries"),
        (([1, 2], {"a": np.ones((3, 1))}), {}, ValueError, "costs"),
        (([1, 2], {"a": np.zeros((2, 1))}), {}, ValueError, "positive"),
        (([1, 2], {}), {}, TypeError, "costs"),
        (([1, 2], {"a": np.ones((2, 1))}), {"groups": ["x"]}, ValueError, "groups"),
        (([1, 2], {"a": np.ones((2, 1))}), {"reached": np.ones((2, 2))}, ValueError, "reached"),
    ],
)
def test_plot_scaling_names_bad_arguments(args, kwargs, error, name):
    with pytest.raises(error, match=name):
        plot_scaling(*args, **kwargs)


def test_plot_bins_sweep_three_panels_band_and_highlight():
    fig = plot_bins_sweep(_sweep(), highlight=4)
    assert isinstance(fig, Figure)
    size_ax, frac_ax, ret_ax = fig.axes
    assert size_ax.get_yscale() == "log"
    np.testing.assert_allclose(size_ax.get_lines()[0].get_ydata(), [2, 32, 512, 8192])
    np.testing.assert_allclose(frac_ax.get_lines()[0].get_ydata(), [100, 100, 42.5, 8.5])
    np.testing.assert_allclose(ret_ax.get_lines()[0].get_ydata(), [9.5, 160, 160, 85])
    assert len(ret_ax.collections) >= 1  # the min-max band
    labels = [t.get_text() for t in ret_ax.get_legend().get_texts()]
    assert "good controller copied in" in labels
    highlight_lines = [line for line in ret_ax.get_lines() if list(line.get_xdata()) == [4, 4]]
    assert highlight_lines
    with pytest.raises(ValueError, match="swept"):
        plot_bins_sweep(_sweep(), highlight=3)
    with pytest.raises(TypeError, match="sweep"):
        plot_bins_sweep({"bins": [1]})


def test_plot_greedy_slice_pools_visits_and_leaves_unvisited_cells_empty():
    bins = (2, 1, 2, 3)
    n = 12
    q = np.zeros((n, 2))
    visits = np.zeros((n, 2), dtype=np.int64)
    # State (x=0, -, angle=1, velocity=2) prefers right, visited 3 times; the same
    # (angle, velocity) cell with x=1 prefers left, visited once: share of right = 3/4.
    s_right = np.ravel_multi_index((0, 0, 1, 2), bins)
    s_left = np.ravel_multi_index((1, 0, 1, 2), bins)
    q[s_right] = [0.0, 1.0]
    visits[s_right] = [1, 2]
    q[s_left] = [1.0, 0.0]
    visits[s_left] = [1, 0]
    fig = plot_greedy_slice(
        q, visits, bins, low=(-1, -1, -1, -1), high=(1, 1, 1, 1), boundary=np.array([0, 0, 1, 1])
    )
    image = fig.axes[0].get_images()[0].get_array()
    assert image.shape == (3, 2)  # (velocity bins, angle bins): imshow of the transpose
    assert image[2, 1] == pytest.approx(0.75)
    # Only one of the six (angle, velocity) cells was ever visited: the other five are empty.
    assert np.ma.getmaskarray(image).sum() == 5
    with pytest.raises(ValueError, match="dims"):
        plot_greedy_slice(q, visits, bins, (-1,) * 4, (1,) * 4, dims=(2, 2))
    with pytest.raises(ValueError, match="shape"):
        plot_greedy_slice(q[:5], visits[:5], bins, (-1,) * 4, (1,) * 4)


def test_grid_explorer_retrains_on_every_move():
    explorer = grid_explorer((2, 2, 3, 3), step_budget=2000, n_seeds=2, eval_episodes=2)
    assert isinstance(explorer, GridExplorer)
    assert [s.value for s in explorer.sliders.values()] == [2, 2, 3, 3]
    seconds = explorer.move(**{"pole angle": 4})
    assert explorer.sliders["pole angle"].value == 4
    assert seconds >= 0 and explorer.last_seconds >= 0
    fig = explorer.figure(1, 1, 4, 4)
    assert len(fig.axes) == 3  # training curves, greedy slice, its colour bar
    assert "32 entries" in fig._suptitle.get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="pole vel"):
        explorer.move(**{"pole vel.": 13})
    with pytest.raises(ValueError, match="bins"):
        grid_explorer((1, 2, 3))


# --------------------------------------------------------------------------------------
# The exercise
# --------------------------------------------------------------------------------------


def test_bin_index_checker_accepts_right_answers():
    assert check_bin_index(bin_index).status == "correct"

    def with_int(value, low, high, bins):
        i = int((value - low) / ((high - low) / bins))
        return min(max(i, 0), bins - 1)

    assert check_bin_index(with_int).status == "correct"


def test_bin_index_checker_names_the_mistake():
    def no_clip(value, low, high, bins):
        return int(np.floor((value - low) / ((high - low) / bins)))

    verdict = check_bin_index(no_clip)
    assert verdict.status == "wrong"
    assert verdict.mistake == "did not clip values outside [low, high]"

    def as_float(value, low, high, bins):
        return float(bin_index(value, low, high, bins))

    assert check_bin_index(as_float).mistake == "returned a float"

    def always_zero(value, low, high, bins):
        return 0

    verdict = check_bin_index(always_zero)
    assert verdict.status == "wrong" and verdict.mistake is None


def test_bin_index_checker_stub_and_error():
    def stub(value, low, high, bins): ...

    assert check_bin_index(stub).status == "not attempted"

    def broken(value, low, high, bins):
        return value[0]

    assert check_bin_index(broken).status == "error"


def test_every_catalogued_bin_mistake_is_told_apart():
    for mistake in BIN_INDEX.mistakes:
        verdict = BIN_INDEX.check(mistake.implementation, verbose=False)
        assert verdict.mistake == mistake.name
