"""Lesson 6: the diagnostics figures and table, the gallery's measures and widget, the
name-the-bug exercise and the code-level bug hunt."""

from __future__ import annotations

import copy
import dataclasses
import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from _helpers import TINY
from matplotlib.figure import Figure

from utils.config import cartpole_config
from utils.dqn import DQNConfig, DQNRun, History
from utils.lessons.lesson6 import (
    DIAGNOSIS_SOLUTION,
    SYMPTOMS,
    DiagnosticsExplorer,
    check_diagnosis,
    diagnostics_explorer,
    fall_value_gap,
    plot_bug_gallery,
    symptom_line,
    symptoms,
    train_mystery,
)
from utils.lessons.lesson6_bugs import GALLERY
from utils.lessons.lesson6_diagnostics import (
    diagnostics_table,
    plot_diagnostics,
    random_policy_states,
)
from utils.lessons.lesson6_hunt import (
    BUGGY_LOOP,
    FIX,
    HUNT_SOLUTION,
    LOOP_MISTAKES,
    check_bug_hunt,
    reference_loop,
)
from utils.networks import QNetwork
from utils.replay import ReplayBuffer
from utils.schedules import LinearSchedule


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


# --- measures ---------------------------------------------------------------------------------


def test_symptoms_by_hand(variants):
    measured = symptoms(variants["broken"], last=4, block=100, greedy_episodes=2)
    assert set(measured) == {"return", "greedy", "length", "loss", "largest_q", "probe_q"}
    np.testing.assert_allclose(measured["return"], [9.5, 9.5])  # last 4 of [10, 9] * 6
    np.testing.assert_allclose(measured["largest_q"], [1e5, 1e5])
    np.testing.assert_allclose(measured["probe_q"], [5000.0, 5000.0], rtol=1e-6)
    # both actions score 5000: greedy pushes left, and the pole falls within a few dozen steps
    assert np.all((measured["greedy"] > 5) & (measured["greedy"] < 100))
    with pytest.raises(ValueError, match="one variant"):
        symptoms(variants)
    with pytest.raises(ValueError, match="last"):
        symptoms(variants["broken"], last=0)


def test_symptom_line_gives_iqm_and_interval():
    line = symptom_line("x", {"return": np.arange(10.0), "loss": np.full(10, 2.0)}, ("return",))
    assert line.startswith("x (10 seeds): return 4.5 [")
    assert "loss" not in line
    with pytest.raises(ValueError, match="greedy"):
        symptom_line("x", {"return": np.arange(10.0)}, ("greedy",))


# --- exercise: name the bug -------------------------------------------------------------------

RIGHT = {"A": "reward_scale_100", "B": "never_sync", "C": "epsilon_never_decays"}


def test_right_answers_pass_and_every_answer_is_explained(capsys):
    verdict = check_diagnosis(dict(RIGHT))
    assert verdict.passed and verdict.status == "correct"
    out = capsys.readouterr().out
    assert "Correct" in out and out.count("right,") == 3


def test_the_folded_solution_passes():
    namespace: dict = {}
    exec(DIAGNOSIS_SOLUTION, namespace)
    assert check_diagnosis(namespace["answers"]).passed


def test_stub_and_partial_answers_are_not_attempted():
    assert check_diagnosis({"A": ..., "B": ..., "C": ...}).status == "not attempted"
    partial = check_diagnosis({**RIGHT, "C": ...})
    assert partial.status == "not attempted" and "C" in partial.message


def test_a_wrong_answer_is_told_what_its_bug_would_show():
    verdict = check_diagnosis({**RIGHT, "B": "no_terminal_mask"})
    assert verdict.status == "wrong" and not verdict
    assert "1 of 3 wrong" in verdict.message
    assert "B: not no_terminal_mask" in verdict.message and "A: right" in verdict.message
    assert " ".join(SYMPTOMS["no_terminal_mask"].split()[:4]) in " ".join(verdict.message.split())


def test_unknown_names_and_keys_are_wrong_with_the_list():
    verdict = check_diagnosis({**RIGHT, "A": "typo"})
    assert verdict.status == "wrong" and "never_sync" in verdict.message
    assert check_diagnosis({**RIGHT, "D": "never_sync"}).status == "wrong"
    with pytest.raises(TypeError, match="answers"):
        check_diagnosis(["never_sync"])


def test_every_bug_has_a_symptom_and_the_answers_are_bugs():
    assert set(SYMPTOMS) == set(GALLERY) and set(RIGHT.values()) <= set(GALLERY)


def test_train_mystery_trains_each_letter_on_every_seed():
    runs = train_mystery("CartPole-v1", DQNConfig(**TINY), [5, 6], progress=False)
    assert list(runs) == ["A", "B", "C"]
    assert all([r.seed for r in group] == [5, 6] for group in runs.values())
    assert runs["A"][0].config.reward_scale == 10.0
    assert runs["C"][0].config.epsilon_end == runs["C"][0].config.epsilon_start == 0.5
    assert runs["B"][0].config.target_update_period == 3_000  # synced rarely, not never
    # every letter is a setting of the correct agent at another strength than the gallery's
    changed = {k: dataclasses.asdict(g[0].config) for k, g in runs.items()}
    tiny = dataclasses.asdict(DQNConfig(**TINY))
    assert all(sum(v != tiny[f] for f, v in c.items()) in (1, 2) for c in changed.values())
    with pytest.raises(TypeError, match="config"):
        train_mystery("CartPole-v1", {"total_steps": 10}, [0])


