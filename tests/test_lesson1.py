"""Lesson 1: the Q-update checker, the table figures and the Q-learning widget."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.lessons.lesson1 import (
    Q_UPDATE,
    QLearningExplorer,
    check_q_update,
    plot_distance_to_optimum,
    plot_q_scatter,
    q_learning_explorer,
)

# --- the exercise: new_q_value --------------------------------------------------------------


def correct(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward + gamma * (1 - terminated) * max(next_q)
    return q_sa + alpha * (target - q_sa)


def correct_as_weighted_average(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    target = reward if terminated else reward + gamma * np.max(next_q)
    return (1 - alpha) * q_sa + alpha * target


def stub(q_sa, reward, next_q, terminated, truncated, alpha, gamma): ...


def forgot_mask(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
    return q_sa + alpha * (reward + gamma * max(next_q) - q_sa)


@pytest.mark.parametrize("answer", [correct, correct_as_weighted_average])
def test_correct_answers_pass(answer, capsys):
    verdict = check_q_update(answer)
    assert verdict.status == "correct" and verdict.passed and bool(verdict)
    assert "Correct" in capsys.readouterr().out


def test_stub_is_not_attempted(capsys):
    verdict = check_q_update(stub)
    assert verdict.status == "not attempted" and not verdict
    assert "Not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer",
    [
        lambda *args: ...,
        lambda *args: None,
    ],
)
def test_ellipsis_and_none_are_not_attempted(answer):
    assert check_q_update(answer).status == "not attempted"


def test_not_implemented_error_is_not_attempted():
    def raises(*args):
        raise NotImplementedError

    assert check_q_update(raises).status == "not attempted"


def test_forgotten_mask_is_named(capsys):
    verdict = check_q_update(forgot_mask)
    assert verdict.status == "wrong"
    assert verdict.mistake == "forgot the terminal mask"
    assert "(1 - terminated)" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", Q_UPDATE.mistakes, ids=lambda m: m.name)
def test_every_catalogued_mistake_is_recognised_as_itself(mistake):
    """The cases tell all mistakes apart, so the hint names the right bug."""
    verdict = check_q_update(mistake.implementation)
    assert verdict.status == "wrong"
    assert verdict.mistake == mistake.name


def test_unknown_wrong_answer_shows_a_failing_case(capsys):
    def first_action(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
        return q_sa + alpha * (reward + gamma * (1 - terminated) * next_q[0] - q_sa)

    verdict = check_q_update(first_action)
    assert verdict.status == "wrong" and verdict.mistake is None
    out = capsys.readouterr().out
    assert "expected" in out and "got" in out and "Hint" in out


def test_an_answer_that_raises_is_reported(capsys):
    def crashes(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
        return q_sa + undefined_name  # noqa: F821

    verdict = check_q_update(crashes)
    assert verdict.status == "error"
    assert "NameError" in capsys.readouterr().out


def test_answers_cannot_spoil_the_cases_by_mutating_inputs():
    def mutates(q_sa, reward, next_q, terminated, truncated, alpha, gamma):
        next_q[:] = 100.0
        return None

    check_q_update(mutates)
    assert check_q_update(correct).passed


def test_checker_rejects_non_callables():
    with pytest.raises(TypeError, match="fn"):
        check_q_update(0.5)


def test_solution_text_is_a_correct_answer():
    namespace: dict = {}
    exec(Q_UPDATE.solution, namespace)
    assert check_q_update(namespace["new_q_value"]).passed


# --- figures -------------------------------------------------------------------------------


def test_distance_to_optimum_log_scale():
    distances = np.array([[1.0, 0.5, 0.1], [0.8, 0.3, 0.05]])
    fig = plot_distance_to_optimum({"lake": distances}, np.array([0, 100, 200]))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.9, 0.4, 0.075])
    with pytest.raises(TypeError, match="x"):
        plot_distance_to_optimum(distances, None)


def test_q_scatter_marks_greedy_entries_and_selected_states():
    q_star = np.array([[1.0, 2.0], [3.0, 0.0], [5.0, 5.5]])
    q = np.array([[0.5, 0.0], [2.5, -0.5], [4.5, 5.0]])  # greedy: action 0, 0, 1
    fig = plot_q_scatter(q, q_star, states=np.array([True, True, False]), title="t")
    ax = fig.axes[0]
    other, greedy = ax.collections
    np.testing.assert_allclose(sorted(greedy.get_offsets()[:, 0]), [1.0, 3.0])  # x is Q*
    np.testing.assert_allclose(sorted(other.get_offsets()[:, 0]), [0.0, 2.0])
    with pytest.raises(ValueError, match="q_star"):
        plot_q_scatter(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="states"):
        plot_q_scatter(q, q_star, states=np.ones(3))


# --- the widget -----------------------------------------------------------------------------


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
