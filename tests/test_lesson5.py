"""Lesson 5: the maximisation bias MDP, the noisy-reward wrapper, the overestimation measurement,
the loaders of committed results, the figures, and the claims about the trainer the lesson
builds on."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from utils.dqn import DQNConfig, DQNRun, History, double_dqn_target, td_target
from utils.lessons.lesson5 import (
    describe_arm,
    diagnosis_at,
    diagnosis_summary,
    draw_seed_dots,
    load_result,
    long_arm,
    plot_arms,
    sweep_arm,
    terminal_pull,
)
from utils.lessons.lesson5_overestimation import (
    NoisyReward,
    noisy_cartpole_id,
    plot_gaps,
    predicted_and_realised,
    register_noisy_cartpole,
)
from utils.lessons.lesson5_tabular import (
    maximization_bias,
    maximization_bias_explorer,
    plot_left_share,
)
from utils.networks import QNetwork

# --- the maximisation bias (Sutton & Barto, Example 6.7) --------------------------------------


def test_maximization_bias_shape_and_seed():
    a = maximization_bias("q_learning", runs=50, episodes=30, seed=3)
    b = maximization_bias("q_learning", runs=50, episodes=30, seed=3)
    assert a.shape == (30, 50) and a.dtype == bool
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, maximization_bias("q_learning", runs=50, episodes=30, seed=4))


def test_q_learning_goes_left_more_often_than_double_q_learning():
    q = maximization_bias("q_learning", runs=400, episodes=100, seed=0)
    d = maximization_bias("double_q_learning", runs=400, episodes=100, seed=0)
    assert q[:50].mean() > d[:50].mean() + 0.3  # the max of noisy estimates pulls it left
    assert q[:50].mean() > 0.6


def test_without_exploration_and_noise_free_b_nobody_keeps_going_left():
    # epsilon 0: after the first 'left' (ties broken at random) Q(A, left) turns negative
    # once B's rewards (mean -0.1) are learnt; right stays at 0, so the greedy choice settles.
    left = maximization_bias("double_q_learning", runs=300, episodes=300, epsilon=0.0, seed=1)
    assert left[-50:].mean() < 0.05


@pytest.mark.parametrize(
    "kwargs",
    [
        {"learner": "sarsa"},
        {"learner": "q_learning", "runs": 0},
        {"learner": "q_learning", "alpha": 0.0},
        {"learner": "q_learning", "epsilon": 1.5},
        {"learner": "q_learning", "n_b_actions": True},
    ],
)
def test_maximization_bias_names_bad_arguments(kwargs):
    learner = kwargs.pop("learner")
    with pytest.raises((TypeError, ValueError)):
        maximization_bias(learner, **kwargs)


def test_plot_left_share_draws_one_line_per_learner_and_the_optimum():
    results = {name: maximization_bias(name, runs=20, episodes=20) for name in
               ("q_learning", "double_q_learning")}  # fmt: skip
    fig = plot_left_share(results)
    assert isinstance(fig, Figure) and len(fig.axes[0].lines) == 3
    with pytest.raises(ValueError, match="bool"):
        plot_left_share({"x": np.zeros((3, 4))})
    with pytest.raises(ValueError, match="results"):
        plot_left_share({})


def test_maximization_bias_explorer_reruns_both_learners_on_a_move():
    explorer = maximization_bias_explorer(runs=40)
    assert list(explorer.controls) == ["n_b_actions", "epsilon"]
    seconds = explorer.move(n_b_actions=1, epsilon=0.2)
    assert seconds < 5  # a move reruns two learners on 40 runs: a fraction of a second
    fig = explorer.figure(1, 0.2)
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert len(labels) == 3 and labels[0].startswith("Q-learning (episodes 1-100:")
    assert "10%" in labels[2]  # the optimal line follows epsilon / 2
    # with a single action in B there is no max to fool: Q-learning no longer prefers left
    one = maximization_bias("q_learning", runs=300, episodes=100, n_b_actions=1, seed=0)
    many = maximization_bias("q_learning", runs=300, episodes=100, n_b_actions=30, seed=0)
    assert many.mean() > one.mean() + 0.3


@pytest.mark.parametrize(
    "kwargs",
    [{"runs": 0}, {"n_b_actions": 0}, {"n_b_actions": 51}, {"epsilon": 0.6}, {"seed": -1},
     {"runs": 2.5}],
)  # fmt: skip
def test_maximization_bias_explorer_names_bad_arguments(kwargs):
    name = next(iter(kwargs))
    with pytest.raises((TypeError, ValueError), match=name):
        maximization_bias_explorer(**kwargs)
    with pytest.raises(ValueError, match="slider"):
        maximization_bias_explorer(runs=5).move(actions=3)


# --- noisy rewards ----------------------------------------------------------------------------


def test_noisy_reward_adds_seeded_zero_mean_noise():
    def rewards(seed: int) -> np.ndarray:
        env = NoisyReward(gym.make("CartPole-v1"), sigma=2.0)
        env.reset(seed=seed)
        out = []
        for _ in range(2000):
            _, r, terminated, truncated, _ = env.step(env.action_space.sample())
            out.append(r)
            if terminated or truncated:
                env.reset()
        return np.array(out)

    a, b = rewards(0), rewards(0)
    np.testing.assert_array_equal(a, b)
    assert abs(a.mean() - 1.0) < 0.15 and abs(a.std() - 2.0) < 0.15
    assert not np.array_equal(a, rewards(1))


def test_register_noisy_cartpole_is_idempotent_and_checks_sigma():
    env_id = register_noisy_cartpole(1.5)
    assert env_id == noisy_cartpole_id(1.5) == register_noisy_cartpole(1.5)
    env = gym.make(env_id)
    assert isinstance(env.unwrapped, gym.envs.classic_control.CartPoleEnv)
    with pytest.raises(ValueError, match="sigma"):
        register_noisy_cartpole(0.0)
    with pytest.raises(TypeError, match="sigma"):
        NoisyReward(gym.make("CartPole-v1"), sigma="big")


# --- predicted against collected ----------------------------------------------------------------


def constant_run(q_value: float, gamma: float = 0.9, seed: int = 0) -> DQNRun:
    """A run whose network predicts ``q_value`` for both actions (greedy: action 0, left)."""
    net = QNetwork(4, 2, (8,))
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.linears()[-1].bias.fill_(q_value)
    none, steps = np.zeros(0), np.zeros(0, dtype=np.int64)
    history = History(none, steps, steps, steps, none, none, steps, none)
    return DQNRun("CartPole-v1", DQNConfig(gamma=gamma), seed, net, history, 0)


def test_predicted_and_realised_by_hand():
    runs = [constant_run(3.0), constant_run(7.0, seed=1)]
    predicted, realised = predicted_and_realised(runs, starts=5, horizon=1000)
    assert predicted.shape == realised.shape == (2, 5)
    np.testing.assert_allclose(predicted, [[3.0] * 5, [7.0] * 5])
    # both always push left: same episodes, each step +1 discounted by 0.9 until it falls
    np.testing.assert_allclose(realised[0], realised[1])
    assert np.all((realised > 1.0) & (realised < 10.0))
    _, one_step = predicted_and_realised(runs, starts=5, horizon=1)
    np.testing.assert_allclose(one_step, 1.0)  # one step: exactly the first reward


def test_predicted_and_realised_names_bad_arguments():
    with pytest.raises(ValueError, match="runs"):
        predicted_and_realised([])
    with pytest.raises(ValueError, match="gamma"):
        predicted_and_realised([constant_run(1.0, 0.9), constant_run(1.0, 0.99, seed=1)])
    with pytest.raises(ValueError, match="starts"):
        predicted_and_realised([constant_run(1.0)], starts=0)


def test_plot_gaps_one_column_per_variant():
    fig = plot_gaps({"a": np.arange(10.0), "b": -np.arange(10.0)})
    assert isinstance(fig, Figure)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b"]
    with pytest.raises(ValueError, match="gaps"):
        plot_gaps({"a": np.zeros((2, 2))})


# --- committed results --------------------------------------------------------------------------


def test_the_lesson_finds_the_committed_hold_results():
    confirm = load_result("hold_confirm_after_split")
    base = sweep_arm(confirm, "base", seeds=(200, 209))
    assert base["final"].shape == base["max_q"].shape == (10,)
    assert "sweep_hold.py" in base["command"]
    assert base["summary"]["n_solved"] == 10  # the lesson prints it: solved on every seed
    summary = diagnosis_summary(load_result("hold_diagnosis"))
    assert summary["episodes"] >= summary["failed_cart"] + summary["failed_pole"]
    assert summary["config"]["loss"] == "huber"


def per_seed(seed: int, final: float, max_q: float, **extra) -> dict:
    return {"seed": seed, "final_mean_100": final, "max_q": max_q, **extra}


def test_sweep_arm_picks_the_named_row_and_seeds():
    rows = [
        {"name": "a", "seeds": [1, 2], "per_seed": [per_seed(1, 500, 90), per_seed(2, 10, 300)],
         "command": "c", "date": "d", "steps": 5, "stage": "tuning", "overrides": {}},
        {"name": "a", "seeds": [7], "per_seed": [per_seed(7, 1, 1)], "command": "c2"},
    ]  # fmt: skip
    arm = sweep_arm({"rows": rows}, "a")
    np.testing.assert_array_equal(arm["final"], [500, 10])
    assert sweep_arm({"rows": rows}, "a", seeds=(7, 7))["command"] == "c2"
    with pytest.raises(ValueError, match="configs"):
        sweep_arm({"rows": rows}, "b")


def test_long_arm_and_describe_arm():
    part = {
        "part": "p", "curve_steps": [1, 2], "command": "python x", "date": "d", "steps": 2,
        "machine": {"cpu": "cpu"},
        "arms": [{"arm": "A", "per_seed": [
            per_seed(s, 480.0 + s, 100.0 + s, gap=1.0 + s, predicted_q0=90.0 + s,
                     collected_g0=89.0, train_return_curve=[1.0, 2.0])
            for s in range(4)
        ]}],
    }  # fmt: skip
    arm = long_arm({"parts": [part]}, "p", "A")
    assert arm["curves"].shape == (4, 2) and arm["machine"] == "cpu"
    np.testing.assert_array_equal(arm["q0"] - arm["g0"], arm["gap"])
    line = describe_arm("A", arm)
    assert line.startswith("A: 4/4 seeds hold (>= 475); ") and "gap" in line
    line = describe_arm("A", arm, episodes=20)
    assert line.startswith("A: 4/4 seeds hold (>= 475, greedy over 20 episodes); ")
    for bad, error in ((0, ValueError), (2.5, TypeError)):
        with pytest.raises(error, match="episodes"):
            describe_arm("A", arm, episodes=bad)
    with pytest.raises(ValueError, match="part"):
        long_arm({"parts": [part]}, "q", "A")
    with pytest.raises(ValueError, match="arm"):
        long_arm({"parts": [part]}, "p", "B")


def test_plot_arms_two_panels_and_bad_arguments():
    arms = {"x": {"final": [500.0, 20.0, 480.0], "max_q": [90.0, 300.0, 120.0]}}
    fig = plot_arms(arms, bound=100.0)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig.axes[0].get_ylabel() == "final greedy return (100 episodes)"
    fig = plot_arms(arms, episodes=20)
    assert fig.axes[0].get_ylabel() == "final greedy return (20 episodes)"
    for bad, error in ((0, ValueError), ("20", TypeError)):
        with pytest.raises(error, match="episodes"):
            plot_arms(arms, episodes=bad)
    with pytest.raises(ValueError, match="max_q"):
        plot_arms({"x": {"final": [1.0]}})
    with pytest.raises(ValueError, match="arms"):
        plot_arms({})


def test_draw_seed_dots_one_dot_per_seed_and_the_iqm_with_its_interval():
    fig = Figure()
    ax = fig.add_subplot()
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    draw_seed_dots(ax, 2, values)
    (dots,) = ax.collections[:1]
    np.testing.assert_allclose(dots.get_offsets()[:, 1], values)
    np.testing.assert_allclose(dots.get_offsets()[:, 0].mean(), 2.0)
    centre = ax.lines[0].get_ydata()[0]  # the black square: the IQM, not the mean
    assert centre == pytest.approx(3.0) and centre < values.mean()
    with pytest.raises(TypeError, match="ax"):
        draw_seed_dots(None, 0, values)
    with pytest.raises(ValueError, match="gaps\\['x'\\]"):
        draw_seed_dots(ax, 0, np.zeros((2, 2)), name="gaps['x']")
    with pytest.raises(ValueError, match="values"):
        draw_seed_dots(ax, 0, [1.0, float("nan")])
    with pytest.raises(ValueError, match="position"):
        draw_seed_dots(ax, float("inf"), values)


def test_diagnosis_summary_by_hand():
    diagnosis = {
        "seeds": [1], "config": {"loss": "mse"},
        "policy": [
            {"step": 10, "ended_x": 20, "ended_theta": 0, "ended_500": 0,
             "action_gap_median": 9.0, "q_s0_median": 9.0},
            {"step": 60, "ended_x": 5, "ended_theta": 3, "ended_500": 12,
             "action_gap_median": 0.1, "q_s0_median": 90.0},
        ],
        "buffer": [{"step": 60, "terminal_share": 0.01}],
        "values": [{"step": 60, "v_by_abs_x": {"0.0-0.5": 95.0, "2.0-2.5": 10.0}}],
    }  # fmt: skip
    s = diagnosis_summary(diagnosis, from_step=50)
    assert (s["failed_cart"], s["failed_pole"], s["episodes"]) == (5, 3, 20)
    assert (s["action_gap"], s["q_s0"], s["v_centre"], s["v_edge"]) == (0.1, 90.0, 95.0, 10.0)
    with pytest.raises(ValueError, match="from_step"):
        diagnosis_summary(diagnosis, from_step=100)
    with pytest.raises(ValueError, match="diagnosis"):
        diagnosis_summary({})


def test_diagnosis_at_one_row_per_seed_at_the_step():
    def snapshot(seed, step, q):
        return {
            "policy": {"seed": seed, "step": step, "q_s0_median": q, "max_q_window": q + 5},
            "buffer": {"seed": seed, "step": step, "terminal_share": 0.001 * seed},
            "values": {"seed": seed, "step": step,
                       "v_by_abs_x": {"0.0-0.5": q, "2.0-2.5": q / 10}},
        }  # fmt: skip

    snaps = [snapshot(seed, step, float(seed + step)) for seed in (1, 2) for step in (10, 20)]
    diagnosis = {"seeds": [1, 2], **{k: [s[k] for s in snaps] for k in snaps[0]}}
    rows = diagnosis_at(diagnosis, 20)
    assert [r["seed"] for r in rows] == [1, 2]
    assert rows[1] == {"seed": 2, "q_s0": 22.0, "max_q": 27.0, "v_centre": 22.0,
                       "v_edge": 2.2, "terminal_share": 0.002}  # fmt: skip
    with pytest.raises(ValueError, match=r"step must be one of \[10, 20\]"):
        diagnosis_at(diagnosis, 15)
    with pytest.raises(TypeError, match="step"):
        diagnosis_at(diagnosis, "20")
    with pytest.raises(ValueError, match="diagnosis"):
        diagnosis_at({}, 20)


def test_diagnosis_at_reads_the_committed_diagnosis():
    rows = diagnosis_at(load_result("hold_diagnosis_mse_c500"), 100_000)
    assert [r["seed"] for r in rows] == [100, 101, 102]
    assert all(0 <= r["terminal_share"] < 1 for r in rows)


def test_terminal_pull_by_hand():
    pull = terminal_pull(0.5, 3.0, 0.5)
    assert pull["squared"] == pytest.approx(6 / 7)  # 0.5 * 6 / (0.5 * 6 + 0.5 * 1)
    assert pull["huber"] == pytest.approx(2 / 3)  # 0.5 * 1 / (0.5 * 1 + 0.5 * 0.5)
    with pytest.raises(ValueError, match="terminal_share"):
        terminal_pull(1.0, 3.0, 0.5)
    with pytest.raises(ValueError, match="typical_error"):
        terminal_pull(0.1, 3.0, 0.0)


# --- the trainer the lesson builds on -------------------------------------------------------


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
