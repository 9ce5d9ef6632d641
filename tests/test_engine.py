"""The fast engine: train_many agrees with the reference trainer, agent by agent."""

import ast
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import utils.engine.many as many
import utils.engine.stacked as stacked
from utils.dqn import DQNConfig, evaluate_greedy, q_loss
from utils.engine import (
    DEVICE_ENV_VAR,
    CartPoles,
    StackedAdam,
    StackedQNetwork,
    SyncEnvs,
    default_device,
    evaluate_greedy_many,
    is_plain_cartpole,
    loss_and_grads,
    targets,
    train_many,
)
from utils.networks import QNetwork
from utils.replay import Batch, ReplayBuffer
from utils.train import train

TINY = dict(total_steps=600, learning_starts=100, batch_size=16, buffer_size=1000,
            hidden_sizes=(16,), epsilon_decay_steps=300, target_update_period=50)  # fmt: skip
UTILS = Path(__file__).resolve().parent.parent / "utils"


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
    assert not is_plain_cartpole(cartpole_with_kwargs)
    config = DQNConfig(**{**TINY, "total_steps": 1500})
    single = train(cartpole_with_kwargs, config, seed=4, progress=False)
    batched = train_many(cartpole_with_kwargs, config, seeds=[4, 8], progress=False)
    n = len(single.history.episode_returns) // 2
    assert n > 5 and (single.history.episode_returns < 0).all()  # -1 when the pole falls
    np.testing.assert_array_equal(
        batched[0].history.episode_returns[:n], single.history.episode_returns[:n]
    )


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


