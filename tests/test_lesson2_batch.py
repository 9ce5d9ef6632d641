"""Lesson 2's tables trained side by side: same grids, same evaluation, independent agents."""

from __future__ import annotations

import numpy as np
import pytest

from utils.discretize import make_discrete_cartpole
from utils.evaluation import evaluate
from utils.lessons.lesson2_batch import _Grids, greedy_returns, train_tables, uniform_edges
from utils.lessons.lesson2_grids import BOXES_EDGES, make_boxes_cartpole
from utils.tabular import greedy_policy


def _observations(n=500):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1.3, 1.3, size=(n, 4)) * np.array([2.4, 3.0, 0.2095, 3.5])).astype(
        np.float32
    )


@pytest.mark.parametrize("bins", [1, 3, 6, (2, 3, 4, 5)])
def test_uniform_edges_number_rows_as_the_discretize_wrapper(bins):
    env = make_discrete_cartpole(bins)
    obs = _observations()
    rows = _Grids([uniform_edges(bins)]).rows(obs, np.zeros(len(obs), dtype=np.int64))
    assert rows.tolist() == [env.observation(o) for o in obs]


def test_designed_grid_rows_agree_with_edges_observation_and_offsets_stack():
    env = make_boxes_cartpole()
    obs = _observations()
    grids = _Grids([uniform_edges(2), BOXES_EDGES])
    rows = grids.rows(obs, np.ones(len(obs), dtype=np.int64))
    assert rows.tolist() == [16 + env.observation(o) for o in obs]  # after agent 0's 16 rows


def test_greedy_returns_replays_evaluate():
    rng = np.random.default_rng(1)
    tables = [rng.normal(size=(81, 2)), rng.normal(size=(162, 2))]
    returns = greedy_returns([uniform_edges(3), BOXES_EDGES], tables, [5, 6], 4)
    for k, env in enumerate([make_discrete_cartpole(3), make_boxes_cartpole()]):
        expected = evaluate(env, greedy_policy(tables[k]), 4, seed=5 + k).returns
        np.testing.assert_array_equal(returns[k], expected)


def test_agents_spend_the_budget_and_do_not_depend_on_each_other():
    grids = [uniform_edges(4), BOXES_EDGES]
    batch = train_tables(grids, [3, 3], step_budget=3000, q_init=[0.0, 100.0],
                         eval_episodes=2, checkpoints=[1000])  # fmt: skip
    assert [c.sum() for c in batch.visit_counts] == [3000, 3000]
    assert batch.checkpoint_returns.shape == (2, 1) and batch.returns.shape == (2,)
    assert batch.episode_returns[0].sum() <= 3000 and batch.window_returns(0, 1000).shape == (3,)
    alone = train_tables(grids[1:], [3], step_budget=3000, q_init=100.0, eval_episodes=2)
    np.testing.assert_array_equal(alone.q_tables[0], batch.q_tables[1])
    assert alone.returns[0] == batch.returns[1]


def test_optimistic_designed_grid_learns():
    # would fail if the update, the grid numbering or the terminal mask were broken:
    # 20,000 steps lift the designed grid well above a one-state table's ~9
    batch = train_tables([BOXES_EDGES] * 3, [0, 1, 2], step_budget=20_000, q_init=100.0,
                         eval_episodes=5)  # fmt: skip
    assert batch.returns.mean() > 100


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(step_budget=0), "step_budget"),
        (dict(step_budget=10, q_init=[0.0, 1.0]), "q_init"),
        (dict(step_budget=10, epsilon=2.0), "epsilon"),
        (dict(step_budget=10, checkpoints=[10]), "checkpoints"),
    ],
)
def test_train_tables_names_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        train_tables([BOXES_EDGES], [0], **kwargs)


def test_grids_and_seeds_are_checked():
    with pytest.raises(ValueError, match="one grid per seed"):
        train_tables([BOXES_EDGES], [0, 1], step_budget=10)
    with pytest.raises(TypeError, match="seeds"):
        train_tables([BOXES_EDGES], "0", step_budget=10)
    with pytest.raises(ValueError, match="increasing"):
        train_tables([((1.0, 0.0), (), (), ())], [0], step_budget=10)
    with pytest.raises(ValueError, match="bins"):
        uniform_edges(0)
