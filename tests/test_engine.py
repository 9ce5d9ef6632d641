"""The fast engine: train_many agrees with the reference trainer, agent by agent."""

import ast

import numpy as np
import pytest
import torch
from _helpers import (
    TINY,
    UTILS,
    balancing_network,
    interrupt_at_call,
    record_stored_terminals,
    registered_cartpole,
)

import utils.engine.many as many
from utils.dqn import DQNConfig, evaluate_greedy, q_loss
from utils.engine import (
    AUTO_THREADS_MIN_AGENTS,
    DEVICE_ENV_VAR,
    CartPoles,
    StackedAdam,
    StackedQNetwork,
    SyncEnvs,
    auto_threads,
    default_device,
    evaluate_greedy_many,
    is_plain_cartpole,
    per_agent_loss,
    targets,
    train_many,
)
from utils.engine.sampling import IndexSampler
from utils.networks import QNetwork
from utils.replay import Batch
from utils.seeding import spawn_rngs
from utils.train import train


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
    with registered_cartpole(
        "SuttonBartoCartPole-v0", max_episode_steps=200, sutton_barto_reward=True
    ) as env_id:
        yield env_id


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
    with registered_cartpole("CartPole60-v0", max_episode_steps=limit) as env_id:
        fast, slow = CartPoles(env_id, seeds), SyncEnvs(env_id, seeds)
        np.testing.assert_array_equal(fast.reset(), slow.reset())
        rng, ends = np.random.default_rng(0), np.zeros(2, dtype=int)
        for _ in range(3000):
            actions = rng.integers(2, size=len(seeds))
            got, want = fast.step(actions), slow.step(actions)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
            ends += [int(want[3].any()), int(want[4].any())]
        assert ends.min() > 0  # both terminations and truncations were compared


@pytest.fixture
def short_time_limit():
    with registered_cartpole("ShortCartPole-v0", max_episode_steps=5) as env_id:
        yield env_id


@pytest.mark.parametrize("flag, stored_any", [("terminated", False),
                                              ("terminated_or_truncated", True)])  # fmt: skip
def test_terminal_flag_decides_what_is_stored(short_time_limit, monkeypatch, flag, stored_any):
    stored = record_stored_terminals(monkeypatch)
    config = DQNConfig(**{**TINY, "total_steps": 50})
    runs = train_many(short_time_limit, config, [0, 1], progress=False, terminal_flag=flag)
    assert (runs[0].history.episode_lengths == 5).all()
    assert [bool(s.any()) for s in stored] == [False, False, False, False, stored_any] * 10


def test_interrupt_keeps_what_every_agent_learned(monkeypatch):
    interrupt_at_call(monkeypatch, many, "_loss", call=50)  # the loop's loss, once per update
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
        many,
        "evaluate_greedy_many",
        lambda env_id, net, seeds, episodes: np.array([[1.0 if s == 0 else 0.0] for s in seeds]),
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


def test_stacked_adam_matches_torch_adam_with_each_agents_step_size():
    torch.manual_seed(0)
    start = [torch.randn(3, 4, 5), torch.randn(3, 1, 5)]
    rates = [0.01, 0.003, 0.02]
    ours = [p.clone() for p in start]
    theirs = [[p[k].clone().requires_grad_() for p in start] for k in range(3)]
    lean = StackedAdam(ours, lr=rates)
    reference = [torch.optim.Adam(theirs[k], lr=rates[k], fused=True) for k in range(3)]
    for step in range(5):
        grads = [torch.randn_like(p) for p in start]
        for k in range(3):
            for p, g in zip(theirs[k], grads, strict=True):
                p.grad = g[k].clone()
            reference[k].param_groups[0]["lr"] = rates[k] / (step + 1)
            reference[k].step()
        lean.set_lr([r / (step + 1) for r in rates])
        lean.step(grads)
    for k in range(3):
        for a, b in zip(ours, theirs[k], strict=True):
            torch.testing.assert_close(a[k], b, rtol=1e-6, atol=1e-7)


def test_stacked_adam_gives_an_agent_the_same_numbers_in_any_batch():
    """Unlike torch's fused Adam, whose scalar tail rounds the last elements differently."""
    torch.manual_seed(0)
    start, grads = torch.randn(11, 1, 3), torch.randn(20, 11, 1, 3)
    alone, together = start[4:5].clone(), start.clone()
    one, many = StackedAdam([alone], lr=0.01), StackedAdam([together], lr=0.01)
    for g in grads:
        one.step([g[4:5]])
        many.step([g])
    assert torch.equal(alone[0], together[4])


