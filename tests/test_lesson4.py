"""Lesson 4: the sync exercises' checkers, the two-network figures and the widget."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import utils.dqn as dqn
from utils.dqn import History
from utils.lessons.lesson4 import (
    SyncSweepExplorer,
    plot_one_vs_two,
    plot_sync_sweep,
    plot_target_staircase,
    sync_sweep_explorer,
)
from utils.lessons.lesson4_exercise import (
    HARD_SYNC,
    SOFT_SYNC,
    check_hard_update,
    check_soft_update,
)

BOUND = dqn.impossible_q_bound(0.99)

# --- the hard sync exercise ------------------------------------------------------------------


def hard_by_parameters(target_network, q_network):
    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.copy_(o)


def hard_by_state_dict(target_network, q_network):
    target_network.load_state_dict(q_network.state_dict())


def hard_stub(target_network, q_network): ...  # your code here


def hard_stub_with_docstring(target_network, q_network):
    """Copy the weights."""
    pass


@pytest.mark.parametrize("answer", [hard_by_parameters, hard_by_state_dict, dqn.hard_update])
def test_correct_hard_syncs_pass(answer, capsys):
    verdict = check_hard_update(answer)
    assert verdict.passed and verdict.status == "correct"
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [hard_stub, hard_stub_with_docstring])
def test_hard_stub_is_not_attempted(answer):
    assert check_hard_update(answer).status == "not attempted"


@torch.no_grad()
def hard_stub_decorated(target_network, q_network): ...


@pytest.mark.parametrize(
    "answer",
    [lambda target_network, q_network: ..., hard_stub_decorated],
    ids=["lambda returning ...", "stub under @torch.no_grad()"],
)
def test_other_stub_shapes_are_not_attempted_rather_than_a_rebound_name(answer):
    # Stubs are recognised by comparing their code with stubs compiled by this interpreter
    # (looking through decorators), not by opcode names: these two used to be "wrong" with
    # the hint of the rebinding mistake, because calling them leaves the target unchanged.
    verdict = check_hard_update(answer)
    assert verdict.status == "not attempted" and verdict.mistake is None


@pytest.mark.parametrize("mistake", HARD_SYNC.mistakes, ids=lambda m: m.name)
def test_every_hard_mistake_is_recognised_as_itself(mistake):
    verdict = check_hard_update(mistake.implementation)  # the harness runs it
    assert verdict.status == "wrong" and verdict.mistake == mistake.name


def test_forgetting_no_grad_is_named_with_its_hint(capsys):
    def no_grad_forgotten(target_network, q_network):
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.copy_(o)

    verdict = check_hard_update(no_grad_forgotten)
    assert verdict.mistake == "forgot `torch.no_grad()`"
    assert "torch.no_grad()" in capsys.readouterr().out


def test_sharing_tensors_is_named():
    def share(target_network, q_network):
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.data = o.data

    verdict = check_hard_update(share)
    assert verdict.mistake == "made the target share the online network's tensors"
    assert "no longer frozen" in " ".join(verdict.message.split())  # wrapped at word ends


def test_rebinding_is_wrong_not_unattempted():
    def rebind(target_network, q_network):
        target_network = copy.deepcopy(q_network)  # noqa: F841 - the mistake under test

    verdict = check_hard_update(rebind)
    assert verdict.status == "wrong"
    assert verdict.mistake == "rebound a name instead of changing the target"


def test_an_unknown_wrong_sync_shows_a_case(capsys):
    def half_way(target_network, q_network):
        with torch.no_grad():
            for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
                t.lerp_(o, 0.5)

    verdict = check_hard_update(half_way)
    out = capsys.readouterr().out
    assert verdict.status == "wrong" and verdict.mistake is None
    assert "moved 0.500 of the way" in out and "moved 1.000 of the way" in out


def test_a_raising_sync_is_reported():
    def boom(target_network, q_network):
        raise RuntimeError("size mismatch")

    verdict = check_hard_update(boom)
    assert verdict.status == "error" and "size mismatch" in verdict.message
    assert 'raise RuntimeError("size mismatch")' in verdict.message  # the learner's line
    assert "copy each online tensor" not in " ".join(verdict.message.split())  # not the hint


def test_a_sync_that_returns_nothing_by_design_is_not_a_forgotten_return():
    verdict = check_hard_update(dqn.hard_update)  # returns None, as the exercise asks
    assert verdict.passed


def test_sync_checkers_reject_non_callables():
    with pytest.raises(TypeError, match="fn"):
        check_hard_update("t.copy_(o)")
    with pytest.raises(TypeError, match="fn"):
        check_soft_update(None)


# --- the soft update exercise -----------------------------------------------------------------


def soft_by_lerp(target_network, q_network, tau):
    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.lerp_(o, tau)


def soft_by_formula(target_network, q_network, tau):
    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.copy_(tau * o + (1 - tau) * t)


def soft_stub(target_network, q_network, tau): ...


@pytest.mark.parametrize("answer", [soft_by_lerp, soft_by_formula, dqn.soft_update])
def test_correct_soft_updates_pass(answer):
    assert check_soft_update(answer).passed


def test_soft_stub_is_not_attempted():
    assert check_soft_update(soft_stub).status == "not attempted"


@pytest.mark.parametrize("mistake", SOFT_SYNC.mistakes, ids=lambda m: m.name)
def test_every_soft_mistake_is_recognised_as_itself(mistake):
    verdict = check_soft_update(mistake.implementation)
    assert verdict.status == "wrong" and verdict.mistake == mistake.name


def test_tau_backwards_is_named():
    def backwards(target_network, q_network, tau):
        with torch.no_grad():
            for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
                t.copy_((1 - tau) * o + tau * t)

    verdict = check_soft_update(backwards)
    assert verdict.mistake.startswith("put tau on the wrong side")


@pytest.mark.parametrize("exercise", [HARD_SYNC, SOFT_SYNC], ids=["hard", "soft"])
def test_solution_texts_are_correct_answers(exercise):
    namespace = {"torch": torch}
    exec(exercise.solution, namespace)
    checker = check_hard_update if exercise is HARD_SYNC else check_soft_update
    assert checker(namespace[exercise.name]).passed


# --- fake runs for the figures and the widget ---------------------------------------------------


def fake_run(seed, *, peak_q, n_updates=300, evals=(20.0, 200.0, 480.0), solved=None):
    """A run-like object with a hand-made history (no training needed)."""
    update_steps = np.arange(101, 101 + n_updates)
    max_q = np.linspace(1.0, peak_q, n_updates)
    ends = np.arange(20, 101 + n_updates, 20)
    return SimpleNamespace(
        seed=seed,
        global_step=int(update_steps[-1]),
        history=History(
            episode_returns=np.linspace(10.0, 100.0, len(ends)) + seed,
            episode_lengths=np.full(len(ends), 20),
            episode_end_steps=ends,
            update_steps=update_steps,
            losses=np.zeros(n_updates),
            max_q=max_q,
            eval_steps=np.array([100, 200, 300]),
            eval_returns=np.array(evals, dtype=float),
            solved_step=solved,
        ),
    )


def test_staircase_draws_a_step_line_and_the_moving_target():
    steps = np.arange(1, 301)
    frozen = np.repeat(np.arange(3.0), 100)[:, None] * np.ones((1, 4))  # jumps at 100, 200
    moving = frozen + np.linspace(0, 1, 300)[:, None]
    fig = plot_target_staircase(steps, frozen, moving, sync_period=100, probe=2, window=(50, 250))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    step_lines = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    assert len(step_lines) == 1
    assert step_lines[0].get_xdata().min() >= 50 and step_lines[0].get_xdata().max() <= 250
    syncs = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert [line.get_xdata()[0] for line in syncs] == [100, 200]


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(probe=4), ValueError, "probe"),
        (dict(window=(500, 600)), ValueError, "window"),
        (dict(window=[0, 10]), TypeError, "window"),
        (dict(sync_period=0), ValueError, "sync_period"),
        (dict(moving_targets=np.zeros((3, 4))), ValueError, "moving_targets"),
    ],
)
def test_staircase_names_bad_arguments(kwargs, error, name):
    with pytest.raises(error, match=name):
        plot_target_staircase(np.arange(1, 11), np.zeros((10, 4)), **kwargs)


def test_one_vs_two_has_three_panels_and_counts_solved_seeds():
    runs = {
        "one network": [fake_run(s, peak_q=1e4, evals=(10, 10, 10)) for s in range(3)],
        "two networks": [
            fake_run(0, peak_q=80.0, solved=300),
            fake_run(1, peak_q=90.0, solved=200),
            fake_run(2, peak_q=120.0),
        ],
    }
    fig = plot_one_vs_two(runs, BOUND, solved_return=475)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    solved_ax = fig.axes[1]
    shares = {line.get_label(): line.get_ydata() for line in solved_ax.get_lines()}
    assert list(shares["two networks"]) == pytest.approx([0.0, 1 / 3, 2 / 3])
    assert list(shares["one network"]) == [0.0, 0.0, 0.0]


def test_one_vs_two_needs_shared_evaluations():
    shifted = fake_run(1, peak_q=5.0)
    shifted.history.eval_steps = np.array([100, 200, 400])
    with pytest.raises(ValueError, match="eval_steps"):
        plot_one_vs_two({"a": [fake_run(0, peak_q=5.0), shifted]}, BOUND, solved_return=475)
    with pytest.raises(ValueError, match=r"runs\['a'\] must not be empty"):
        plot_one_vs_two({"a": []}, BOUND, solved_return=475)


def make_sweep(periods=(1, 100), rates=(1e-4, 1e-3), seeds=2):
    return {
        (c, lr): [fake_run(s, peak_q=1e3 / c) for s in range(seeds)]
        for c in periods
        for lr in rates
    }


def test_sync_sweep_figure_and_its_checks():
    fig = plot_sync_sweep(make_sweep(), BOUND, highlight=(100, 1e-3))
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "100"]
    incomplete = make_sweep()
    del incomplete[(1, 1e-4)]
    with pytest.raises(ValueError, match="missing"):
        plot_sync_sweep(incomplete, BOUND)
    with pytest.raises(TypeError, match="sweep keys"):
        plot_sync_sweep({1: [fake_run(0, peak_q=1.0)]}, BOUND)
    with pytest.raises(ValueError, match="highlight"):
        plot_sync_sweep(make_sweep(), BOUND, highlight=(5, 1e-3))


def test_sync_sweep_explorer_selects_without_training():
    explorer = sync_sweep_explorer(make_sweep(), BOUND)
    assert isinstance(explorer, SyncSweepExplorer)
    assert explorer.controls["C"].options == ((("1", 1), ("100", 100)))
    seconds = explorer.move(C=1, learning_rate=1e-4)
    assert seconds < 5 and np.isfinite(explorer.last_seconds)
    assert (explorer.controls["C"].value, explorer.controls["learning_rate"].value) == (1, 1e-4)
    fig = explorer.figure(C=100, learning_rate=1e-3)
    assert isinstance(fig, Figure) and "C = 100" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="swept"):
        explorer.move(C=10)
    with pytest.raises(ValueError, match="control name"):
        explorer.move(tau=0.5)
    with pytest.raises(ValueError, match="swept"):
        sync_sweep_explorer(make_sweep(), BOUND, start=(7, 1e-3))
