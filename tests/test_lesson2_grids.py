"""Lesson 2's fair trial: the designed grid of boxes, the nearest-visited filler, grid_trial."""

from __future__ import annotations

import math

import numpy as np
import pytest

from utils.discretize import make_discrete_cartpole
from utils.lessons.lesson2_grids import (
    BOXES_EDGES,
    EdgesObservation,
    fill_unvisited,
    grid_trial,
    make_boxes_cartpole,
)


def test_boxes_grid_has_162_boxes_numbered_row_major():
    env = make_boxes_cartpole()
    assert env.bins == (3, 3, 6, 3) and env.observation_space.n == 162
    obs = np.array([0.0, 0.6, math.radians(0.5), -1.0], dtype=np.float32)
    assert env.cell(obs) == (1, 2, 3, 0)
    assert env.observation(obs) == ((1 * 3 + 2) * 6 + 3) * 3 + 0


def test_a_value_on_an_edge_goes_to_the_box_above():
    env = make_boxes_cartpole()
    assert env.cell(np.array([0.8, 0.0, 0.0, 0.0]))[0] == 2  # edge 0.8 starts box 2
    assert env.cell(np.array([0.0, 0.0, 0.0, 0.0]))[2] == 3  # angle 0 starts the 4th box


def test_equal_edges_give_the_uniform_grid():
    # would fail if EdgesObservation numbered boxes differently from DiscretizeObservation
    uniform = make_discrete_cartpole(4)
    edges = [np.linspace(lo, hi, 5)[1:-1] for lo, hi in zip(uniform.low, uniform.high, strict=True)]
    designed = make_boxes_cartpole(edges)
    rng = np.random.default_rng(0)
    for obs in rng.uniform(-1, 1, size=(200, 4)) * np.array([2.4, 3.0, 0.2, 3.5]):
        assert designed.observation(obs) == uniform.observation(obs)


def test_cell_centres_lie_inside_their_boxes():
    env = make_boxes_cartpole()
    centres = env.cell_centres((-2.4, -3.0, -0.2095, -3.5), (2.4, 3.0, 0.2095, 3.5))
    assert centres.shape == (162, 4)
    assert all(env.observation(c) == s for s, c in enumerate(centres))
    with pytest.raises(ValueError, match="outside"):
        env.cell_centres((0.0, -3.0, -0.2, -3.5), (2.4, 3.0, 0.2, 3.5))


def test_edges_are_checked():
    env = make_boxes_cartpole().env
    with pytest.raises(ValueError, match="one sequence per dimension"):
        EdgesObservation(env, BOXES_EDGES[:3])
    with pytest.raises(ValueError, match="increasing"):
        EdgesObservation(env, ((0.5, 0.1), (), (), ()))
    with pytest.raises(TypeError, match="env"):
        EdgesObservation("CartPole-v1", BOXES_EDGES)


def test_fill_unvisited_copies_the_nearest_visited_row():
    q = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 5.0]])
    visited = np.array([True, False, False, True])
    centres = np.array([[0.0], [1.0], [2.4], [3.0]])
    filled = fill_unvisited(q, visited, centres)
    np.testing.assert_array_equal(filled, [[1, 0], [1, 0], [0, 5], [0, 5]])
    assert q[1].sum() == 0  # the input is not changed
    with pytest.raises(ValueError, match="at least one"):
        fill_unvisited(q, np.zeros(4, dtype=bool), centres)
    with pytest.raises(ValueError, match="centres"):
        fill_unvisited(q, visited, centres[:2])


def test_grid_trial_records_one_number_per_seed_and_is_reproducible():
    env = make_boxes_cartpole()
    trial = grid_trial(env, [0, 1], step_budget=2000, q_init=100.0, eval_episodes=2)
    assert trial.returns.shape == (2,) and trial.n_states == 162
    assert trial.visit_counts.sum() == 2 * 2000  # the budget is spent exactly
    assert np.all((trial.visited > 0) & (trial.visited <= 1))
    again = grid_trial(env, [0, 1], step_budget=2000, q_init=100.0, eval_episodes=2)
    np.testing.assert_array_equal(again.q_tables, trial.q_tables)
    with pytest.raises(ValueError, match="seeds"):
        grid_trial(env, [], step_budget=10)
    with pytest.raises(ValueError, match="step_budget"):
        grid_trial(env, [0], step_budget=0)


def test_plot_fair_trial_draws_one_bar_series_per_variant():
    import matplotlib.pyplot as plt

    from utils.lessons.lesson2_grids import plot_fair_trial

    rng = np.random.default_rng(0)
    fig = plot_fair_trial((10, 20), {"a": rng.uniform(0, 500, (10, 2)), "b": np.ones((10, 2))})
    ax = fig.axes[0]
    assert len(ax.containers) == 2  # one errorbar container per variant
    assert ax.get_legend() is not None
    plt.close(fig)
    with pytest.raises(ValueError, match="returns"):
        plot_fair_trial((10, 20), {"a": np.ones((10, 3))})
    with pytest.raises(TypeError, match="returns"):
        plot_fair_trial((10, 20), {})
