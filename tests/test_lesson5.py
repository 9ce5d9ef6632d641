"""Lesson 5: the diagnostics figures and table, the diagnostics widget, the bug-naming exercise,
and the claims about the trainer the lesson builds on."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from utils.dqn import DQNConfig, DQNRun, History, double_dqn_target, td_target
from utils.engine import train_many
from utils.lessons.lesson5 import (
    BUG_GALLERY,
    DIAGNOSIS_SOLUTION,
    DiagnosticsExplorer,
    check_diagnosis,
    diagnostics_explorer,
    mystery_runs,
    plot_bug_gallery,
    plot_learning_rate_sweep,
)
from utils.lessons.lesson5_bugs import BUGS, train_with_bug
from utils.lessons.lesson5_diagnostics import (
    diagnostics_table,
    plot_diagnostics,
    random_policy_states,
)
from utils.networks import QNetwork

TINY = dict(total_steps=600, learning_starts=100, batch_size=16, buffer_size=1000,
            hidden_sizes=(16,), epsilon_decay_steps=300, target_update_period=50)  # fmt: skip


def fake_run(seed: int, returns, losses, max_q, q_value: float = 0.0, step: int = 1000) -> DQNRun:
    """A run with a hand-made history and a network that predicts ``q_value`` everywhere."""
    returns = np.asarray(returns, dtype=float)
    n = len(returns)
    end_steps = np.linspace(step / max(n, 1), step, n).astype(np.int64)
    losses = np.asarray(losses, dtype=float)
    update_steps = np.arange(1, len(losses) + 1, dtype=np.int64) * (step // max(len(losses), 1))
    history = History(
        episode_returns=returns,
        episode_lengths=returns.astype(np.int64),
        episode_end_steps=end_steps,
        update_steps=update_steps,
        losses=losses,
        max_q=np.asarray(max_q, dtype=float),
        eval_steps=np.zeros(0, dtype=np.int64),
        eval_returns=np.zeros(0),
    )
    net = QNetwork(4, 2, (8,))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.linears()[-1].bias.fill_(q_value)
    return DQNRun("CartPole-v1", DQNConfig(), seed, net, history, step)


@pytest.fixture(scope="module")
def variants() -> dict[str, list[DQNRun]]:
    good = [
        fake_run(s, [10, 20, 30, 40] * 3, np.full(300, 0.5), np.linspace(1, 50, 300), 40.0)
        for s in (0, 1)
    ]
    broken = [
        fake_run(s, [10, 9] * 6, np.geomspace(1, 1e4, 300), np.geomspace(1, 1e5, 300), 5000.0)
        for s in (0, 1)
    ]
    return {"correct": good, "broken": broken}


# --- plotting ---------------------------------------------------------------------------------


def test_random_policy_states_are_fixed_by_the_seed():
    a = random_policy_states("CartPole-v1", n=100, seed=3)
    b = random_policy_states("CartPole-v1", n=100, seed=3)
    c = random_policy_states("CartPole-v1", n=100, seed=4)
    assert a.shape == (100, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # random actions topple the pole within ~20 steps: 100 states span several episodes
    assert np.abs(a[:, 2]).max() > 0.1


def test_random_policy_states_names_bad_arguments():
    with pytest.raises(ValueError, match="n must be >= 1"):
        random_policy_states("CartPole-v1", n=0)
    with pytest.raises(ValueError, match="not a registered"):
        random_policy_states("NoSuchEnv-v0")
    with pytest.raises(TypeError, match="env_id"):
        random_policy_states(3)


def test_diagnostics_table_by_hand(variants):
    probe = np.zeros((7, 4), dtype=np.float32)
    table = diagnostics_table(variants, probe_states=probe, last=4, block=100)
    good = table["correct"]
    assert good["seeds"] == 2
    assert good["return"] == pytest.approx(25.0)  # mean of the last 4 episodes 10, 20, 30, 40
    assert good["loss"] == pytest.approx(0.5)
    assert good["max_q"] == pytest.approx(50.0) and good["peak_q"] == pytest.approx(50.0)
    assert good["probe_q"] == pytest.approx(40.0)  # the network predicts 40 everywhere
    broken = table["broken"]
    assert broken["return"] == pytest.approx(9.5)
    assert broken["peak_q"] == pytest.approx(1e5)
    assert broken["probe_q"] == pytest.approx(5000.0)
    # last block of 100 updates of a geometric ramp from 1 to 1e4 averages well above 1e3
    assert broken["loss"] > 1e3


def test_diagnostics_table_accepts_one_run_and_a_list(variants):
    run = variants["correct"][0]
    probe = np.zeros((3, 4), dtype=np.float32)
    assert set(diagnostics_table(run, probe_states=probe)) == {"run"}
    assert diagnostics_table(variants["correct"], probe_states=probe)["run"]["seeds"] == 2


def test_plot_diagnostics_draws_every_panel(variants):
    fig = plot_diagnostics(
        variants, probe_states=np.zeros((5, 4), np.float32), bound=100.0, time_limit=500, block=50
    )
    assert isinstance(fig, Figure)
    ret_ax, len_ax, loss_ax, q_ax, hist_ax, table_ax = fig.axes[:6]
    assert len(ret_ax.lines) == 2 and len(loss_ax.lines) == 2
    assert loss_ax.get_yscale() == "log" and q_ax.get_yscale() == "symlog"
    assert any(np.allclose(line.get_ydata(), 100.0) for line in q_ax.lines)  # the bound
    assert any(np.allclose(line.get_ydata(), 500.0) for line in len_ax.lines)  # the limit
    assert len(hist_ax.patches) == 2  # one step histogram per variant
    assert hist_ax.get_xscale() == "symlog"  # 5000 is far from 40: log-spaced bins
    assert table_ax.tables
    # the Q panel shows the maximum of each block of 50 updates: the last block ends at 1e5
    broken_q = q_ax.lines[1].get_ydata()
    assert broken_q[-1] == pytest.approx(1e5)


def test_plot_diagnostics_keeps_a_linear_histogram_for_healthy_values(variants):
    fig = plot_diagnostics(variants["correct"], probe_states=np.zeros((5, 4), np.float32))
    assert fig.axes[4].get_xscale() == "linear"


def test_plot_diagnostics_names_bad_arguments(variants):
    with pytest.raises(ValueError, match="runs must not be empty"):
        plot_diagnostics({})
    with pytest.raises(TypeError, match="DQNRun"):
        plot_diagnostics({"x": [1, 2]})
    with pytest.raises(TypeError, match="runs must be"):
        plot_diagnostics(3.0)
    with pytest.raises(ValueError, match="block"):
        plot_diagnostics(variants, block=0)
    with pytest.raises(ValueError, match="probe_states"):
        plot_diagnostics(variants, probe_states=np.zeros(4))


def test_bug_gallery_one_panel_per_variant(variants):
    runs = {**variants, "other": variants["broken"]}
    fig = plot_bug_gallery(runs, "correct", ncols=4)
    drawn = [ax for ax in fig.axes if ax.lines]
    assert len(drawn) == 2  # broken and other; the reference is drawn in each, not alone
    assert all(len(ax.lines) == 2 for ax in drawn)
    with pytest.raises(ValueError, match="reference"):
        plot_bug_gallery(runs, "missing")
    with pytest.raises(ValueError, match="besides the reference"):
        plot_bug_gallery({"correct": variants["correct"]}, "correct")


def test_learning_rate_sweep_plots_one_point_per_rate(variants):
    sweep = {
        "two networks": {1e-3: variants["correct"], 3e-3: variants["correct"]},
        "one network": {1e-3: variants["broken"], 3e-3: variants["broken"]},
    }
    fig = plot_learning_rate_sweep(sweep, bound=100.0)
    ret_ax, q_ax = fig.axes
    np.testing.assert_allclose(ret_ax.lines[0].get_xdata(), [1e-3, 3e-3])
    np.testing.assert_allclose(ret_ax.lines[1].get_ydata(), [9.5, 9.5])  # last 10 of [10, 9]*6
    np.testing.assert_allclose(q_ax.lines[1].get_ydata(), [1e5, 1e5])
    assert ret_ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="learning rate"):
        plot_learning_rate_sweep({"x": {0.0: variants["correct"]}})
    with pytest.raises(ValueError, match="sweep must not be empty"):
        plot_learning_rate_sweep({})
    with pytest.raises(TypeError, match="sweep must be a mapping"):
        plot_learning_rate_sweep([variants["correct"]])


# --- widget -----------------------------------------------------------------------------------


def test_diagnostics_explorer_redraws_on_a_choice(variants, recording_redraws):
    runs = {**variants, "other": variants["broken"]}
    probe = np.zeros((5, 4), np.float32)
    explorer = diagnostics_explorer(runs, "correct", probe_states=probe, bound=100.0)
    assert isinstance(explorer, DiagnosticsExplorer)
    assert not math.isnan(explorer.last_seconds)  # drawn once at build
    assert list(explorer.controls["variant"].options) == ["broken", "other"]
    with recording_redraws(explorer) as calls:
        assert explorer.move(variant="other") > 0
        explorer.move(compare=False)
    assert calls == [("other", True), ("other", False)]
    fig = explorer.figure("broken")
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 2
    assert len(explorer.figure("broken", compare=False).axes[0].lines) == 1


def test_diagnostics_explorer_names_bad_arguments(variants):
    with pytest.raises(ValueError, match="reference"):
        diagnostics_explorer(variants, "missing")
    with pytest.raises(ValueError, match=">= 2 variants"):
        diagnostics_explorer({"correct": variants["correct"]}, "correct")
    explorer = diagnostics_explorer(variants, "correct", probe_states=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="variant"):
        explorer.move(variant="correct")
    with pytest.raises(ValueError, match="control name"):
        explorer.move(colour="red")
    with pytest.raises(ValueError, match="variant"):
        explorer.figure("nope")


# --- exercise ---------------------------------------------------------------------------------

RIGHT = {"A": "epsilon_never_decays", "B": "never_sync", "C": "reward_scale_100"}


def test_right_answers_pass(capsys):
    verdict = check_diagnosis(dict(RIGHT))
    assert verdict.passed and verdict.status == "correct"
    assert "Correct" in capsys.readouterr().out


def test_the_folded_solution_passes():
    namespace: dict = {}
    exec(DIAGNOSIS_SOLUTION, namespace)
    assert check_diagnosis(namespace["answers"]).passed


def test_stub_and_partial_answers_are_not_attempted():
    assert check_diagnosis({"A": ..., "B": ..., "C": ...}).status == "not attempted"
    partial = check_diagnosis({**RIGHT, "C": ...})
    assert partial.status == "not attempted" and "C" in partial.message


def test_a_wrong_answer_gets_a_hint_for_that_run_only():
    verdict = check_diagnosis({**RIGHT, "B": "no_terminal_mask"})
    assert verdict.status == "wrong" and not verdict
    assert "1 of 3 wrong" in verdict.message
    assert "B: not no_terminal_mask" in verdict.message and "A: right" in verdict.message


def test_unknown_names_and_keys_are_wrong_with_the_list():
    verdict = check_diagnosis({**RIGHT, "A": "typo"})
    assert verdict.status == "wrong" and "never_sync" in verdict.message
    assert check_diagnosis({**RIGHT, "D": "never_sync"}).status == "wrong"
    with pytest.raises(TypeError, match="answers"):
        check_diagnosis(["never_sync"])


def test_mystery_runs_pick_the_named_bugs():
    gallery = {name: [name] for name in BUG_GALLERY}
    mystery = mystery_runs(gallery)
    assert {letter: runs[0] for letter, runs in mystery.items()} == RIGHT
    with pytest.raises(ValueError, match="never_sync"):
        mystery_runs({"epsilon_never_decays": [], "reward_scale_100": []})
    with pytest.raises(TypeError, match="gallery"):
        mystery_runs([])


# --- what the lesson claims about the trainer ---------------------------------------------------


def test_hard_copy_every_step_is_the_single_network():
    every_step = train_many(
        "CartPole-v1", DQNConfig(**{**TINY, "target_update_period": 1}), [0, 1], progress=False
    )
    one_network = train_many(
        "CartPole-v1", DQNConfig(**{**TINY, "target_update_period": None}), [0, 1], progress=False
    )
    for a, b in zip(every_step, one_network, strict=True):
        np.testing.assert_array_equal(a.history.losses, b.history.losses)


def test_gradient_through_target_is_a_no_op_with_a_target_network():
    clean = train_many("CartPole-v1", DQNConfig(**TINY), [0, 1], progress=False)
    switched = train_with_bug(
        "CartPole-v1", DQNConfig(**TINY), [0, 1], "gradient_through_target", progress=False
    )
    for a, b in zip(clean, switched, strict=True):
        np.testing.assert_array_equal(a.history.losses, b.history.losses)


def test_the_gallery_starts_with_the_switches_of_the_algorithm():
    assert list(BUG_GALLERY)[: len(BUGS)] == list(BUGS)
    assert len(BUG_GALLERY) == 9 and set(RIGHT.values()) <= set(BUG_GALLERY)


def test_double_target_never_exceeds_the_dqn_target_of_the_same_target_network():
    torch.manual_seed(0)
    online, target = torch.randn(500, 3), torch.randn(500, 3)
    rewards, terminated = torch.randn(500), (torch.rand(500) < 0.2).float()
    double = double_dqn_target(rewards, online, target, terminated, 0.9)
    plain = td_target(rewards, target, terminated, 0.9)
    assert torch.all(double <= plain)
    disagree = online.argmax(-1) != target.argmax(-1)
    assert torch.all(double[disagree & (terminated == 0)] < plain[disagree & (terminated == 0)])
    assert torch.equal(double[terminated == 1], rewards[terminated == 1])
