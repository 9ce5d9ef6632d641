"""Lesson 0: both exercise checkers (correct, wrong and not-attempted answers), the figures
and the discount widget."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.envs import make_env
from utils.lessons.lesson0 import (
    DISCOUNTED_RETURN,
    ONE_STEP_TARGETS,
    check_discounted_return,
    check_one_step_targets,
    discount_explorer,
    plot_discount_weights,
    plot_frozen_lake_states,
)


def test_discounted_return_correct_answers_pass():
    def forwards(rewards, gamma):
        return sum(gamma**t * r for t, r in enumerate(rewards))

    def backwards(rewards, gamma):
        g = 0.0
        for r in reversed(rewards):
            g = r + gamma * g
        return g

    assert check_discounted_return(forwards).passed
    assert check_discounted_return(backwards).passed


def test_discounted_return_stub_is_not_attempted(capsys):
    def stub_return(rewards, gamma): ...

    assert check_discounted_return(stub_return).status == "not attempted"
    assert "Not attempted yet" in capsys.readouterr().out


def test_discounted_return_undiscounted_sum_is_named():
    verdict = check_discounted_return(lambda rewards, gamma: sum(rewards))
    assert verdict.status == "wrong"
    assert verdict.mistake == "summed the rewards without discounting"


@pytest.mark.parametrize("mistake", DISCOUNTED_RETURN.mistakes, ids=lambda m: m.name)
def test_every_return_mistake_is_recognised_as_itself(mistake):
    assert check_discounted_return(mistake.implementation).mistake == mistake.name


def test_discounted_return_solution_is_correct():
    namespace: dict = {}
    exec(DISCOUNTED_RETURN.solution, namespace)
    assert check_discounted_return(namespace["discounted_return"]).passed


# --- the exercise: one_step_targets (terminated vs truncated) --------------------------------


def targets_loop(rewards, next_values, terminated, truncated, gamma):
    out = []
    for r, v, term in zip(rewards, next_values, terminated, strict=True):
        out.append(r if term else r + gamma * v)
    return out


def targets_numpy(rewards, next_values, terminated, truncated, gamma):
    r, v = np.asarray(rewards, float), np.asarray(next_values, float)
    return r + gamma * (1 - np.asarray(terminated, float)) * v


@pytest.mark.parametrize("answer", [targets_loop, targets_numpy])
def test_one_step_targets_correct_answers_pass(answer):
    assert check_one_step_targets(answer).passed


def test_one_step_targets_stub_is_not_attempted():
    def one_step_targets(rewards, next_values, terminated, truncated, gamma): ...

    assert check_one_step_targets(one_step_targets).status == "not attempted"


def test_masking_the_truncated_steps_too_is_named(capsys):
    def with_done(rewards, next_values, terminated, truncated, gamma):
        return [
            r + gamma * (1 - (a or b)) * v
            for r, v, a, b in zip(rewards, next_values, terminated, truncated, strict=True)
        ]

    verdict = check_one_step_targets(with_done)
    assert verdict.mistake == "masked the truncated steps too (done = terminated or truncated)"
    assert "Mask on `terminated` only" in capsys.readouterr().out


def test_one_step_targets_unlisted_mistake_gets_the_general_hint(capsys):
    def doubled(rewards, next_values, terminated, truncated, gamma):
        return 2 * targets_numpy(rewards, next_values, terminated, truncated, gamma)

    verdict = check_one_step_targets(doubled)
    assert verdict.status == "wrong" and verdict.mistake is None
    assert "`truncated` is not used" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", ONE_STEP_TARGETS.mistakes, ids=lambda m: m.name)
def test_every_target_mistake_is_recognised_as_itself(mistake):
    assert check_one_step_targets(mistake.implementation).mistake == mistake.name


def test_one_step_targets_solution_is_correct():
    namespace: dict = {"np": np}
    exec(ONE_STEP_TARGETS.solution, namespace)
    assert check_one_step_targets(namespace["one_step_targets"]).passed


# --- figures and the discount widget ----------------------------------------------------------


def test_frozen_lake_states_figure_numbers_every_cell():
    env = make_env("FrozenLake-v1", render_mode="rgb_array")
    env.reset(seed=0)
    fig = plot_frozen_lake_states(env)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert labels == {str(s) for s in range(16)}


def test_frozen_lake_states_rejects_bad_env():
    with pytest.raises(TypeError, match="env"):
        plot_frozen_lake_states("FrozenLake-v1")
    with pytest.raises(ValueError, match="rgb_array"):
        plot_frozen_lake_states(make_env("FrozenLake-v1"))


def test_discount_weights_marks_each_horizon():
    fig = plot_discount_weights((0.5, 0.9), steps=50)
    ax = fig.axes[0]
    vertical = sorted(line.get_xdata()[0] for line in ax.lines if len(set(line.get_xdata())) == 1)
    assert vertical == pytest.approx([2.0, 10.0])
    with pytest.raises(ValueError, match="gammas"):
        plot_discount_weights((1.0,))
    with pytest.raises(ValueError, match="steps"):
        plot_discount_weights((0.9,), steps=1)


def test_discount_explorer_starts_where_asked_and_returns_match_the_sum():
    episodes = {"short": [1.0] * 3, "long": [1.0] * 10}
    explorer = discount_explorer(episodes, gamma=0.9)
    assert explorer.controls["gamma"].value == pytest.approx(0.9)
    returns = explorer.returns(0.5)
    assert returns["short"] == pytest.approx(1 + 0.5 + 0.25)
    assert isinstance(explorer.figure(0.9), Figure)


def test_discount_explorer_move_is_fast():
    # would fail if a move redrew slowly enough to make the slider feel stuck (> 1 s)
    explorer = discount_explorer({"a": [1.0] * 500}, gamma=0.9)
    assert explorer.move(gamma=0.99) < 1.0


def test_discount_explorer_rejects_bad_input():
    with pytest.raises(TypeError, match="episodes"):
        discount_explorer([])
    with pytest.raises(ValueError, match="episodes"):
        discount_explorer({"a": []})
    with pytest.raises(ValueError, match="gamma"):
        discount_explorer({"a": [1.0]}, gamma=1.5)
