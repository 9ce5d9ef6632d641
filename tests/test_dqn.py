"""DQN pieces by hand-computed examples, config checks, and the trainers' contracts."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import utils.dqn as dqn
from utils.dqn import (
    DQNConfig,
    double_dqn_target,
    hard_update,
    impossible_q_bound,
    q_loss,
    soft_update,
    td_target,
    train,
    train_many,
)
from utils.networks import QNetwork

TINY = dict(total_steps=600, learning_starts=100, batch_size=16, buffer_size=1000,
            hidden_sizes=(16,), epsilon_decay_steps=300, target_update_period=50)  # fmt: skip


def test_td_target_masks_terminal_next_states():
    rewards = torch.tensor([1.0, 1.0, 0.5])
    next_q = torch.tensor([[1.0, 2.0], [3.0, 0.0], [-1.0, -2.0]])
    terminated = torch.tensor([0.0, 1.0, 0.0])
    y = td_target(rewards, next_q, terminated, gamma=0.5)
    # 1 + 0.5 * 2 ; terminal: just r ; 0.5 + 0.5 * (-1)
    assert y.tolist() == [2.0, 1.0, 0.0]


def test_td_target_works_on_stacked_agents():
    y = td_target(
        torch.ones(2, 1), torch.tensor([[[1.0, 3.0]], [[4.0, 2.0]]]), torch.zeros(2, 1), 1.0
    )
    assert y.tolist() == [[4.0], [5.0]]


def test_double_dqn_target_lets_online_pick_and_target_score():
    rewards = torch.tensor([0.0, 1.0])
    online = torch.tensor([[5.0, 1.0], [0.0, 9.0]])  # picks a'=0, then a'=1
    target = torch.tensor([[2.0, 7.0], [3.0, 4.0]])
    y = double_dqn_target(rewards, online, target, torch.tensor([0.0, 1.0]), gamma=0.5)
    assert y.tolist() == [1.0, 1.0]  # 0 + 0.5 * Q_target(s', 0) = 1 ; terminal -> r
    # plain DQN would have used max_a' Q_target = 7 for the first
    assert td_target(rewards, target, torch.zeros(2), 0.5).tolist() == [3.5, 3.0]


def test_q_loss_huber_and_mse_by_hand():
    q = torch.tensor([[0.0, 0.0]])
    y = torch.tensor([[0.5, 3.0]])
    # huber: 0.5 * 0.5^2 = 0.125 and 3 - 0.5 = 2.5 ; mean 1.3125
    assert q_loss(q, y, "huber").tolist() == [1.3125]
    assert q_loss(q, y, "mse").tolist() == [(0.25 + 9.0) / 2]


def test_hard_sync_copies_exactly_and_soft_sync_interpolates():
    torch.manual_seed(0)
    online, target = QNetwork(3, 2, (4,)), QNetwork(3, 2, (4,))
    before = [p.clone() for p in target.parameters()]
    soft_update(target, online, tau=0.25)
    for t, b, o in zip(target.parameters(), before, online.parameters(), strict=True):
        torch.testing.assert_close(t, 0.25 * o + 0.75 * b)
    hard_update(target, online)
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        assert torch.equal(t, o)
    with pytest.raises(ValueError, match="tau"):
        soft_update(target, online, tau=0.0)


def test_impossible_q_bound_for_cartpole():
    assert impossible_q_bound(0.99, 500) == pytest.approx(99.34, abs=0.005)
    assert impossible_q_bound(1.0, 500) == 500


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("total_steps", 0, ValueError),
        ("learning_rate", 0.0, ValueError),
        ("gamma", 1.5, ValueError),
        ("gamma", -0.1, ValueError),
        ("batch_size", 0, ValueError),
        ("buffer_size", -1, ValueError),
        ("batch_size", 128, ValueError),  # larger than buffer_size below
        ("train_frequency", 0, ValueError),
        ("epsilon_start", 1.2, ValueError),
        ("epsilon_decay_steps", 2.5, TypeError),
        ("hidden_sizes", 64, TypeError),
        ("loss", "l1", ValueError),
        ("target_update_period", 0, ValueError),
        ("tau", 1.5, ValueError),
        ("eval_episodes", 0, ValueError),
    ],
)
def test_bad_config_names_the_field(field, value, error):
    config = DQNConfig(buffer_size=100, batch_size=32)
    setattr(config, field, value)
    with pytest.raises(error, match=field):
        config.validate()


def test_bad_config_fails_before_any_training(monkeypatch):
    monkeypatch.setattr(dqn, "make_env", lambda *a, **k: pytest.fail("env was created"))
    with pytest.raises(ValueError, match="gamma"):
        train("CartPole-v1", DQNConfig(gamma=2.0), seed=0)


def test_continuous_actions_are_rejected():
    with pytest.raises(ValueError, match="discrete action space"):
        train("Pendulum-v1", DQNConfig(**TINY), seed=0, progress=False)


def test_non_integer_seed_is_rejected():
    with pytest.raises(TypeError, match="seed"):
        train("CartPole-v1", DQNConfig(**TINY), seed=1.5, progress=False)
    with pytest.raises(ValueError, match="distinct"):
        train_many("CartPole-v1", DQNConfig(**TINY), seeds=[1, 1], progress=False)


def test_config_round_trips_through_a_dict():
    config = DQNConfig(hidden_sizes=(32, 16), tau=0.1)
    assert DQNConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown"):
        DQNConfig.from_dict({"learning_rat": 1e-3})


def test_same_seed_same_run():
    a = train("CartPole-v1", DQNConfig(**TINY), seed=3, progress=False)
    b = train("CartPole-v1", DQNConfig(**TINY), seed=3, progress=False)
    assert np.array_equal(a.history.episode_returns, b.history.episode_returns)
    assert np.array_equal(a.history.losses, b.history.losses)
    assert len(a.history.losses) == 600 - 100


@pytest.fixture
def short_time_limit():
    """CartPole cut off by a 5-step time limit: every episode ends truncated, never terminated."""
    gym.register("ShortCartPole-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=5)  # fmt: skip
    yield "ShortCartPole-v0"
    del gym.registry["ShortCartPole-v0"]


@pytest.mark.parametrize("trainer", ["train", "train_many"])
def test_truncation_is_not_stored_as_terminal(short_time_limit, monkeypatch, trainer):
    stored = []
    original_add = dqn.ReplayBuffer.add

    def spy(self, obs, action, reward, next_obs, terminated):
        stored.append(np.asarray(terminated).copy())
        original_add(self, obs, action, reward, next_obs, terminated)

    monkeypatch.setattr(dqn.ReplayBuffer, "add", spy)
    config = DQNConfig(**{**TINY, "total_steps": 50})
    if trainer == "train":
        run = train(short_time_limit, config, seed=0, progress=False)
    else:
        run = train_many(short_time_limit, config, seeds=[0, 1], progress=False)[0]
    assert len(run.history.episode_lengths) == 10 and (run.history.episode_lengths == 5).all()
    assert not np.any(stored)


def test_single_network_has_no_target_and_runs():
    run = train(
        "CartPole-v1", DQNConfig(**{**TINY, "target_update_period": None}), 0, progress=False
    )
    assert run.target_network is None
    assert np.isfinite(run.history.max_q).all()


@pytest.mark.parametrize("trainer", ["train", "train_many"])
def test_interrupt_keeps_what_was_learned(monkeypatch, trainer):
    calls = {"n": 0}
    original = dqn.q_loss

    def interrupting_loss(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 50:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(dqn, "q_loss", interrupting_loss)
    config = DQNConfig(**TINY)
    if trainer == "train":
        run = train("CartPole-v1", config, seed=0, progress=False)
    else:
        run = train_many("CartPole-v1", config, seeds=[0, 1], progress=False)[1]
    assert run.interrupted
    assert run.global_step == 100 + 49  # learning starts after step 100; the 50th update was cut
    assert len(run.history.losses) == 49
    assert run.evaluate(episodes=2).shape == (2,)


def test_train_many_with_one_agent_matches_train():
    config = DQNConfig(**{**TINY, "total_steps": 1500})
    single = train("CartPole-v1", config, seed=11, progress=False)
    (batched,) = train_many("CartPole-v1", config, seeds=[11], progress=False)
    n = 25  # epsilon is 0.05 after step 300: most of these episodes follow the learned Q
    assert len(single.history.episode_returns) > n
    np.testing.assert_array_equal(
        batched.history.episode_returns[:n], single.history.episode_returns[:n]
    )
    np.testing.assert_allclose(batched.history.losses, single.history.losses, rtol=1e-4)


@pytest.fixture
def cartpole_with_kwargs():
    """A CartPole with constructor arguments: train_many steps it through SyncVectorEnv."""
    gym.register("SuttonBartoCartPole-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=200, kwargs={"sutton_barto_reward": True})  # fmt: skip
    yield "SuttonBartoCartPole-v0"
    del gym.registry["SuttonBartoCartPole-v0"]


def test_train_many_on_a_generic_env_matches_train(cartpole_with_kwargs):
    assert not dqn._is_plain_cartpole(cartpole_with_kwargs)
    config = DQNConfig(**{**TINY, "total_steps": 1500})
    single = train(cartpole_with_kwargs, config, seed=4, progress=False)
    batched = train_many(cartpole_with_kwargs, config, seeds=[4, 8], progress=False)
    n = len(single.history.episode_returns) // 2
    assert n > 5 and (single.history.episode_returns < 0).all()  # -1 when the pole falls
    np.testing.assert_array_equal(
        batched[0].history.episode_returns[:n], single.history.episode_returns[:n]
    )


def test_numpy_cartpoles_step_exactly_like_separate_envs():
    seeds, limit = [3, 7, 11], 60  # a short time limit, so truncations happen too
    gym.register("CartPole60-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=limit)  # fmt: skip
    try:
        fast, slow = dqn._CartPoles("CartPole60-v0", seeds), dqn._SyncEnvs("CartPole60-v0", seeds)
        np.testing.assert_array_equal(fast.reset(), slow.reset())
        rng, ends = np.random.default_rng(0), np.zeros(2, dtype=int)
        for _ in range(3000):
            actions = rng.integers(2, size=len(seeds))
            got, want = fast.step(actions), slow.step(actions)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
            ends += [int(want[3].any()), int(want[4].any())]
        assert ends.min() > 0  # both terminations and truncations were compared
    finally:
        del gym.registry["CartPole60-v0"]


def test_denormals_are_flushed_only_while_training():
    tiny = torch.tensor([1e-39])  # a float32 denormal
    with dqn.flush_denormal():
        assert (tiny * 1.0).item() == 0.0
    assert (tiny * 1.0).item() > 0.0
    train("CartPole-v1", DQNConfig(**{**TINY, "total_steps": 150}), 0, progress=False)
    assert (tiny * 1.0).item() > 0.0


def test_an_agent_does_not_change_when_others_are_added():
    config = DQNConfig(**{**TINY, "total_steps": 1500})
    (alone,) = train_many("CartPole-v1", config, seeds=[5], progress=False)
    together = train_many("CartPole-v1", config, seeds=[2, 5, 9], progress=False)
    n = 25
    np.testing.assert_array_equal(
        together[1].history.episode_returns[:n], alone.history.episode_returns[:n]
    )
    assert not np.array_equal(
        together[0].history.episode_returns[:n], together[1].history.episode_returns[:n]
    )


def test_save_and_load_round_trip(tmp_path):
    run = train("CartPole-v1", DQNConfig(**TINY), seed=0, progress=False)
    path = dqn.save(run, tmp_path / "agent.pt")
    loaded = dqn.load(path)
    assert loaded.config == run.config and loaded.env_id == "CartPole-v1"
    np.testing.assert_array_equal(loaded.evaluate(5, seed=1), run.evaluate(5, seed=1))


def test_loading_something_else_fails_clearly(tmp_path):
    bad = tmp_path / "notes.pt"
    bad.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a DQN checkpoint"):
        dqn.load(bad)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a DQN checkpoint"):
        dqn.load(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError):
        dqn.load(tmp_path / "missing.pt")


def test_evaluation_during_training_and_stop_when_solved():
    config = DQNConfig(**{**TINY, "eval_every": 200, "eval_episodes": 3,
                          "solved_return": 0.0, "stop_when_solved": True})  # fmt: skip
    run = train("CartPole-v1", config, seed=0, progress=False)
    assert run.global_step == 200 and run.history.solved_step == 200
    assert run.history.eval_steps.tolist() == [200]
    runs = train_many("CartPole-v1", config, seeds=[0, 1], progress=False)
    assert [r.global_step for r in runs] == [200, 200]
    np.testing.assert_allclose(runs[0].history.eval_returns, run.history.eval_returns)


def test_device_is_chosen_in_one_place(monkeypatch):
    monkeypatch.setenv(dqn.DEVICE_ENV_VAR, "cpu")
    assert dqn.default_device() == torch.device("cpu")
    monkeypatch.delenv(dqn.DEVICE_ENV_VAR)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert dqn.default_device().type == expected


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_train_many_on_gpu_matches_cpu():
    config = DQNConfig(**TINY)
    cpu = train_many("CartPole-v1", config, seeds=[0, 1], progress=False, device="cpu")
    gpu = train_many("CartPole-v1", config, seeds=[0, 1], progress=False, device="cuda")
    for a, b in zip(cpu, gpu, strict=True):
        np.testing.assert_array_equal(
            a.history.episode_returns[:10], b.history.episode_returns[:10]
        )
        assert next(b.q_network.parameters()).device.type == "cpu"


def test_learning_rate_can_anneal_to_an_end_value():
    config = DQNConfig(**{**TINY, "learning_rate_end": 0.0})
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=config.learning_rate)
    dqn._set_learning_rate(optimizer, config, step=300)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(config.learning_rate / 2)
    dqn._set_learning_rate(optimizer, config, step=600)
    assert optimizer.param_groups[0]["lr"] == 0.0


def test_stacked_adam_matches_torch_adam_exactly():
    torch.manual_seed(0)
    start = [torch.randn(3, 4, 5), torch.randn(3, 1, 5)]
    ours = [p.clone().requires_grad_() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    lean, reference = dqn._StackedAdam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01, fused=True)
    for step in range(5):
        grads = [torch.randn_like(p) for p in start]
        for p, g in zip(theirs, grads, strict=True):
            p.grad = g.clone()
        lean.param_groups[0]["lr"] = reference.param_groups[0]["lr"] = 0.01 / (step + 1)
        lean.step(grads)
        reference.step()
    for a, b in zip(ours, theirs, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("hidden, loss", [((16, 8), "huber"), ((5,), "mse"), ((), "huber")])
def test_written_out_gradients_equal_autograd_exactly(hidden, loss):
    from utils.networks import StackedQNetwork

    torch.manual_seed(1)
    net = StackedQNetwork([QNetwork(4, 3, hidden) for _ in range(3)])
    obs, actions = torch.randn(3, 32, 4), torch.randint(0, 3, (3, 32))
    targets = 3 * torch.randn(3, 32)  # big and small errors: both sides of Huber's kink
    loss_per_agent, q_all, grads = dqn._loss_and_grads(net, obs, actions, targets, loss)
    q_ref = net(obs)
    loss_ref = q_loss(q_ref.gather(2, actions[..., None]).squeeze(2), targets, loss)
    grads_ref = torch.autograd.grad(loss_ref.sum(), list(net.parameters()))
    assert torch.equal(loss_per_agent, loss_ref) and torch.equal(q_all, q_ref)
    assert len(grads) == len(grads_ref)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        assert torch.equal(g, g_ref)


def _one_batch() -> dqn.Batch:
    return dqn.Batch(
        obs=torch.zeros(2, 4),
        actions=torch.tensor([0, 1]),
        rewards=torch.tensor([1.0, 1.0]),
        next_obs=torch.ones(2, 4),
        terminated=torch.tensor([0.0, 1.0]),
    )


def test_correct_targets_mask_terminal_and_carry_no_gradient():
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    y = dqn._targets(_one_batch(), net, net, DQNConfig())
    best = net(torch.ones(1, 4)).max().item()
    assert y[1].item() == 1.0 and y[0].item() == pytest.approx(1.0 + 0.99 * best)
    assert not y.requires_grad


def test_bug_no_terminal_mask_bootstraps_from_terminal_states():
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    y = dqn._targets(_one_batch(), net, net, DQNConfig(bugs=("no_terminal_mask",)))
    best = net(torch.ones(1, 4)).max().item()
    assert y[1].item() == pytest.approx(1.0 + 0.99 * best)


def test_bug_gradient_through_target_leaves_the_target_attached():
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    y = dqn._targets(_one_batch(), net, net, DQNConfig(bugs=("gradient_through_target",)))
    assert y.requires_grad
    y.sum().backward()
    assert net.linears()[0].weight.grad.abs().sum() > 0


def test_bug_bootstrap_on_truncated_stores_time_limits_as_terminal(short_time_limit, monkeypatch):
    stored = []
    original_add = dqn.ReplayBuffer.add

    def spy(self, obs, action, reward, next_obs, terminated):
        stored.append(bool(np.asarray(terminated).any()))
        original_add(self, obs, action, reward, next_obs, terminated)

    monkeypatch.setattr(dqn.ReplayBuffer, "add", spy)
    config = DQNConfig(**{**TINY, "total_steps": 50, "bugs": ("bootstrap_on_truncated",)})
    train(short_time_limit, config, seed=0, progress=False)
    assert stored == [False, False, False, False, True] * 10


def test_unknown_bug_and_bad_reward_scale_are_rejected():
    with pytest.raises(ValueError, match="bugs"):
        DQNConfig(bugs=("typo",)).validate()
    with pytest.raises(ValueError, match="reward_scale"):
        DQNConfig(reward_scale=0.0).validate()


def _balancing_q(obs: torch.Tensor) -> torch.Tensor:
    """A hand-made 'Q' whose greedy policy pushes the cart under the falling pole."""
    lean = obs[..., 2] + obs[..., 3]
    return torch.stack([-lean, lean], dim=-1)


def test_fast_cartpole_evaluation_matches_single_envs_from_the_same_starts():
    returns = dqn.evaluate_greedy("CartPole-v1", _balancing_q, seeds=[4], episodes=6, salt=9)
    starts = np.random.default_rng([4, 9]).uniform(-0.05, 0.05, (6, 4))
    for start, fast in zip(starts, returns[0], strict=True):
        env = gym.make("CartPole-v1")
        env.reset(seed=0)
        env.unwrapped.state = start.copy()
        obs, total, done = start.astype(np.float32), 0.0, False
        while not done:
            action = int(_balancing_q(torch.from_numpy(obs)).argmax())
            obs, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        assert total == fast


def test_evaluation_of_an_agent_does_not_depend_on_the_others():
    alone = dqn.evaluate_greedy("CartPole-v1", _balancing_q, seeds=[3], episodes=5)
    together = dqn.evaluate_greedy("CartPole-v1", _balancing_q, seeds=[1, 3], episodes=5)
    np.testing.assert_array_equal(alone[0], together[1])


def test_train_many_calls_back_after_every_update_with_stacked_networks():
    seen = []

    def record(step, q_network, target_network):
        seen.append((step, q_network.n_agents, target_network is not None))

    train_many("CartPole-v1", DQNConfig(**TINY), seeds=[0, 1], progress=False, callback=record)
    assert [s for s, _, _ in seen] == list(range(101, 601))
    assert all(k == 2 and has_target for _, k, has_target in seen)


def test_two_network_dqn_learns_cartpole():
    """It learns: with the course's settings, seed 0 balances the pole for 475+ steps."""
    config = dqn.cartpole_config(eval_every=1000, solved_return=475, stop_when_solved=True)
    run = train("CartPole-v1", config, seed=0, progress=False)
    assert run.history.solved_step is not None and run.history.solved_step <= 30_000
    assert run.evaluate(20).mean() >= 475
