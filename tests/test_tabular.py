"""Tabular Q-learning, value iteration and the exact success probability."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from utils.envs import make_env
from utils.evaluation import evaluate
from utils.schedules import LinearSchedule
from utils.tabular import (
    expected_return,
    greedy_policy,
    mdp_arrays,
    optimal_action_fraction,
    q_learning,
    q_update,
    reachable_states,
    success_probability,
    value_iteration,
)


class TwoStateEnv(gym.Env):
    """State 0: action 0 stays (reward 0), action 1 ends the episode (reward 1).

    State 1 is terminal. Small enough to compute Q* by hand: Q*(0, 1) = 1 and
    Q*(0, 0) = gamma * 1.
    """

    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def __init__(self) -> None:
        self.P = {
            0: {0: [(1.0, 0, 0.0, False)], 1: [(1.0, 1, 1.0, True)]},
            1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]},
        }
        self.initial_state_distrib = np.array([1.0, 0.0])
        self.s = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return 0, {}

    def step(self, action):
        _, next_s, reward, terminated = self.P[self.s][int(action)][0]
        self.s = next_s
        return next_s, reward, terminated, False, {}


class EndlessEnv(gym.Env):
    """One state, one action, reward 1 forever: only a time limit ends an episode."""

    observation_space = gym.spaces.Discrete(1)
    action_space = gym.spaces.Discrete(1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 0, 1.0, False, False, {}


@pytest.fixture(scope="module")
def lake() -> gym.Env:
    return make_env("FrozenLake-v1")


@pytest.fixture(scope="module")
def lake_q_star(lake) -> np.ndarray:
    return value_iteration(lake, gamma=0.99)


# --- the update, by hand ------------------------------------------------------------------


def test_q_update_by_hand():
    q = np.array([[0.0, 0.0], [2.0, 4.0]])
    # Not terminal: target = 1 + 0.5 * max(2, 4) = 3; Q <- 0 + 0.1 * (3 - 0) = 0.3.
    td = q_update(q, 0, 1, 1.0, 1, False, alpha=0.1, gamma=0.5)
    assert td == pytest.approx(3.0)
    assert q[0, 1] == pytest.approx(0.3)
    # Terminal: the target is the reward alone, the next row (max 4) is ignored.
    td = q_update(q, 0, 0, 1.0, 1, True, alpha=0.1, gamma=0.5)
    assert td == pytest.approx(1.0)
    assert q[0, 0] == pytest.approx(0.1)
    assert q[1].tolist() == [2.0, 4.0]  # only the updated entry changes


def test_q_update_rejects_bad_arguments():
    q = np.zeros((2, 2))
    with pytest.raises(ValueError, match="alpha"):
        q_update(q, 0, 0, 1.0, 1, False, alpha=0.0, gamma=0.9)
    with pytest.raises(ValueError, match="gamma"):
        q_update(q, 0, 0, 1.0, 1, False, alpha=0.5, gamma=1.5)
    with pytest.raises(ValueError, match="next_obs"):
        q_update(q, 0, 0, 1.0, 2, False, alpha=0.5, gamma=0.9)
    with pytest.raises(TypeError, match="q_table"):
        q_update([[0.0]], 0, 0, 1.0, 0, False, alpha=0.5, gamma=0.9)


# --- value iteration and the exact success probability -----------------------------------


def test_value_iteration_two_state_by_hand():
    q = value_iteration(TwoStateEnv(), gamma=0.9)
    np.testing.assert_allclose(q, [[0.9, 1.0], [0.0, 0.0]], atol=1e-9)


def test_value_iteration_satisfies_bellman_optimality(lake, lake_q_star):
    mdp = mdp_arrays(lake)
    backup = mdp.reward + 0.99 * mdp.transition @ lake_q_star.max(axis=1)
    np.testing.assert_allclose(lake_q_star, backup, atol=1e-8)
    assert lake_q_star.shape == (16, 4)
    # Holes and the goal are terminal: nothing to gain from them.
    for s in (5, 7, 11, 12, 15):
        assert np.all(lake_q_star[s] == 0.0)


def test_optimal_success_within_time_limit_is_0_740(lake, lake_q_star):
    p = success_probability(lake, greedy_policy(lake_q_star))
    assert round(p, 3) == 0.740
    # Without the 100-step limit the same policy succeeds with V*(start) at gamma = 1.
    assert success_probability(lake, greedy_policy(lake_q_star), max_steps=10_000) == (
        pytest.approx(value_iteration(lake, gamma=1.0)[0].max(), abs=1e-6)
    )


def test_success_probability_deterministic_lake_counts_steps():
    env = make_env("FrozenLake-v1", is_slippery=False)
    policy = greedy_policy(value_iteration(env, gamma=0.9))
    # The shortest path from S to G takes 6 steps.
    assert success_probability(env, policy, max_steps=5) == 0.0
    assert success_probability(env, policy, max_steps=6) == pytest.approx(1.0)


def test_success_probability_matches_sampling(lake, lake_q_star):
    policy = greedy_policy(lake_q_star)
    exact = success_probability(lake, policy)
    sampled = evaluate(lake, policy, episodes=3000, seed=7).success_rate
    standard_error = np.sqrt(exact * (1 - exact) / 3000)
    assert abs(sampled - exact) < 4 * standard_error


def test_expected_return_equals_success_on_lake(lake, lake_q_star):
    # FrozenLake pays 1 on reaching the goal and 0 otherwise.
    policy = greedy_policy(lake_q_star)
    assert expected_return(lake, policy) == pytest.approx(success_probability(lake, policy))


def test_expected_return_matches_sampling_on_taxi():
    env = make_env("Taxi-v4")
    policy = greedy_policy(value_iteration(env, gamma=0.99))
    exact = expected_return(env, policy)
    sampled = evaluate(env, policy, episodes=2000, seed=3)
    assert abs(sampled.mean_return - exact) < 4 * sampled.std_return / np.sqrt(2000)
    assert success_probability(env, policy) == pytest.approx(1.0)


def test_success_probability_rejects_bad_policy(lake):
    with pytest.raises(ValueError, match="policy"):
        success_probability(lake, np.zeros(15, dtype=int))
    with pytest.raises(ValueError, match="policy"):
        success_probability(lake, np.full(16, 4))
    with pytest.raises(ValueError, match="max_steps"):
        success_probability(lake, np.zeros(16, dtype=int), max_steps=0)


# --- greedy policy ------------------------------------------------------------------------


def test_greedy_policy_breaks_ties_towards_lowest_action():
    q = np.array([[0.0, 0.0, 0.0], [1.0, 3.0, 3.0], [-1.0, -2.0, -0.5]])
    assert greedy_policy(q).tolist() == [0, 1, 2]


def test_optimal_action_fraction_counts_ties():
    q_star = np.array([[1.0, 1.0], [0.0, 2.0], [3.0, 1.0]])
    assert optimal_action_fraction(np.array([1, 1, 0]), q_star) == 1.0  # state 0 is a tie
    assert optimal_action_fraction(np.array([0, 0, 0]), q_star) == pytest.approx(2 / 3)
    mask = np.array([False, True, True])
    assert optimal_action_fraction(np.array([0, 0, 0]), q_star, states=mask) == 0.5
    with pytest.raises(ValueError, match="states"):
        optimal_action_fraction(np.array([0, 0, 0]), q_star, states=np.zeros(3, dtype=bool))


def test_frozen_lake_cell_6_has_two_optimal_actions(lake_q_star):
    # Holes on both sides: left and right are equally good, and both count as optimal.
    assert lake_q_star[6, 0] == pytest.approx(lake_q_star[6, 2])
    policy = greedy_policy(lake_q_star).copy()
    policy[6] = 2
    assert optimal_action_fraction(policy, lake_q_star) == 1.0


def test_greedy_policy_rejects_bad_tables():
    with pytest.raises(ValueError, match="q_table"):
        greedy_policy(np.zeros(4))
    with pytest.raises(ValueError, match="q_table"):
        greedy_policy(np.array([[0.0, np.nan]]))


# --- Q-learning ---------------------------------------------------------------------------


def test_q_learning_terminated_does_not_bootstrap():
    # The terminal state's row starts at 5: bootstrapping from it would pull Q(0, 1) to 1 + 0.9 * 5.
    q_init = np.array([[0.0, 0.0], [5.0, 5.0]])
    result = q_learning(
        TwoStateEnv(), episodes=300, alpha=0.5, gamma=0.9, epsilon=0.5, seed=0, q_init=q_init
    )
    assert result.q_table[0, 1] == pytest.approx(1.0)
    assert result.q_table[1].tolist() == [5.0, 5.0]  # never updated: never acted in


def test_q_learning_truncated_still_bootstraps():
    # Only the 5-step time limit ends episodes. Bootstrapping through it lets Q reach the
    # value of the endless stream, 1 / (1 - gamma) = 2; masking truncation would cap it below.
    env = gym.wrappers.TimeLimit(EndlessEnv(), max_episode_steps=5)
    result = q_learning(env, episodes=400, alpha=0.5, gamma=0.5, epsilon=0.0, seed=0)
    assert result.q_table[0, 0] == pytest.approx(2.0, abs=1e-6)
    assert result.episode_lengths.tolist() == [5] * 400
    assert result.episode_returns.tolist() == [5.0] * 400


def test_q_learning_converges_on_two_state_mdp():
    result = q_learning(TwoStateEnv(), episodes=2000, alpha=0.5, gamma=0.9, epsilon=0.5, seed=1)
    np.testing.assert_allclose(result.q_table, value_iteration(TwoStateEnv(), gamma=0.9), atol=1e-6)


def test_q_learning_result_shapes_and_records(lake, lake_q_star):
    result = q_learning(lake, episodes=250, alpha=0.1, gamma=0.99, epsilon=0.2, seed=0,
                        q_star=lake_q_star, record_every=100)  # fmt: skip
    assert result.q_table.shape == (16, 4)
    assert result.episode_returns.shape == (250,)
    assert result.episode_lengths.dtype == np.int64
    assert result.total_steps == result.episode_lengths.sum() > 250
    assert set(np.unique(result.episode_returns)) <= {0.0, 1.0}
    assert result.distance_episodes.tolist() == [0, 100, 200]
    assert result.distances[0] == pytest.approx(np.abs(lake_q_star).max())  # zero start


def test_reachable_states():
    lake = make_env("FrozenLake-v1")
    # Holes (5, 7, 11, 12) and the goal (15) are only entered by terminating.
    assert np.flatnonzero(reachable_states(lake)).tolist() == [0, 1, 2, 3, 4, 6, 8, 9, 10, 13, 14]
    # Taxi: the 100 states with the passenger already at the destination are never acted in.
    assert reachable_states(make_env("Taxi-v4")).sum() == 400
    assert reachable_states(TwoStateEnv()).tolist() == [True, False]


def test_q_learning_distance_on_selected_states():
    env = TwoStateEnv()
    q_star = np.array([[0.9, 1.0], [7.0, 7.0]])  # row 1 is never updated: distance 7 there
    kwargs = dict(episodes=50, alpha=0.5, gamma=0.9, epsilon=0.5, seed=0, q_star=q_star)
    everywhere = q_learning(env, **kwargs)
    selected = q_learning(env, **kwargs, distance_states=reachable_states(env), record_every=10)
    assert everywhere.distances[-1] == pytest.approx(7.0)
    assert selected.distances[0] == pytest.approx(1.0)  # the zero table against row 0
    assert selected.distances[-1] < 0.01
    for wrong in (np.ones(2), np.zeros(2, dtype=bool)):  # not booleans; none selected
        with pytest.raises(ValueError, match="distance_states"):
            q_learning(env, episodes=1, alpha=0.5, seed=0, q_star=q_star, distance_states=wrong)


def test_q_learning_same_seed_same_table(lake):
    kwargs = dict(episodes=300, alpha=0.1, gamma=0.99, epsilon=0.3)
    a = q_learning(lake, seed=3, **kwargs)
    b = q_learning(lake, seed=3, **kwargs)
    c = q_learning(lake, seed=4, **kwargs)
    np.testing.assert_array_equal(a.q_table, b.q_table)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    assert not np.array_equal(a.q_table, c.q_table)


def test_q_learning_accepts_a_schedule(lake):
    schedule = LinearSchedule(1.0, 0.1, 10)
    result = q_learning(lake, episodes=20, alpha=0.1, gamma=0.99, epsilon=schedule, seed=0)
    np.testing.assert_allclose(result.episode_epsilons, [schedule(i) for i in range(20)])


def test_q_learning_rejects_a_schedule_leaving_0_1(lake):
    with pytest.raises(ValueError, match="epsilon"):
        q_learning(lake, episodes=5, alpha=0.1, gamma=0.99, epsilon=lambda t: 1.5, seed=0)


def test_q_learning_zero_episodes_returns_initial_table(lake):
    result = q_learning(lake, episodes=0, alpha=0.1, gamma=0.99, epsilon=0.1, seed=0, q_init=0.5)
    assert np.all(result.q_table == 0.5)
    assert result.episode_returns.shape == (0,)


def test_q_learning_learns_slippery_frozen_lake(lake, lake_q_star):
    """The lesson's claim: 5,000 episodes give a policy that succeeds >= 70% of the time."""
    result = q_learning(
        lake,
        episodes=5000,
        alpha=0.1,
        gamma=0.99,
        epsilon=LinearSchedule(1.0, 0.05, 2000),
        seed=0,
        q_star=lake_q_star,
    )
    policy = greedy_policy(result.q_table)
    assert evaluate(lake, policy, episodes=1000, seed=123).success_rate >= 0.70
    assert success_probability(lake, policy) >= 0.70
    assert result.distances[-1] < 0.5 * result.distances[0]


