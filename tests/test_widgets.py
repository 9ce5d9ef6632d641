"""Widgets: build without a kernel, redraw on a slider move, name bad input."""

from __future__ import annotations

import math

import pytest
from matplotlib.figure import Figure

from utils.widgets import QLearningExplorer, q_learning_explorer


@pytest.fixture(scope="module")
def explorer() -> QLearningExplorer:
    return q_learning_explorer(episodes=200, max_episodes=500)


def test_builds_and_draws_once_at_build(explorer):
    assert not math.isnan(explorer.last_seconds)  # the first picture is already drawn
    assert set(explorer.sliders) == {"alpha", "gamma", "epsilon", "episodes"}
    assert all(not s.continuous_update for s in explorer.sliders.values())


def test_moving_a_slider_retrains_and_redraws(explorer, recording_redraws):
    with recording_redraws(explorer) as calls:
        seconds = explorer.move(alpha=0.5, episodes=300)
    assert seconds > 0
    assert calls[-1] == (0.5, 0.99, 0.1, 300)
    assert len(calls) == 2  # one redraw per slider moved


def test_static_figure_shows_table_and_curve(explorer):
    fig = explorer.figure(0.1, 0.99, 0.1, 200)
    assert isinstance(fig, Figure)
    assert "exact" in fig._suptitle.get_text()
    heatmap, curve = fig.axes[0], fig.axes[1]
    assert heatmap.images and curve.lines


def test_bad_arguments_are_named(explorer):
    with pytest.raises(ValueError, match="slider name"):
        explorer.move(beta=0.3)
    with pytest.raises(ValueError, match="alpha"):
        q_learning_explorer(alpha=0.0)
    with pytest.raises(ValueError, match="episodes"):
        q_learning_explorer(episodes=5000, max_episodes=3000)
