"""Lesson 3's run explorer (figures: test_run_figures; exercises: test_lesson3_exercises)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from utils.dqn import DQNConfig, impossible_q_bound
from utils.engine import train_many
from utils.lessons.lesson3 import SingleNetworkExplorer, single_network_explorer

# --- the explorer over trained runs ---------------------------------------------------------


@pytest.fixture(scope="module")
def runs():
    config = DQNConfig(
        total_steps=600,
        learning_starts=100,
        batch_size=16,
        buffer_size=1000,
        hidden_sizes=(16,),
        epsilon_decay_steps=300,
        target_update_period=None,
    )
    online = DQNConfig(**{**config.to_dict(), "buffer_size": 1, "batch_size": 1})
    return {
        "online": train_many("CartPole-v1", online, [0, 1], progress=False),
        "replay": train_many("CartPole-v1", config, [0, 1], progress=False),
    }


@pytest.fixture(scope="module")
def explorer(runs) -> SingleNetworkExplorer:
    return single_network_explorer(runs, impossible_q_bound(0.99), grid_step=50, block=10)


def test_explorer_draws_at_build_and_offers_the_runs(explorer):
    assert not math.isnan(explorer.last_seconds)
    assert list(explorer.controls["variant"].options) == ["online", "replay"]
    assert list(explorer.controls["seed"].options) == [0, 1]


def test_explorer_figure_shows_curve_and_bound(explorer, runs):
    fig = explorer.figure("replay", 1)
    assert isinstance(fig, Figure) and len([a for a in fig.axes if a.lines]) == 2
    history = runs["replay"][1].history
    share = float(np.mean(history.max_q > explorer.bound))
    assert f"{share:.1%} of {len(history.max_q)} updates" in fig._suptitle.get_text()
    curve, bound_panel = fig.axes[0], fig.axes[1]
    assert any(line.get_label() == "seed 1" for line in curve.lines)
    assert any(
        isinstance(line, Line2D) and line.get_linestyle() == "--" for line in bound_panel.lines
    )


def test_moving_a_control_redraws_once_per_control(explorer, recording_redraws):
    with recording_redraws(explorer) as calls:
        seconds = explorer.move(variant="replay", seed=1)
    assert seconds > 0
    assert calls == [("replay", 0), ("replay", 1)]


def test_explorer_names_bad_input(explorer, runs):
    with pytest.raises(ValueError, match="control name"):
        explorer.move(alpha=0.5)
    with pytest.raises(ValueError, match="seed must be one of"):
        explorer.figure("online", 7)
    with pytest.raises(ValueError, match="variant must be one of"):
        explorer.figure("double", 0)
    with pytest.raises(ValueError, match="runs must not be empty"):
        single_network_explorer({}, 99.0)
    with pytest.raises(TypeError, match="DQNRun"):
        single_network_explorer({"online": [1, 2]}, 99.0)
    with pytest.raises(TypeError, match="bound"):
        single_network_explorer(runs, None)