def test_q_learning_learns_taxi():
    env = make_env("Taxi-v4")
    result = q_learning(env, episodes=3000, alpha=0.5, gamma=0.99, epsilon=0.1, seed=0)
    learned = evaluate(env, greedy_policy(result.q_table), episodes=200, seed=5)
    optimal = evaluate(env, greedy_policy(value_iteration(env, gamma=0.99)), episodes=200, seed=5)
    assert learned.success_rate == 1.0
    assert learned.mean_return == pytest.approx(optimal.mean_return, abs=0.5)


# --- bad input, named -----------------------------------------------------------------------

BAD_ARGUMENTS = [
    ({"gamma": 1.5}, ValueError, "gamma"),
    ({"gamma": -0.1}, ValueError, "gamma"),
    ({"alpha": 0.0}, ValueError, "alpha"),
    ({"alpha": 1.2}, ValueError, "alpha"),
    ({"episodes": -1}, ValueError, "episodes"),
    ({"episodes": 10.0}, TypeError, "episodes"),
    ({"epsilon": 1.1}, ValueError, "epsilon"),
    ({"epsilon": -0.2}, ValueError, "epsilon"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"seed": "0"}, TypeError, "seed"),
    ({"seed": -1}, ValueError, "seed"),
    ({"record_every": 0}, ValueError, "record_every"),
    ({"q_init": np.zeros((3, 3))}, ValueError, "q_init"),
    ({"q_star": np.zeros((16, 3))}, ValueError, "q_star"),
]