# --- the code-level bug hunt ------------------------------------------------------------------


def loop_namespace(source: str) -> dict:
    namespace = dict(copy=copy, gym=gym, np=np, torch=torch, cartpole_config=cartpole_config)
    namespace.update(QNetwork=QNetwork, ReplayBuffer=ReplayBuffer, LinearSchedule=LinearSchedule)
    exec(source, namespace)
    return namespace


FIXED = BUGGY_LOOP.replace(".gather(1, batch.actions.unsqueeze(1))",
                           ".gather(1, batch.actions.unsqueeze(1)).squeeze(1)")  # fmt: skip
assert FIXED == BUGGY_LOOP.replace(*FIX)  # the test's own fix is the module's
STEPS = 1_100  # 100 updates: enough to tell every mistake apart, fast


def test_the_notebook_shows_the_buggy_loop_verbatim():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "notebooks" / "06_why_my_dqn_doesnt_learn.ipynb"
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    assert BUGGY_LOOP.rstrip("\n") in sources


def test_the_buggy_loop_is_the_broadcast_mistake_and_the_fix_is_the_reference():
    buggy = loop_namespace(BUGGY_LOOP)["buggy_dqn"](total_steps=STEPS)
    fixed = loop_namespace(FIXED)["buggy_dqn"](total_steps=STEPS)
    assert buggy["losses"] == reference_loop(0, STEPS, mistake="broadcast")["losses"]
    assert fixed["losses"] == reference_loop(0, STEPS)["losses"]
    assert FIXED != BUGGY_LOOP and "squeeze(1)" in HUNT_SOLUTION


def test_check_bug_hunt_passes_the_fix_and_names_what_is_still_wrong():
    assert check_bug_hunt(loop_namespace(FIXED)["buggy_dqn"], STEPS).passed
    unfixed = check_bug_hunt(loop_namespace(BUGGY_LOOP)["buggy_dqn"], STEPS)
    assert unfixed.status == "not attempted" and unfixed.mistake == "broadcast"
    no_mask = FIXED.replace("(1.0 - batch.terminated) * ", "")
    verdict = check_bug_hunt(loop_namespace(no_mask)["buggy_dqn"], STEPS)
    assert verdict.status == "wrong" and verdict.mistake == "no_terminal_mask"
    online = FIXED.replace("next_q = target_network(", "next_q = q_network(")
    verdict = check_bug_hunt(loop_namespace(online)["buggy_dqn"], STEPS)
    assert verdict.mistake == "online_network_target"
    huber = FIXED.replace("((q_taken - td_target) ** 2).mean()",
                          "torch.nn.functional.smooth_l1_loss(q_taken, td_target)")  # fmt: skip
    verdict = check_bug_hunt(loop_namespace(huber)["buggy_dqn"], STEPS)
    assert verdict.status == "wrong" and verdict.mistake is None and "update 1" in verdict.message


def test_every_loop_mistake_is_one_edit_of_the_reference_and_named_by_the_checker():
    for mistake in LOOP_MISTAKES:
        losses = reference_loop(0, STEPS, mistake=mistake)["losses"]
        assert losses != reference_loop(0, STEPS)["losses"]  # the edit changes the learning
        verdict = check_bug_hunt(lambda seed, total_steps, m=mistake: reference_loop(
            seed, total_steps, mistake=m), STEPS)  # fmt: skip
        assert verdict.mistake == mistake and not verdict.passed


def test_check_bug_hunt_reports_errors_and_bad_arguments():
    def broken(seed=0, total_steps=10):
        raise RuntimeError("shapes")

    verdict = check_bug_hunt(broken, STEPS)
    assert verdict.status == "error" and "RuntimeError" in verdict.message
    assert check_bug_hunt(lambda seed, total_steps: None, STEPS).status == "error"
    with pytest.raises(TypeError, match="fn"):
        check_bug_hunt("loop")
    with pytest.raises(ValueError, match="total_steps"):
        check_bug_hunt(broken, 10)
    with pytest.raises(ValueError, match="mistake"):
        reference_loop(0, 10, mistake="typo")
    assert set(LOOP_MISTAKES) >= {"broadcast", "no_terminal_mask"}


# --- what the terminal mask teaches ---------------------------------------------------------


def test_fall_value_gap_by_hand(monkeypatch):
    import utils.lessons.lesson6 as lesson6

    probes = np.zeros((4, 4), dtype=np.float32)
    probes[:, 2] = [0.0, 0.01, 0.18, 0.2]  # two upright states, two about to fall
    monkeypatch.setattr(lesson6, "random_policy_states", lambda env_id: probes)

    class Net(torch.nn.Module):  # Q = 10 - 40 |angle| for both actions
        def forward(self, obs):
            return (10.0 - 40.0 * obs[:, 2:3].abs()).repeat(1, 2)

    run = dataclasses.replace(fake_run(0, [10.0], [1.0], [1.0]), q_network=Net())
    gap = fall_value_gap([run])
    assert gap.shape == (1,) and gap[0] == pytest.approx(-40.0 * 0.19 + 40.0 * 0.005, abs=1e-4)
    with pytest.raises(ValueError, match="tilted"):
        fall_value_gap([run], tilted=0.01, upright=0.05)
    with pytest.raises(ValueError, match="upright"):
        fall_value_gap([run], upright=0.0)