def test_stacked_adam_is_torch_fused_adam_to_the_bit():
    """The kernel called directly gives torch.optim.Adam(fused=True)'s numbers, agent by agent."""
    torch.manual_seed(0)
    start = [torch.randn(3, 2, 64), torch.randn(3, 1, 2)]  # a whole tensor, one split per agent
    ours = [p.clone() for p in start]
    theirs = [[p[k].clone().requires_grad_() for p in start] for k in range(3)]
    lean = StackedAdam(ours, lr=0.01)
    reference = [torch.optim.Adam(theirs[k], lr=0.01, fused=True) for k in range(3)]
    for _ in range(5):
        grads = [torch.randn_like(p) for p in start]
        for k in range(3):
            for p, g in zip(theirs[k], grads, strict=True):
                p.grad = g[k].clone()
            reference[k].step()
        lean.step(grads)
    assert all(torch.equal(a[k], b) for k in range(3) for a, b in zip(ours, theirs[k], strict=True))


def test_stacked_adam_reads_a_transposed_gradient_in_its_parameters_layout():
    """A weight gradient as autograd returns it for ``x @ W^T`` (a transposed view) gives the
    numbers of the same gradient laid out like the weight."""
    torch.manual_seed(0)
    start = torch.randn(3, 64, 4)
    ours, reference = [start.clone()], [start.clone()]
    grad = torch.randn(3, 4, 64).mT  # (3, 64, 4), not contiguous
    StackedAdam(ours, lr=0.01).step([grad])
    StackedAdam(reference, lr=0.01).step([grad.contiguous()])
    assert torch.equal(ours[0], reference[0])


def test_per_agent_loss_keeps_each_agents_own_loss():
    torch.manual_seed(0)
    q, y = torch.randn(3, 8), 3 * torch.randn(3, 8)
    huber = torch.tensor([[True], [False], [True]])
    mixed = per_agent_loss(q, y, huber)
    assert torch.equal(mixed[[0, 2]], q_loss(q, y, "huber")[[0, 2]])
    assert torch.equal(mixed[1], q_loss(q, y, "mse")[1])
    assert torch.equal(per_agent_loss(q, y, True), q_loss(q, y, "huber"))


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


def test_fast_evaluation_replays_the_reference_evaluation():
    nets = [balancing_network(), QNetwork(4, 2, ())]
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


ARMS = {  # every setting that may differ inside one batch, each changed in one arm
    "base": {},
    "learning rate and schedule": {"learning_rate": 3e-3, "learning_rate_end": 0.0},
    "one network": {"target_update_period": None},
    "soft sync": {"target_update_period": 1, "tau": 0.05},
    "period": {"target_update_period": 20},
    "mse": {"loss": "mse"},
    "double": {"double_dqn": True},
    "gamma": {"gamma": 0.9},
    "exploration": {"epsilon_start": 0.5, "epsilon_end": 0.2, "epsilon_decay_steps": 100},
    "clipping": {"max_grad_norm": 0.5},
    "reward scale": {"reward_scale": 0.1},
}


def test_each_agent_of_a_mixed_batch_learns_exactly_as_it_does_alone():
    configs = [DQNConfig(**{**TINY, **changes}) for changes in ARMS.values()]
    seeds = list(range(len(configs)))
    mixed = train_many("CartPole-v1", configs, seeds, progress=False)
    for name, config, seed, run in zip(ARMS, configs, seeds, mixed, strict=True):
        (alone,) = train_many("CartPole-v1", config, [seed], progress=False)
        assert run.config == config, name
        np.testing.assert_array_equal(run.history.losses, alone.history.losses, err_msg=name)
        np.testing.assert_array_equal(run.history.max_q, alone.history.max_q, err_msg=name)
        np.testing.assert_array_equal(
            run.history.episode_returns, alone.history.episode_returns, err_msg=name
        )
        for a, b in zip(run.q_network.parameters(), alone.q_network.parameters(), strict=True):
            assert torch.equal(a, b), name
        assert (run.target_network is None) == (config.target_update_period is None), name


def test_a_mixed_batch_equals_batches_of_each_config_with_the_same_seeds():
    """Two arms of five seeds in one batch, or each arm in a batch of its own."""
    arms = [DQNConfig(**TINY), DQNConfig(**{**TINY, "target_update_period": None, "gamma": 0.95})]
    seeds = [3, 4, 5, 6, 7]
    together = train_many("CartPole-v1", [arms[0]] * 5 + [arms[1]] * 5, seeds * 2, progress=False)
    for i, arm in enumerate(arms):
        apart = train_many("CartPole-v1", arm, seeds, progress=False)
        for a, b in zip(together[5 * i : 5 * i + 5], apart, strict=True):
            np.testing.assert_array_equal(a.history.losses, b.history.losses)


