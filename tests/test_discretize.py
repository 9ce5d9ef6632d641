"""Tests for utils.discretize: bins, state numbers and the CartPole wrapper."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

from utils.discretize import (
    CARTPOLE_HIGH,
    CARTPOLE_LOW,
    DiscretizeObservation,
    bin_index,
    cartpole_table_entries,
    make_discrete_cartpole,
)
from utils.envs import make_env

# --------------------------------------------------------------------------------------
# bin_index
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "low", "high", "bins", "expected"),
    [
        (0.0, -1.0, 1.0, 4, 2),  # width 0.5: bins start at -1, -0.5, 0, 0.5
        (-0.5, -1.0, 1.0, 4, 1),  # a lower edge belongs to its bin
        (-0.5000001, -1.0, 1.0, 4, 0),
        (0.999, -1.0, 1.0, 4, 3),
        (1.0, -1.0, 1.0, 4, 3),  # the top edge is clipped into the last bin
        (-1.0, -1.0, 1.0, 4, 0),
        (7.0, -1.0, 1.0, 4, 3),  # clipped
        (-7.0, -1.0, 1.0, 4, 0),  # clipped
        (math.inf, -1.0, 1.0, 4, 3),
        (-math.inf, -1.0, 1.0, 4, 0),
        (123.0, -1.0, 1.0, 1, 0),  # one bin holds everything
    ],
)
def test_bin_index_by_hand(value, low, high, bins, expected):
    assert bin_index(value, low, high, bins) == expected
    assert isinstance(bin_index(value, low, high, bins), int)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((0.0, -1.0, 1.0, 0), ValueError, "bins"),
        ((0.0, -1.0, 1.0, 2.0), TypeError, "bins"),
        ((0.0, 1.0, 1.0, 2), ValueError, "high > low"),
        ((0.0, 1.0, -1.0, 2), ValueError, "high > low"),
        ((0.0, -math.inf, 1.0, 2), ValueError, "finite"),
        ((math.nan, -1.0, 1.0, 2), ValueError, "value"),
        (("0", -1.0, 1.0, 2), TypeError, "value"),
    ],
)
def test_bin_index_names_bad_arguments(args, error, name):
    with pytest.raises(error, match=name):
        bin_index(*args)


# --------------------------------------------------------------------------------------
# DiscretizeObservation
# --------------------------------------------------------------------------------------


def _reference_state(obs, bins, low, high):
    # Independent reference: np.digitize on the inner edges, then np.ravel_multi_index.
    cells = []
    for value, b, lo, hi in zip(obs, bins, low, high, strict=True):
        inner_edges = np.linspace(lo, hi, b + 1)[1:-1]
        cells.append(int(np.digitize(value, inner_edges)))
    return int(np.ravel_multi_index(cells, bins)), tuple(cells)


def test_wrapper_space_and_state_numbers_match_a_reference():
    env = make_discrete_cartpole((3, 4, 5, 6))
    assert env.observation_space == gym.spaces.Discrete(3 * 4 * 5 * 6)
    assert env.n_states == 360
    rng = np.random.default_rng(0)
    # Inside and well outside the bounds, so clipping is exercised too.
    scale = 1.5 * np.array(CARTPOLE_HIGH)
    for _ in range(2000):
        obs = rng.uniform(-scale, scale).astype(np.float32)
        state, cells = _reference_state(obs, env.bins, env.low, env.high)
        assert env.observation(obs) == state
        assert env.cell(obs) == cells


def test_wrapper_with_one_bin_count_for_every_dimension():
    env = make_discrete_cartpole(6)
    assert env.bins == (6, 6, 6, 6)
    assert env.observation_space.n == 6**4


def test_cell_centres_map_back_to_their_own_state():
    env = make_discrete_cartpole((2, 3, 4, 5))
    centres = env.cell_centres()
    assert centres.shape == (env.n_states, 4)
    states = [env.observation(c.astype(np.float32)) for c in centres]
    assert states == list(range(env.n_states))
    # Centres lie inside the clipping bounds.
    assert np.all(centres > np.array(CARTPOLE_LOW)) and np.all(centres < np.array(CARTPOLE_HIGH))


def test_reset_and_step_return_state_numbers_and_seeding_repeats():
    def trajectory(seed):
        env = make_discrete_cartpole(6, seed=seed)
        obs, _ = env.reset(seed=seed)
        states = [obs]
        for t in range(30):
            obs, _, terminated, truncated, _ = env.step(t % 2)
            states.append(obs)
            if terminated or truncated:
                break
        return states

    states = trajectory(3)
    assert all(isinstance(s, int) and 0 <= s < 6**4 for s in states)
    assert len(set(states)) > 1
    assert trajectory(3) == states


def test_wrapper_keeps_episode_statistics_and_time_limit():
    env = make_discrete_cartpole(4, seed=0)
    env.reset(seed=0)
    while True:
        _, _, terminated, truncated, info = env.step(0)
        if terminated or truncated:
            break
    assert terminated and not truncated  # always pushing left drops the pole
    assert "episode" in info


def test_wrapper_default_bounds_come_from_the_space():
    env = DiscretizeObservation(gym.make("MountainCar-v0"), bins=10)
    assert env.low == pytest.approx((-1.2, -0.07))
    assert env.high == pytest.approx((0.6, 0.07))
    assert env.observation_space.n == 100


@pytest.mark.parametrize(
    ("make", "error", "name"),
    [
        (lambda: DiscretizeObservation(make_env("CartPole-v1"), 6), ValueError, "low"),
        (lambda: DiscretizeObservation(make_env("FrozenLake-v1"), 6), TypeError, "Box"),
        (lambda: DiscretizeObservation("CartPole-v1", 6), TypeError, "env"),
        (lambda: make_discrete_cartpole(0), ValueError, "bins"),
        (lambda: make_discrete_cartpole(2.5), TypeError, "bins"),
        (lambda: make_discrete_cartpole((2, 3)), ValueError, "bins"),
        (lambda: make_discrete_cartpole((2, 3, 0, 1)), ValueError, r"bins\[2\]"),
        (lambda: make_discrete_cartpole(4, low=(0, 0, 0)), ValueError, "low"),
        (lambda: make_discrete_cartpole(4, high=CARTPOLE_LOW), ValueError, "high"),
    ],
)
def test_wrapper_names_bad_arguments(make, error, name):
    with pytest.raises(error, match=name):
        make()


def test_table_entries():
    assert cartpole_table_entries(10) == 20_000
    assert cartpole_table_entries(3, n_actions=4, dims=2) == 36
    with pytest.raises(ValueError, match="bins"):
        cartpole_table_entries(0)
