"""evaluate(): returns, lengths and success rates of a fixed policy."""

from __future__ import annotations

import numpy as np
import pytest

from utils.envs import make_env
from utils.evaluation import EvaluationResult, evaluate, has_goal
from utils.tabular import greedy_policy, value_iteration

# On the deterministic 4x4 lake this path reaches the goal in 6 steps:
# down, down, right, down, right, right (0 left, 1 down, 2 right, 3 up).
SHORTEST = {0: 1, 4: 1, 8: 2, 9: 1, 13: 2, 14: 2}


def shortest_path_policy() -> np.ndarray:
    policy = np.zeros(16, dtype=np.int64)
    for s, a in SHORTEST.items():
        policy[s] = a
    return policy


def test_deterministic_lake_by_hand():
    env = make_env("FrozenLake-v1", is_slippery=False)
    result = evaluate(env, shortest_path_policy(), episodes=5, seed=0)
    assert isinstance(result, EvaluationResult)
    assert result.returns.tolist() == [1.0] * 5
    assert result.lengths.tolist() == [6] * 5
    assert result.success_rate == 1.0
    assert result.mean_return == 1.0
    assert result.std_return == 0.0


def test_always_left_never_succeeds_and_hits_the_time_limit():
    env = make_env("FrozenLake-v1", is_slippery=False)
    result = evaluate(env, np.zeros(16, dtype=np.int64), episodes=3, seed=0)
    assert result.success_rate == 0.0
    assert result.lengths.tolist() == [100] * 3  # truncated by the 100-step limit


def test_callable_and_array_policies_agree():
    env = make_env("FrozenLake-v1")
    policy = greedy_policy(value_iteration(env, gamma=0.99))
    by_array = evaluate(env, policy, episodes=200, seed=3)
    by_callable = evaluate(env, lambda obs: int(policy[obs]), episodes=200, seed=3)
    np.testing.assert_array_equal(by_array.returns, by_callable.returns)
    np.testing.assert_array_equal(by_array.lengths, by_callable.lengths)


def test_same_seed_same_episodes_and_success_equals_return_on_lake():
    env = make_env("FrozenLake-v1")
    policy = greedy_policy(value_iteration(env, gamma=0.99))
    a = evaluate(env, policy, episodes=300, seed=11)
    b = evaluate(env, policy, episodes=300, seed=11)
    c = evaluate(env, policy, episodes=300, seed=12)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert not np.array_equal(a.returns, c.returns)
    assert a.success_rate == a.mean_return  # reward 1 exactly on reaching the goal
    assert 0.0 < a.success_rate < 1.0


def test_taxi_success_means_a_drop_off():
    env = make_env("Taxi-v4")
    optimal = evaluate(env, greedy_policy(value_iteration(env, gamma=0.99)), 50, seed=0)
    assert optimal.success_rate == 1.0
    stay = evaluate(env, np.full(500, 4, dtype=np.int64), 2, seed=0)  # 4 = pick up, forever
    assert stay.success_rate == 0.0
    assert stay.lengths.tolist() == [200, 200]


def test_env_without_goal_has_no_success_rate():
    env = make_env("CartPole-v1")
    assert not has_goal(env)
    result = evaluate(env, lambda obs: int(obs[2] > 0), episodes=3, seed=0)
    assert result.success_rate is None
    assert result.successes is None
    assert result.mean_return > 9
    assert "success" not in str(result)


def test_str_mentions_the_numbers():
    env = make_env("FrozenLake-v1", is_slippery=False)
    text = str(evaluate(env, shortest_path_policy(), episodes=2, seed=0))
    assert "mean return 1.000" in text and "success rate 1.000" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"episodes": 0}, ValueError, "episodes"),
        ({"episodes": 1.5}, TypeError, "episodes"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 0.5}, TypeError, "seed"),
        ({"policy": np.zeros(15, dtype=np.int64)}, ValueError, "policy"),
        ({"policy": np.zeros(16)}, ValueError, "policy"),
        ({"policy": np.full(16, 4)}, ValueError, "policy"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, name):
    env = make_env("FrozenLake-v1")
    arguments = {"policy": np.zeros(16, dtype=np.int64), "episodes": 2, "seed": 0} | kwargs
    with pytest.raises(error, match=name):
        evaluate(env, **arguments)


def test_array_policy_needs_a_discrete_observation_space():
    with pytest.raises(TypeError, match="policy"):
        evaluate(make_env("CartPole-v1"), np.zeros(4, dtype=np.int64), episodes=1, seed=0)


def test_env_must_be_an_env():
    with pytest.raises(TypeError, match="env"):
        evaluate("FrozenLake-v1", lambda obs: 0, episodes=1, seed=0)
