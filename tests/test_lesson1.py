"""Lesson 1: the expected-Sarsa checker, the off-policy measurements, the table figures and
the Q-learning widget."""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.envs import make_env
from utils.lessons.lesson1 import (
    QLearningExplorer,
    plot_distance_to_optimum,
    plot_q_scatter,
    q_learning_explorer,
)
from utils.lessons.lesson1_exercise import EXPECTED_SARSA_TARGET, check_expected_sarsa_target
from utils.lessons.lesson1_offpolicy import (
    epsilon_greedy_success,
    epsilon_greedy_value_iteration,
    q_learning_tracked,
)
from utils.tabular import greedy_policy, success_probability, value_iteration

# --- the exercise: expected_sarsa_target ----------------------------------------------------


def correct(reward, next_q, terminated, truncated, epsilon, gamma):
    n = len(next_q)
    probs = [epsilon / n] * n
    probs[int(np.argmax(next_q))] += 1 - epsilon
    expected = sum(p * q for p, q in zip(probs, next_q, strict=True))
    return reward + gamma * (1 - terminated) * expected


def correct_as_mix(reward, next_q, terminated, truncated, epsilon, gamma):
    # (1 - eps) * max + eps * mean is the same number
    if terminated:
        return reward
    return reward + gamma * ((1 - epsilon) * max(next_q) + epsilon * np.mean(next_q))


def stub(reward, next_q, terminated, truncated, epsilon, gamma): ...


@pytest.mark.parametrize("answer", [correct, correct_as_mix])
def test_correct_answers_pass(answer, capsys):
    verdict = check_expected_sarsa_target(answer)
    assert verdict.status == "correct" and verdict.passed and bool(verdict)
    assert "Correct" in capsys.readouterr().out


def test_stub_is_not_attempted(capsys):
    verdict = check_expected_sarsa_target(stub)
    assert verdict.status == "not attempted" and not verdict
    assert "Not attempted yet" in capsys.readouterr().out


def test_q_learning_target_is_named(capsys):
    def q_learning_target(reward, next_q, terminated, truncated, epsilon, gamma):
        return reward + gamma * (1 - terminated) * max(next_q)

    verdict = check_expected_sarsa_target(q_learning_target)
    assert verdict.status == "wrong"
    assert verdict.mistake == "used the maximum (that is Q-learning's target)"
    assert "pi(a' | s')" in capsys.readouterr().out


def test_greedy_probability_without_its_exploring_share_is_named():
    def forgot_share(reward, next_q, terminated, truncated, epsilon, gamma):
        n = len(next_q)
        probs = np.full(n, epsilon / n)
        probs[np.argmax(next_q)] = 1 - epsilon
        return reward + gamma * (1 - terminated) * probs @ next_q

    verdict = check_expected_sarsa_target(forgot_share)
    assert (
        verdict.mistake == "gave the greedy action 1 - epsilon instead of 1 - epsilon + epsilon / n"
    )


@pytest.mark.parametrize("mistake", EXPECTED_SARSA_TARGET.mistakes, ids=lambda m: m.name)
def test_every_catalogued_mistake_is_recognised_as_itself(mistake):
    """The cases tell all mistakes apart, so the hint names the right bug."""
    verdict = check_expected_sarsa_target(mistake.implementation)
    assert verdict.status == "wrong"
    assert verdict.mistake == mistake.name


def test_unknown_wrong_answer_shows_a_failing_case(capsys):
    def first_action(reward, next_q, terminated, truncated, epsilon, gamma):
        return reward + gamma * (1 - terminated) * next_q[0]

    verdict = check_expected_sarsa_target(first_action)
    assert verdict.status == "wrong" and verdict.mistake is None
    out = capsys.readouterr().out
    assert "expected" in out and "got" in out and "Hint" in out


def test_an_answer_that_raises_is_reported(capsys):
    def crashes(reward, next_q, terminated, truncated, epsilon, gamma):
        return reward + undefined_name  # noqa: F821

    verdict = check_expected_sarsa_target(crashes)
    assert verdict.status == "error"
    assert "NameError" in capsys.readouterr().out


def test_checker_rejects_non_callables():
    with pytest.raises(TypeError, match="fn"):
        check_expected_sarsa_target(0.5)


def test_solution_text_is_a_correct_answer():
    namespace: dict = {"np": np}
    exec(EXPECTED_SARSA_TARGET.solution, namespace)
    assert check_expected_sarsa_target(namespace["expected_sarsa_target"]).passed


# --- off-policy: the greedy policy during training, the best epsilon-greedy policy ----------


@pytest.fixture(scope="module")
def lake():
    return make_env("FrozenLake-v1")


def test_epsilon_greedy_success_matches_the_plain_one_at_epsilon_zero(lake):
    policy = greedy_policy(value_iteration(lake, gamma=0.99))
    assert epsilon_greedy_success(lake, policy, 0.0) == pytest.approx(
        success_probability(lake, policy)
    )
    # exploring on a lake with holes costs: would fail if epsilon were ignored
    assert epsilon_greedy_success(lake, policy, 0.05) < success_probability(lake, policy) - 0.1


def test_epsilon_greedy_value_iteration_at_zero_is_value_iteration(lake):
    np.testing.assert_allclose(
        epsilon_greedy_value_iteration(lake, gamma=0.9, epsilon=0.0),
        value_iteration(lake, gamma=0.9),
        atol=1e-8,
    )
    with pytest.raises(ValueError, match="gamma"):
        epsilon_greedy_value_iteration(lake, gamma=1.0, epsilon=0.1)


def test_q_learning_tracked_records_the_greedy_success(lake):
    run = q_learning_tracked(lake, episodes=600, every=200, seed=0, epsilon=0.2, alpha=0.1)
    assert run.record_episodes.tolist() == [0, 200, 400, 600]
    assert run.greedy_success.shape == (4,) and run.greedy_success[0] == 0.0
    assert run.result.episode_returns.shape == (600,)
    assert run.result.visit_counts.sum() == run.result.total_steps
    assert run.greedy_success[-1] == pytest.approx(
        success_probability(lake, greedy_policy(run.result.q_table))
    )
    again = q_learning_tracked(lake, episodes=600, every=200, seed=0, epsilon=0.2, alpha=0.1)
    np.testing.assert_array_equal(again.result.q_table, run.result.q_table)  # same seed


def test_q_learning_tracked_rejects_bad_input(lake):
    with pytest.raises(ValueError, match="multiple"):
        q_learning_tracked(lake, episodes=500, every=200)
    with pytest.raises(ValueError, match="q_init"):
        q_learning_tracked(lake, episodes=200, every=200, q_init=1.0)
    with pytest.raises(ValueError, match="policy"):
        epsilon_greedy_success(lake, np.zeros(3, dtype=int), 0.1)


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


def test_widget_starts_below_its_maximum_so_more_episodes_can_be_given():
    # would fail if the lesson's explorer started at its largest episode count (issue 16)
    explorer = q_learning_explorer()
    episodes = explorer.controls["episodes"]
    assert episodes.value == 1000 and episodes.max > episodes.value


def test_widget_figure_is_readable_at_full_zoom(explorer):
    # would fail if the table's numbers were drawn smaller than 14 px on screen (7 px before)
    fig = explorer.figure(0.1, 0.99, 0.1, 200)
    numbers = [t for t in fig.axes[0].texts if t.get_text().replace(".", "").isdigit()]
    assert numbers
    assert min(t.get_fontsize() for t in numbers) * fig.dpi / 72 >= 14
    assert fig.get_size_inches()[0] * fig.dpi >= 1100