@pytest.mark.parametrize(("override", "error", "name"), BAD_ARGUMENTS)
def test_q_learning_names_bad_arguments(lake, override, error, name):
    kwargs = dict(episodes=10, alpha=0.1, gamma=0.99, epsilon=0.1, seed=0) | override
    with pytest.raises(error, match=name):
        q_learning(lake, **kwargs)


def test_tabular_code_rejects_continuous_observations():
    cartpole = make_env("CartPole-v1")
    with pytest.raises(ValueError, match="Discrete observation space"):
        q_learning(cartpole, episodes=1, alpha=0.1, gamma=0.99, epsilon=0.1, seed=0)
    with pytest.raises(ValueError, match="Discrete observation space"):
        value_iteration(cartpole)


def test_value_iteration_names_bad_arguments(lake):
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(lake, gamma=1.01)
    with pytest.raises(ValueError, match="tol"):
        value_iteration(lake, tol=0.0)
    with pytest.raises(TypeError, match="env"):
        value_iteration("FrozenLake-v1")


def test_value_iteration_needs_a_model():
    env = gym.wrappers.TimeLimit(EndlessEnv(), max_episode_steps=5)
    with pytest.raises(ValueError, match=r"unwrapped\.P"):
        value_iteration(env)


def test_value_iteration_reports_non_convergence(lake):
    with pytest.raises(RuntimeError, match="converge"):
        value_iteration(lake, gamma=0.99, max_iterations=3)