def test_numpy_cartpoles_step_exactly_like_separate_envs():
    seeds, limit = [3, 7, 11], 60  # a short time limit, so truncations happen too
    gym.register("CartPole60-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=limit)  # fmt: skip
    try:
        fast, slow = CartPoles("CartPole60-v0", seeds), SyncEnvs("CartPole60-v0", seeds)
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


@pytest.fixture
def short_time_limit():
    gym.register("ShortCartPole-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=5)  # fmt: skip
    yield "ShortCartPole-v0"
    del gym.registry["ShortCartPole-v0"]


@pytest.mark.parametrize("flag, stored_any", [("terminated", False),
                                              ("terminated_or_truncated", True)])  # fmt: skip
def test_terminal_flag_decides_what_is_stored(short_time_limit, monkeypatch, flag, stored_any):
    stored = []
    original_add = ReplayBuffer.add

    def spy(self, obs, action, reward, next_obs, terminated):
        stored.append(np.asarray(terminated).copy())
        original_add(self, obs, action, reward, next_obs, terminated)

    monkeypatch.setattr(ReplayBuffer, "add", spy)
    config = DQNConfig(**{**TINY, "total_steps": 50})
    runs = train_many(short_time_limit, config, [0, 1], progress=False, terminal_flag=flag)
    assert (runs[0].history.episode_lengths == 5).all()
    assert [bool(s.any()) for s in stored] == [False, False, False, False, stored_any] * 10


def test_interrupt_keeps_what_every_agent_learned(monkeypatch):
    calls = {"n": 0}
    original = stacked.q_loss

    def interrupting_loss(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 50:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(stacked, "q_loss", interrupting_loss)
    runs = train_many("CartPole-v1", DQNConfig(**TINY), seeds=[0, 1], progress=False)
    for run in runs:
        assert run.interrupted and run.global_step == 149 and len(run.history.losses) == 49
    assert runs[1].evaluate(episodes=2).shape == (2,)


def test_evaluation_during_training_matches_train_and_stops():
    config = DQNConfig(**{**TINY, "eval_every": 200, "eval_episodes": 3,
                          "solved_return": 0.0, "stop_when_solved": True})  # fmt: skip
    run = train("CartPole-v1", config, seed=0, progress=False)
    runs = train_many("CartPole-v1", config, seeds=[0, 1], progress=False)
    assert [r.global_step for r in runs] == [200, 200]
    np.testing.assert_allclose(runs[0].history.eval_returns, run.history.eval_returns)


def test_a_stopped_agent_keeps_its_target_network_as_it_was_at_the_stop(monkeypatch):
    """Agent 0 is solved at step 200 and stops; agent 1 trains on to step 600."""
    monkeypatch.setattr(
        many, "evaluate_greedy_many", lambda env_id, net, seeds, episodes: np.array([[1.0], [0.0]])
    )
    config = DQNConfig(**{**TINY, "eval_every": 200, "solved_return": 1.0,
                          "stop_when_solved": True, "target_update_period": 30})  # fmt: skip
    at_stop = {}

    def record(step, q_network, target_network):
        if step == 201:  # no sync since the evaluation at 200: the target at agent 0's stop
            at_stop["target"] = target_network.network(0)

    runs = train_many("CartPole-v1", config, [0, 1], progress=False, callback=record)
    assert runs[0].global_step == 200 and runs[1].global_step == 600
    for a, b in zip(runs[0].target_network.parameters(), at_stop["target"].parameters(),
                    strict=True):  # fmt: skip
        assert torch.equal(a, b)


def test_train_many_calls_back_after_every_update_with_stacked_networks():
    seen = []

    def record(step, q_network, target_network):
        seen.append((step, q_network.n_agents, target_network is not None))

    train_many("CartPole-v1", DQNConfig(**TINY), seeds=[0, 1], progress=False, callback=record)
    assert [s for s, _, _ in seen] == list(range(101, 601))
    assert all(k == 2 and has_target for _, k, has_target in seen)


def test_the_cpu_is_the_default_device_even_with_a_gpu(monkeypatch):
    monkeypatch.delenv(DEVICE_ENV_VAR, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert default_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")
    assert default_device() == torch.device("cpu")
    monkeypatch.setenv(DEVICE_ENV_VAR, "tpu-please")
    with pytest.raises(ValueError, match=DEVICE_ENV_VAR):
        default_device()


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


def test_stacked_adam_matches_torch_adam_exactly():
    torch.manual_seed(0)
    start = [torch.randn(3, 4, 5), torch.randn(3, 1, 5)]
    ours = [p.clone().requires_grad_() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    lean, reference = StackedAdam(ours, lr=0.01), torch.optim.Adam(theirs, lr=0.01, fused=True)
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
    torch.manual_seed(1)
    net = StackedQNetwork([QNetwork(4, 3, hidden) for _ in range(3)])
    obs, actions = torch.randn(3, 32, 4), torch.randint(0, 3, (3, 32))
    y = 3 * torch.randn(3, 32)  # big and small errors: both sides of Huber's kink
    loss_per_agent, q_all, grads = loss_and_grads(net, obs, actions, y, loss)
    q_ref = net(obs)
    loss_ref = q_loss(q_ref.gather(2, actions[..., None]).squeeze(2), y, loss)
    grads_ref = torch.autograd.grad(loss_ref.sum(), list(net.parameters()))
    assert torch.equal(loss_per_agent, loss_ref) and torch.equal(q_all, q_ref)
    assert len(grads) == len(grads_ref)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        assert torch.equal(g, g_ref)


def _one_batch() -> Batch:
    return Batch(
        obs=torch.zeros(2, 4),
        actions=torch.tensor([0, 1]),
        rewards=torch.tensor([1.0, 1.0]),
        next_obs=torch.ones(2, 4),
        terminated=torch.tensor([0.0, 1.0]),
    )


def test_correct_targets_mask_terminal_and_carry_no_gradient():
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    y = targets(_one_batch(), net, net, gamma=0.99)
    best = net(torch.ones(1, 4)).max().item()
    assert y[1].item() == 1.0 and y[0].item() == pytest.approx(1.0 + 0.99 * best)
    assert not y.requires_grad


def test_unmasked_targets_bootstrap_from_terminal_states():
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    y = targets(_one_batch(), net, net, gamma=0.99, mask_terminal=False)
    best = net(torch.ones(1, 4)).max().item()
    assert y[1].item() == pytest.approx(1.0 + 0.99 * best)


def test_targets_without_stopped_gradients_stay_attached():
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    y = targets(_one_batch(), net, net, gamma=0.99, stop_target_gradients=False)
    assert y.requires_grad
    y.sum().backward()
    assert net.linears()[0].weight.grad.abs().sum() > 0


def _balancing_network() -> QNetwork:
    net = QNetwork(4, 2, hidden_sizes=())
    with torch.no_grad():
        net.linears()[0].weight.copy_(torch.tensor([[0.0, 0.0, -1.0, -1.0], [0, 0, 1, 1]]))
        net.linears()[0].bias.zero_()
    return net


def test_fast_evaluation_replays_the_reference_evaluation():
    nets = [_balancing_network(), QNetwork(4, 2, ())]
    fast = evaluate_greedy_many("CartPole-v1", StackedQNetwork(nets), seeds=[4, 9], episodes=6)
    for net, seed, row in zip(nets, [4, 9], fast, strict=True):
        np.testing.assert_array_equal(row, evaluate_greedy("CartPole-v1", net, 6, seed))
    alone = evaluate_greedy_many("CartPole-v1", StackedQNetwork(nets[:1]), [4], 6)
    np.testing.assert_array_equal(alone[0], fast[0])


def test_stacked_network_follows_swapped_parameters():
    torch.manual_seed(0)
    net = StackedQNetwork([QNetwork(4, 2, (8,)) for _ in range(2)])
    obs = torch.randn(2, 3, 4)
    zeros = {name: torch.zeros_like(p) for name, p in net.named_parameters()}
    out = torch.func.functional_call(net, zeros, (obs,))
    assert torch.equal(out, torch.zeros(2, 3, 2))
    net.load_state_dict({k: v + 1 for k, v in zeros.items()}, assign=True)
    ones = QNetwork(4, 2, (8,))
    with torch.no_grad():
        for p in ones.parameters():
            p.fill_(1.0)
    for k in range(2):
        torch.testing.assert_close(net(obs)[k], ones(obs[k]))
        torch.testing.assert_close(net.network(k)(obs[k]), ones(obs[k]))


def test_no_core_module_imports_the_engine_or_a_lesson():
    core = [p for p in UTILS.glob("*.py")]
    assert core, "no core modules found"
    for path in core:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("utils.engine", "utils.lessons")), (path.name, name)
