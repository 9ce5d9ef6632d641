"""Lesson 3 pieces: the TD-target checker, the drift and bound figures, the run explorer."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from utils.dqn import DQNConfig, impossible_q_bound, train_many
from utils.exercises import check_td_target, td_target_exercise
from utils.plotting import plot_max_q_vs_bound, plot_target_drift, returns_on_steps
from utils.widgets import SingleNetworkExplorer, single_network_explorer

# --- the exercise: td_target(rewards, next_q_values, terminated, truncated, gamma) -----------


def with_no_grad(rewards, next_q_values, terminated, truncated, gamma):
    with torch.no_grad():
        best_next = next_q_values.max(dim=1).values
    return rewards + gamma * (1 - terminated) * best_next


def with_detach_and_where(rewards, next_q_values, terminated, truncated, gamma):
    bootstrap = rewards + gamma * next_q_values.detach().max(dim=-1)[0]
    return torch.where(terminated.bool(), rewards, bootstrap)


def as_numpy(rewards, next_q_values, terminated, truncated, gamma):
    best = next_q_values.detach().numpy().max(axis=1)
    return rewards.numpy() + gamma * (1 - terminated.numpy()) * best


def stub(rewards, next_q_values, terminated, truncated, gamma):
    # return y = r + gamma * (1 - terminated) * max_a' Q(s', a'), shape (batch,), no gradient
    ...  # your code here


# Wrong answers as a learner would write them (not the catalogue's own implementations).
def bootstraps_on_neither_flag(rewards, next_q_values, terminated, truncated, gamma):
    done = terminated + truncated - terminated * truncated  # "terminated or truncated"
    with torch.no_grad():
        return rewards + gamma * (1 - done) * next_q_values.max(1).values


def no_mask(rewards, next_q_values, terminated, truncated, gamma):
    with torch.no_grad():
        return rewards + gamma * next_q_values.max(1).values


def gradient_flows(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1 - terminated) * next_q_values.max(1).values


def wrong_axis(rewards, next_q_values, terminated, truncated, gamma):
    with torch.no_grad():
        return rewards + gamma * (1 - terminated) * next_q_values.max(0).values


def mean_instead_of_max(rewards, next_q_values, terminated, truncated, gamma):
    with torch.no_grad():
        return rewards + gamma * (1 - terminated) * next_q_values.mean(1)


def raises(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (~terminated) * next_q_values.max(1).values  # ~ on floats fails


@pytest.mark.parametrize("answer", [with_no_grad, with_detach_and_where, as_numpy])
def test_correct_answers_pass(answer, capsys):
    verdict = check_td_target(answer)
    assert verdict.status == "correct" and verdict.passed
    assert "Correct" in capsys.readouterr().out


def test_stub_is_not_attempted(capsys):
    verdict = check_td_target(stub)
    assert verdict.status == "not attempted" and not verdict
    assert "Not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, mistake, hint_word",
    [
        (bootstraps_on_neither_flag, "masked on `truncated` too", "time limit"),
        (no_mask, "forgot the terminal mask", "(1 - terminated)"),
        (gradient_flows, "let the gradient flow through the target", "no_grad"),
        (wrong_axis, "took the max over the batch axis", "dim=1"),
        (mean_instead_of_max, "averaged over the next actions", "max, not mean"),
    ],
)
def test_classic_bugs_get_their_own_hint(answer, mistake, hint_word, capsys):
    verdict = check_td_target(answer)
    assert verdict.status == "wrong" and verdict.mistake == mistake
    out = capsys.readouterr().out
    assert mistake in out and hint_word in out


def test_every_catalogued_mistake_is_recognised_as_itself():
    exercise = td_target_exercise()
    names = [m.name for m in exercise.mistakes]
    assert len(set(names)) == len(names) >= 10
    for mistake in exercise.mistakes:
        verdict = exercise.check(mistake.implementation, verbose=False)
        assert verdict.status == "wrong" and verdict.mistake == mistake.name


def test_cases_make_the_bugs_possible():
    # the stub's signature receives truncated; the cases hold truncated-only steps and a
    # next_q_values that carries a gradient, as a network's output would
    cases = td_target_exercise().cases
    assert any(((c[3] == 1) & (c[2] == 0)).any() for c in cases)
    assert all(c[1].requires_grad for c in cases)


def test_an_error_is_reported_with_the_general_hint(capsys):
    verdict = check_td_target(raises)
    assert verdict.status == "error"
    assert "Hint" in capsys.readouterr().out


def test_unrecognised_wrong_answer_shows_expected_and_got(capsys):
    verdict = check_td_target(lambda r, q, te, tr, g: with_no_grad(r, q, te, tr, g) + 1)
    assert verdict.status == "wrong" and verdict.mistake is None
    assert "expected" in capsys.readouterr().out


def test_checker_rejects_a_non_function():
    with pytest.raises(TypeError, match="fn"):
        check_td_target("y = r")


def test_importing_the_checkers_does_not_import_torch():
    code = "import sys, utils.exercises; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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
    assert labels == ["replay (2 seeds)", "bound 99.34"]


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
    return single_network_explorer(runs, impossible_q_bound(0.99, 500), grid_step=50, block=10)


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
    with pytest.raises(TypeError, match="runs"):
        single_network_explorer({}, 99.0)
    with pytest.raises(TypeError, match="DQNRun"):
        single_network_explorer({"online": [1, 2]}, 99.0)
    with pytest.raises(TypeError, match="bound"):
        single_network_explorer(runs, None)
