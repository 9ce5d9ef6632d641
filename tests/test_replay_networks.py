"""Replay buffer and Q-network: shapes, dtypes, wrap-around, independence of stacked agents."""

import numpy as np
import pytest
import torch

from utils.engine import StackedQNetwork
from utils.networks import QNetwork
from utils.replay import ReplayBuffer


def fill(buffer: ReplayBuffer, n: int) -> None:
    for i in range(n):
        buffer.add(np.full(2, i), i % 3, float(i), np.full(2, i + 0.5), i % 2 == 1)


def test_buffer_wraps_around_and_overwrites_oldest():
    buffer = ReplayBuffer(capacity=3, obs_shape=(2,))
    fill(buffer, 5)  # transitions 0..4; 0 and 1 are overwritten by 3 and 4
    assert len(buffer) == 3
    assert buffer.pos == 2
    assert buffer.rewards[0].tolist() == [3.0, 4.0, 2.0]
    assert buffer.obs[0, :, 0].tolist() == [3.0, 4.0, 2.0]
    assert buffer.terminated[0].tolist() == [1.0, 0.0, 0.0]


def test_sample_shapes_dtypes_and_content():
    buffer = ReplayBuffer(capacity=10, obs_shape=(2,))
    fill(buffer, 4)
    batch = buffer.sample(32, np.random.default_rng(0))
    assert batch.obs.shape == (32, 2) and batch.obs.dtype == torch.float32
    assert batch.next_obs.shape == (32, 2) and batch.next_obs.dtype == torch.float32
    assert batch.actions.shape == (32,) and batch.actions.dtype == torch.int64
    assert batch.rewards.dtype == torch.float32 and batch.terminated.dtype == torch.float32
    # every sampled row is one stored transition, fields kept together
    assert set(batch.rewards.tolist()) <= {0.0, 1.0, 2.0, 3.0}
    assert torch.equal(batch.obs[:, 0], batch.rewards)
    assert torch.equal(batch.next_obs[:, 0], batch.rewards + 0.5)
    assert torch.equal(batch.terminated, batch.rewards % 2)


def test_sample_is_reproducible_with_the_same_generator_seed():
    buffer = ReplayBuffer(capacity=100, obs_shape=(2,))
    fill(buffer, 50)
    a = buffer.sample(16, np.random.default_rng(7))
    b = buffer.sample(16, np.random.default_rng(7))
    assert torch.equal(a.rewards, b.rewards)


def test_k_agent_buffer_keeps_agents_apart():
    buffer = ReplayBuffer(capacity=5, obs_shape=(1,), n_agents=2)
    for i in range(7):
        buffer.add(np.array([[i], [100 + i]]), np.array([0, 1]), np.array([i, 100 + i]),
                   np.array([[i], [100 + i]]), np.array([False, True]))  # fmt: skip
    batch = buffer.sample(8, [np.random.default_rng(0), np.random.default_rng(1)])
    assert batch.obs.shape == (2, 8, 1) and batch.actions.shape == (2, 8)
    assert (batch.rewards[0] < 100).all() and (batch.rewards[1] >= 100).all()
    assert (batch.rewards[0] >= 2).all()  # 0 and 1 were overwritten
    assert torch.equal(batch.terminated[1], torch.ones(8))


def test_image_like_observations_and_large_action_ids_round_trip():
    buffer = ReplayBuffer(capacity=3, obs_shape=(2, 3), n_agents=2)
    obs = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    buffer.add(obs, np.array([7, 2**24 - 1]), np.array([0.5, -1.0]), obs + 100, np.array([1, 0]))
    assert buffer.obs[:, 0].shape == (2, 2, 3) and np.array_equal(buffer.obs[:, 0], obs)
    assert buffer.actions[:, 0].tolist() == [7, 2**24 - 1]
    batch = buffer.sample(4, [np.random.default_rng(0), np.random.default_rng(1)])
    assert batch.obs.shape == (2, 4, 2, 3) and torch.equal(batch.next_obs, batch.obs + 100)
    assert batch.actions[:, 0].tolist() == [7, 2**24 - 1]
    assert batch.rewards[:, 0].tolist() == [0.5, -1.0]
    assert batch.terminated[:, 0].tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        (dict(capacity=0, obs_shape=(2,)), ValueError),
        (dict(capacity=1.5, obs_shape=(2,)), TypeError),
        (dict(capacity=4, obs_shape=[2]), TypeError),
        (dict(capacity=4, obs_shape=(2,), n_agents=0), ValueError),
    ],
)
def test_buffer_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        ReplayBuffer(**kwargs)


