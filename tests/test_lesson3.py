"""Lesson 3 pieces: the TD-target checker and the run explorer (its figures: test_run_figures)."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from utils.dqn import DQNConfig, impossible_q_bound
from utils.engine import train_many
from utils.lessons.lesson3 import (
    SingleNetworkExplorer,
    check_td_target,
    single_network_explorer,
    td_target_exercise,
)

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


def test_an_error_shows_the_error_and_its_line_but_not_the_formula(capsys):
    verdict = check_td_target(raises)
    out = capsys.readouterr().out
    assert verdict.status == "error" and "TypeError" in out and "Hint" in out
    assert "(~terminated)" in out  # the learner's line that raised
    assert td_target_exercise().hint not in " ".join(out.split())  # the formula stays hidden
    assert "(1 - terminated)" not in out


def test_a_forgotten_return_is_not_called_not_attempted(capsys):
    def no_return(rewards, next_q_values, terminated, truncated, gamma):
        with torch.no_grad():
            y = rewards + gamma * (1 - terminated) * next_q_values.max(dim=1).values  # noqa: F841

    verdict = check_td_target(no_return)
    assert verdict.status == "wrong" and "did you forget `return`?" in capsys.readouterr().out


def test_unrecognised_wrong_answer_shows_expected_and_got(capsys):
    verdict = check_td_target(lambda r, q, te, tr, g: with_no_grad(r, q, te, tr, g) + 1)
    assert verdict.status == "wrong" and verdict.mistake is None
    assert "expected" in capsys.readouterr().out


def test_checker_rejects_a_non_function():
    with pytest.raises(TypeError, match="fn"):
        check_td_target("y = r")


def test_importing_the_checkers_does_not_import_torch():
    code = "import sys, utils.lessons.lesson3; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


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