def test_syncing_every_step_is_the_single_network_exactly_in_train_many():
    """In a batch of its own, one network takes its targets from the online weights directly."""
    seeds = [5, 6, 7]
    one, synced = (
        train_many("CartPole-v1", DQNConfig(**{**TINY, "target_update_period": period}), seeds,
                   progress=False)
        for period in (None, 1)
    )  # fmt: skip
    assert one[0].target_network is None and synced[0].target_network is not None
    for a, b in zip(one, synced, strict=True):
        assert len(a.history.losses) == 500
        for field in ("episode_returns", "losses", "max_q"):
            np.testing.assert_array_equal(
                getattr(b.history, field), getattr(a.history, field), err_msg=field
            )


@pytest.mark.parametrize("field, value", [("hidden_sizes", (8,)), ("batch_size", 8),
                                          ("buffer_size", 500), ("total_steps", 700),
                                          ("learning_starts", 50),
                                          ("train_frequency", 2)])  # fmt: skip
def test_a_mixed_batch_must_share_the_shape_fields(field, value):
    configs = [DQNConfig(**TINY), DQNConfig(**{**TINY, field: value})]
    with pytest.raises(ValueError, match=rf"config\[1\]\.{field}"):
        train_many("CartPole-v1", configs, [0, 1], progress=False)


def test_a_mixed_batch_needs_one_valid_config_per_seed():
    with pytest.raises(ValueError, match="one DQNConfig per seed"):
        train_many("CartPole-v1", [DQNConfig(**TINY)], [0, 1], progress=False)
    with pytest.raises(TypeError, match=r"config\[1\]"):
        train_many("CartPole-v1", [DQNConfig(**TINY), {"gamma": 0.9}], [0, 1], progress=False)
    with pytest.raises(ValueError, match="gamma"):
        train_many("CartPole-v1", [DQNConfig(**TINY), DQNConfig(gamma=2.0)], [0, 1])


def test_agents_evaluate_and_stop_on_their_own_settings():
    fast = DQNConfig(**{**TINY, "eval_every": 200, "eval_episodes": 3, "solved_return": 0.0,
                        "stop_when_solved": True})  # fmt: skip
    slow = DQNConfig(**{**TINY, "eval_every": 300, "eval_episodes": 2})
    runs = train_many("CartPole-v1", [fast, slow], [0, 1], progress=False)
    assert runs[0].global_step == 200 and runs[1].global_step == 600
    assert list(runs[1].history.eval_steps) == [300, 600]
    (alone,) = train_many("CartPole-v1", slow, [1], progress=False)
    np.testing.assert_array_equal(runs[1].history.eval_returns, alone.history.eval_returns)


@pytest.mark.parametrize("sizes", [[1, 2, 3, 7, 1000, 50_000], [2**31 + 1, 3 * 2**30 + 7]])
def test_index_sampler_draws_what_rng_integers_draws(sizes):
    """Every agent's indices equal rng.integers(0, size, batch), also where NumPy rejects a
    draw (half the draws near 2**31, so the one-by-one path runs too)."""
    reference = [spawn_rngs(seed, 3)[2] for seed in range(4)]
    sampler = IndexSampler([spawn_rngs(seed, 3)[2] for seed in range(4)], batch_size=64)
    for t in range(400):
        size = sizes[t % len(sizes)]
        expected = np.stack([rng.integers(0, size, 64) for rng in reference])
        np.testing.assert_array_equal(sampler(size), expected)


def test_auto_threads_uses_a_second_thread_only_for_many_agents(monkeypatch):
    assert auto_threads(1) == auto_threads(AUTO_THREADS_MIN_AGENTS - 1) == 1
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert auto_threads(AUTO_THREADS_MIN_AGENTS) == 2
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert auto_threads(50) == 1
    for bad in (0, -3):
        with pytest.raises(ValueError, match="n_agents"):
            auto_threads(bad)
    with pytest.raises(TypeError, match="n_agents"):
        auto_threads(2.5)


def test_two_threads_give_the_same_numbers_as_one():
    """The default for 10+ agents is two threads; it must not change what the agents learn."""
    configs = [DQNConfig(**{**TINY, "loss": loss, "double_dqn": double})
               for loss in ("mse", "huber") for double in (False, True)] * 3  # fmt: skip
    seeds = list(range(len(configs)))
    one = train_many("CartPole-v1", configs, seeds, progress=False, threads=1)
    two = train_many("CartPole-v1", configs, seeds, progress=False, threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.history.losses, b.history.losses)
        np.testing.assert_array_equal(a.history.episode_returns, b.history.episode_returns)
        for p, q in zip(a.q_network.parameters(), b.q_network.parameters(), strict=True):
            assert torch.equal(p, q)