def test_sampling_an_empty_buffer_or_with_a_bad_rng_fails_clearly():
    buffer = ReplayBuffer(capacity=4, obs_shape=(2,))
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(2, np.random.default_rng(0))
    fill(buffer, 2)
    with pytest.raises(TypeError, match="rng"):
        buffer.sample(2, 0)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0, np.random.default_rng(0))


def test_q_network_returns_all_action_values_in_one_pass():
    net = QNetwork(obs_dim=4, n_actions=3, hidden_sizes=(16, 8))
    assert net(torch.zeros(5, 4)).shape == (5, 3)
    assert [layer.out_features for layer in net.linears()] == [16, 8, 3]


def test_linear_q_network_on_one_hot_states_is_a_table():
    net = QNetwork(obs_dim=6, n_actions=2, hidden_sizes=())
    table = torch.arange(12.0).reshape(6, 2)
    with torch.no_grad():
        net.linears()[0].weight.copy_(table.T)
        net.linears()[0].bias.zero_()
    assert torch.equal(net(torch.eye(6)), table)


@pytest.mark.parametrize(
    "args, error",
    [
        ((0, 2), ValueError),
        ((4, 0), ValueError),
        ((4, 2, "64"), TypeError),
        ((4, 2, (0,)), ValueError),
    ],
)
def test_q_network_rejects_bad_sizes(args, error):
    with pytest.raises(error):
        QNetwork(*args)


def test_stacked_network_matches_its_members_and_exports_them():
    torch.manual_seed(0)
    members = [QNetwork(4, 2, (8, 8)) for _ in range(3)]
    stacked = StackedQNetwork(members)
    x = torch.randn(3, 5, 4)
    out = stacked(x)
    for k, net in enumerate(members):
        torch.testing.assert_close(out[k], net(x[k]))
        torch.testing.assert_close(stacked.network(k)(x[k]), net(x[k]))


def test_stacked_network_gradients_stay_within_each_agent():
    torch.manual_seed(0)
    stacked = StackedQNetwork([QNetwork(4, 2, (8,)) for _ in range(3)])
    stacked(torch.randn(3, 5, 4))[1].sum().backward()
    for p in stacked.parameters():
        assert p.grad[0].abs().sum() == 0 and p.grad[2].abs().sum() == 0
        assert p.grad[1].abs().sum() > 0


def test_stacked_network_rejects_mixed_architectures():
    with pytest.raises(ValueError, match="architecture"):
        StackedQNetwork([QNetwork(4, 2, (8,)), QNetwork(4, 2, (9,))])


def test_q_network_runs_exactly_the_layers_it_holds():
    """``layers`` is the network: a layer added to it changes the output."""
    torch.manual_seed(0)
    net = QNetwork(4, 2, (8,))
    x = torch.randn(5, 4)
    before = net(x)
    net.layers.append(torch.nn.Tanh())
    torch.testing.assert_close(net(x), torch.tanh(before))


def test_stacked_network_follows_load_state_dict_with_assign():
    torch.manual_seed(0)
    stacked = StackedQNetwork([QNetwork(4, 2, (8,)) for _ in range(2)])
    other = StackedQNetwork([QNetwork(4, 2, (8,)) for _ in range(2)])
    stacked.load_state_dict(other.state_dict(), assign=True)
    x = torch.randn(2, 3, 4)
    assert torch.equal(stacked(x), other(x))
