"""Every public function of the core pieces and the engine refuses bad input clearly.

Each case is a call a new user might make; it must raise ``TypeError`` or ``ValueError`` whose
message names the parameter, before any work and before any state changes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import engine, envs, evaluation, seeding, stats, tabular
from utils.config import DQNConfig, cartpole_config
from utils.dqn import (
    double_dqn_target,
    hard_update,
    impossible_q_bound,
    q_loss,
    soft_update,
    td_target,
)
from utils.lessons.lesson6_bugs import bug_switches, train_with_bug
from utils.networks import QNetwork, check_sizes, torch_threads
from utils.replay import ReplayBuffer
from utils.run_figures import bound_label
from utils.runs import DQNRun, History, evaluate_greedy, load, save
from utils.schedules import LinearSchedule, as_schedule
from utils.train import check_training_args, train

TINY = DQNConfig(total_steps=50, learning_starts=10, batch_size=4, buffer_size=100,
                 hidden_sizes=(8,), epsilon_decay_steps=20, target_update_period=10)  # fmt: skip
NAN, INF = math.nan, math.inf


def lake():
    return envs.make_env("FrozenLake-v1")


def cartpole():
    return envs.make_env("CartPole-v1")


def net(hidden=(8,)):
    return QNetwork(4, 2, hidden)


def stacked(k=2):
    return engine.StackedQNetwork([net() for _ in range(k)])


def policy16():
    return np.zeros(16, dtype=np.int64)


def a_run():
    return DQNRun("CartPole-v1", TINY, 0, net(), History.empty(), 0)


def rng():
    return np.random.default_rng(0)


def filled_buffer(n_agents=1):
    buffer = ReplayBuffer(4, (2,), n_agents)
    shape = (2,) if n_agents == 1 else (n_agents, 2)
    one = 0 if n_agents == 1 else np.zeros(n_agents, dtype=np.int64)
    for _ in range(4):
        buffer.add(np.zeros(shape), one, one * 1.0, np.zeros(shape), one == 1)
    return buffer


def add(**bad):
    fields = dict(obs=np.zeros(2), action=1, reward=1.0, next_obs=np.zeros(2), terminated=False)
    filled_buffer().add(**{**fields, **bad})


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


CASES = {
    # seeding
    "set_seed negative": (lambda: seeding.set_seed(-1), ValueError, "seed"),
    "set_seed float": (lambda: seeding.set_seed(1.5), TypeError, "seed"),
    "make_rng str": (lambda: seeding.make_rng("0"), TypeError, "seed"),
    "spawn_rngs n=0": (lambda: seeding.spawn_rngs(0, 0), ValueError, "n must"),
    "spawn_rngs bool seed": (lambda: seeding.spawn_rngs(True, 2), TypeError, "seed"),
    "episode_seeds 0": (lambda: seeding.episode_seeds(0, 0), ValueError, "episodes"),
    # schedules
    "LinearSchedule start": (lambda: LinearSchedule(1.5, 0.0, 10), ValueError, "start"),
    "LinearSchedule duration": (lambda: LinearSchedule(1.0, 0.0, 0), ValueError, "duration"),
    "LinearSchedule t float": (lambda: LinearSchedule(1.0, 0.0, 10)(2.5), TypeError, "t must"),
    "as_schedule 2": (lambda: as_schedule(2.0), ValueError, "epsilon"),
    "as_schedule str": (lambda: as_schedule("0.1"), TypeError, "epsilon"),
    # envs
    "make_env id type": (lambda: envs.make_env(5), TypeError, "env_id"),
    "make_env unknown": (lambda: envs.make_env("Nope-v0"), ValueError, "env_id"),
    "make_env seed": (lambda: envs.make_env("CartPole-v1", seed=-1), ValueError, "seed"),
    "require_discrete_env type": (lambda: envs.require_discrete_env("x"), TypeError, "env"),
    "require_discrete_env box": (lambda: envs.require_discrete_env(cartpole()), ValueError,
                                 "Discrete observation"),
    "require_dqn_env type": (lambda: envs.require_dqn_env(None), TypeError, "env"),
    "require_dqn_env continuous": (lambda: envs.require_dqn_env(envs.make_env("Pendulum-v1")),
                                   ValueError, "discrete action space"),
    "require_dqn_env table": (lambda: envs.require_dqn_env(lake()), ValueError, "flat Box"),
    "record_episode policy": (lambda: envs.record_episode("CartPole-v1", 5), TypeError, "policy"),
    "record_episode max_steps": (lambda: envs.record_episode("CartPole-v1", int, max_steps=0),
                                 ValueError, "max_steps"),
    "record_episode seed": (lambda: envs.record_episode("CartPole-v1", int, seed=-2), ValueError,
                            "seed"),
    # evaluation
    "evaluate env": (lambda: evaluation.evaluate("lake", policy16()), TypeError, "env"),
    "evaluate episodes": (lambda: evaluation.evaluate(lake(), policy16(), episodes=0), ValueError,
                          "episodes"),
    "evaluate policy shape": (lambda: evaluation.evaluate(lake(), np.zeros(3, int)), ValueError,
                              "policy"),
    "evaluate table on box": (lambda: evaluation.evaluate(cartpole(), np.zeros(4, int)), TypeError,
                              "policy"),
    "has_goal": (lambda: evaluation.has_goal(None), TypeError, "env"),
    # tabular
    "mdp_arrays box": (lambda: tabular.mdp_arrays(cartpole()), ValueError, "Discrete"),
    "reachable_states type": (lambda: tabular.reachable_states("x"), TypeError, "env"),
    "value_iteration gamma": (lambda: tabular.value_iteration(lake(), gamma=2), ValueError,
                              "gamma"),
    "value_iteration tol inf": (lambda: tabular.value_iteration(lake(), tol=INF), ValueError,
                                "tol"),
    "success_probability policy": (lambda: tabular.success_probability(lake(), np.zeros(3, int)),
                                   ValueError, "policy"),
    "expected_return max_steps": (lambda: tabular.expected_return(lake(), policy16(), 0),
                                  ValueError, "max_steps"),
    "greedy_policy type": (lambda: tabular.greedy_policy("abc"), TypeError, "q_table"),
    "greedy_policy nan": (lambda: tabular.greedy_policy(np.full((2, 2), NAN)), ValueError,
                          "q_table"),
    "optimal_action_fraction atol": (
        lambda: tabular.optimal_action_fraction(policy16(), np.zeros((16, 4)), atol=-1),
        ValueError, "atol"),
    "q_update int table": (lambda: tabular.q_update(np.zeros((2, 2), int), 0, 0, 1.0, 1, False,
                                                    0.1, 0.9), TypeError, "q_table"),
    "q_update obs": (lambda: tabular.q_update(np.zeros((2, 2)), 5, 0, 1.0, 1, False, 0.1, 0.9),
                     ValueError, "obs"),
    "q_update terminated": (lambda: tabular.q_update(np.zeros((2, 2)), 0, 0, 1.0, 1, "no", 0.1,
                                                     0.9), TypeError, "terminated"),
    "q_update reward inf": (lambda: tabular.q_update(np.zeros((2, 2)), 0, 0, INF, 1, False, 0.1,
                                                     0.9), ValueError, "reward"),
    "q_learning episodes": (lambda: tabular.q_learning(lake(), episodes=-1), ValueError,
                            "episodes"),
    "q_learning alpha": (lambda: tabular.q_learning(lake(), episodes=1, alpha=0), ValueError,
                         "alpha"),
    "q_learning q_init inf": (lambda: tabular.q_learning(lake(), episodes=1, q_init=INF),
                              ValueError, "q_init"),
    # replay
    "ReplayBuffer capacity": (lambda: ReplayBuffer(0, (2,)), ValueError, "capacity"),
    "ReplayBuffer obs_shape": (lambda: ReplayBuffer(4, [2]), TypeError, "obs_shape"),
    "add obs shape": (lambda: add(obs=np.zeros(3)), ValueError, "obs"),
    "add next_obs nan": (lambda: add(next_obs=np.array([0.0, NAN])), ValueError, "next_obs"),
    "add action negative": (lambda: add(action=-1), ValueError, "action"),
    "add action float": (lambda: add(action=1.5), ValueError, "action"),
    "add reward inf": (lambda: add(reward=INF), ValueError, "reward"),
    "add reward str": (lambda: add(reward="1"), ValueError, "reward"),
    "add terminated 2": (lambda: add(terminated=2), ValueError, "terminated"),
    "add terminated per agent": (lambda: add(terminated=np.zeros(3, bool)), ValueError,
                                 "terminated"),
    "sample batch_size": (lambda: filled_buffer().sample(0, rng()), ValueError, "batch_size"),
    "sample rng": (lambda: filled_buffer().sample(2, 0), TypeError, "rng"),
    "sample rngs count": (lambda: filled_buffer(2).sample(2, [rng()]), TypeError, "rng"),
    "sample device": (lambda: filled_buffer().sample(2, rng(), device=3), TypeError, "device"),
    "sample empty": (lambda: ReplayBuffer(4, (2,)).sample(2, rng()), ValueError, "empty"),
    "sample_indices batch_size": (lambda: filled_buffer().sample_indices(0, [rng()]), ValueError,
                                  "batch_size"),
    # networks
    "QNetwork obs_dim": (lambda: QNetwork(0, 2), ValueError, "obs_dim"),
    "QNetwork hidden str": (lambda: QNetwork(4, 2, "64"), TypeError, "hidden_sizes"),
    "check_sizes n_actions": (lambda: check_sizes(4, 0, ()), ValueError, "n_actions"),
    "QNetwork forward array": (lambda: net()(np.zeros((1, 4))), TypeError, "obs"),
    "QNetwork forward shape": (lambda: net()(torch.zeros(3, 5)), ValueError, "obs"),
    "torch_threads 0": (lambda: torch_threads(0).__enter__(), ValueError, "threads"),
    # config
    "from_dict type": (lambda: DQNConfig.from_dict(5), TypeError, "d must"),
    "from_dict hidden int": (lambda: DQNConfig.from_dict({"hidden_sizes": 64}), TypeError,
                             "hidden_sizes"),
    "from_dict unknown": (lambda: DQNConfig.from_dict({"bugs": []}), ValueError, "unknown"),
    "learning_rate_at": (lambda: TINY.learning_rate_at(-1), ValueError, "step"),
    "cartpole_config unknown": (lambda: cartpole_config(lr=1), TypeError, "lr"),
    "cartpole_config value": (lambda: cartpole_config(gamma=2), ValueError, "gamma"),
    # the pieces of one update
    "td_target shapes": (lambda: td_target(t(1, 1, 1), torch.zeros(4, 2), t(0, 0, 0), 0.9),
                         ValueError, "next_q_values"),
    "td_target terminated": (lambda: td_target(t(1, 1), torch.zeros(2, 2), t(0), 0.9),
                             ValueError, "terminated"),
    "td_target gamma": (lambda: td_target(t(1), torch.zeros(1, 2), t(0), 1.5), ValueError,
                        "gamma"),
    "td_target ints": (lambda: td_target(torch.ones(2, dtype=torch.int64), torch.zeros(2, 2),
                                         t(0, 0), 0.9), TypeError, "rewards"),
    "td_target list": (lambda: td_target([1.0], torch.zeros(1, 2), t(0), 0.9), TypeError,
                       "rewards"),
    "double_dqn_target shapes": (lambda: double_dqn_target(t(1), torch.zeros(1, 2),
                                                           torch.zeros(1, 3), t(0), 0.9),
                                 ValueError, "next_q_online"),
    "q_loss l1": (lambda: q_loss(t(0, 0), t(1, 1), "l1"), ValueError, "loss"),
    "q_loss shapes": (lambda: q_loss(t(0, 0), t(1, 1, 1)), ValueError, "q_taken"),
    "q_loss broadcast": (lambda: q_loss(torch.zeros(4, 1), torch.zeros(4)), ValueError,
                         "q_taken"),
    "q_loss numpy": (lambda: q_loss(np.zeros(2), t(1, 1)), TypeError, "q_taken"),
    "hard_update type": (lambda: hard_update("target", net()), TypeError, "target"),
    "soft_update tau": (lambda: soft_update(net(), net(), 0.0), ValueError, "tau"),
    "soft_update widths": (lambda: soft_update(net((8,)), net((9,)), 0.5), ValueError,
                           "target and online"),
    "impossible_q_bound gamma": (lambda: impossible_q_bound(1.5), ValueError, "gamma"),
    "impossible_q_bound gamma 1": (lambda: impossible_q_bound(1.0), ValueError, "gamma"),
    "impossible_q_bound negative": (lambda: impossible_q_bound(0.9, -1.0), ValueError,
                                    "max_reward"),
    "impossible_q_bound reward": (lambda: impossible_q_bound(0.9, INF), ValueError,
                                  "max_reward"),
    # runs, evaluation of a network, checkpoints
    "evaluate_greedy continuous": (lambda: evaluate_greedy("Pendulum-v1", net(), 2), ValueError,
                                   "discrete action space"),
    "evaluate_greedy env_id": (lambda: evaluate_greedy(5, net()), TypeError, "env_id"),
    "evaluate_greedy unknown": (lambda: evaluate_greedy("Nope-v0", net()), ValueError, "env_id"),
    "evaluate_greedy network": (lambda: evaluate_greedy("CartPole-v1", "net"), TypeError,
                                "q_network"),
    "evaluate_greedy episodes": (lambda: evaluate_greedy("CartPole-v1", net(), 0), ValueError,
                                 "episodes"),
    "evaluate_greedy seed": (lambda: evaluate_greedy("CartPole-v1", net(), 2, -1), ValueError,
                             "seed"),
    "evaluate_greedy output": (lambda: evaluate_greedy("CartPole-v1", lambda x: x, 2),
                               ValueError, "q_network"),
    "DQNRun.act shape": (lambda: a_run().act(np.zeros(3)), ValueError, "obs"),
    "DQNRun.evaluate episodes": (lambda: a_run().evaluate(0), ValueError, "episodes"),
    "History.from_records": (lambda: History.from_records([], ([], [], []), [], upto_step=-1,
                                                          solved_return=None, wall_seconds=0),
                             ValueError, "upto_step"),
    "save run": (lambda: save("run", "x.pt"), TypeError, "run"),
    "save path": (lambda: save(a_run(), 5), TypeError, "path"),
    "save folder": (lambda: save(a_run(), Path("/no/such/folder/x.pt")), FileNotFoundError,
                    "folder"),
    "load path": (lambda: load(5), TypeError, "path"),
    # the reference trainer
    "train env_id": (lambda: train(5, TINY, 0), TypeError, "env_id"),
    "train unknown env": (lambda: train("Nope-v0", TINY, 0, progress=False), ValueError,
                          "env_id"),
    "train config": (lambda: train("CartPole-v1", {"gamma": 0.9}, 0), TypeError, "config"),
    "train seed": (lambda: train("CartPole-v1", TINY, 1.5), TypeError, "seed"),
    "train progress": (lambda: train("CartPole-v1", TINY, 0, progress="no"), TypeError,
                       "progress"),
    "train callback": (lambda: train("CartPole-v1", TINY, 0, callback=5), TypeError, "callback"),
    "train threads": (lambda: train("CartPole-v1", TINY, 0, threads=0), ValueError, "threads"),
    "train continuous": (lambda: train("Pendulum-v1", TINY, 0, progress=False), ValueError,
                         "discrete action space"),
    # stats
    "iqm empty": (lambda: stats.iqm([]), ValueError, "values"),
    "iqm str": (lambda: stats.iqm("abc"), TypeError, "values"),
    "iqm nan": (lambda: stats.iqm([1.0, NAN]), ValueError, "values"),
    "iqm 2-D": (lambda: stats.iqm([[1.0, 2.0]]), ValueError, "values"),
    "bootstrap_ci statistic": (lambda: stats.bootstrap_ci([1, 2], "median"), ValueError,
                               "statistic"),
    "bootstrap_ci confidence": (lambda: stats.bootstrap_ci([1, 2], confidence=1.0), ValueError,
                                "confidence"),
    "bootstrap_ci resamples": (lambda: stats.bootstrap_ci([1, 2], n_resamples=10), ValueError,
                               "n_resamples"),
    "bootstrap_ci seed": (lambda: stats.bootstrap_ci([1, 2], seed=-1), ValueError, "seed"),
    "summarize unit": (lambda: stats.summarize([1, 2], unit=5), TypeError, "unit"),
    "summarize digits": (lambda: stats.summarize([1, 2], digits=-1), ValueError, "digits"),
    # the engine
    "train_many seeds empty": (lambda: engine.train_many("CartPole-v1", TINY, []), TypeError,
                               "seeds"),
    "train_many seeds str": (lambda: engine.train_many("CartPole-v1", TINY, "12"), TypeError,
                             "seeds"),
    "train_many seeds repeat": (lambda: engine.train_many("CartPole-v1", TINY, [1, 1]),
                                ValueError, "distinct"),
    "train_many seed value": (lambda: engine.train_many("CartPole-v1", TINY, [-1]), ValueError,
                              "seeds"),
    "auto_threads zero": (lambda: engine.auto_threads(0), ValueError, "n_agents"),
    "auto_threads float": (lambda: engine.auto_threads(2.0), TypeError, "n_agents"),
    "train_many threads zero": (lambda: engine.train_many("CartPole-v1", TINY, [0], threads=0),
                                ValueError, "threads"),
    "train_many device": (lambda: engine.train_many("CartPole-v1", TINY, [0], device="tpu"),
                          ValueError, "device"),
    "train_many device type": (lambda: engine.train_many("CartPole-v1", TINY, [0], device=0),
                               TypeError, "device"),
    "train_many terminal_flag": (lambda: engine.train_many("CartPole-v1", TINY, [0],
                                                           terminal_flag="truncated"),
                                 ValueError, "terminal_flag"),
    "train_many mask_terminal": (lambda: engine.train_many("CartPole-v1", TINY, [0],
                                                           mask_terminal="no"),
                                 TypeError, "mask_terminal"),
    "train_many stop_target_gradients": (lambda: engine.train_many(
        "CartPole-v1", TINY, [0], stop_target_gradients=1), TypeError, "stop_target_gradients"),
    "train_many threads": (lambda: engine.train_many("CartPole-v1", TINY, [0], threads=0),
                           ValueError, "threads"),
    "train_many callback": (lambda: engine.train_many("CartPole-v1", TINY, [0], callback=1),
                            TypeError, "callback"),
    "train_many config": (lambda: engine.train_many("CartPole-v1", None, [0]), TypeError,
                          "config"),
    "train_many stop_when_solved": (
        lambda: engine.train_many("CartPole-v1", DQNConfig(stop_when_solved="no"), [0]),
        TypeError, "stop_when_solved"),
    "targets batch": (lambda: engine.targets("batch", net(), net(), gamma=0.9), TypeError,
                      "batch"),
    "StackedQNetwork empty": (lambda: engine.StackedQNetwork([]), TypeError, "networks"),
    "StackedQNetwork forward": (lambda: stacked()(torch.zeros(3, 5, 4)), ValueError, "obs"),
    "StackedQNetwork network": (lambda: stacked().network(2), ValueError, "k must"),
    "per_agent_loss huber": (lambda: engine.per_agent_loss(torch.zeros(2, 5), torch.zeros(2, 5),
                                                            torch.ones(3, 1, dtype=torch.bool)),
                              ValueError, "huber"),
    "clip_per_agent max_norm": (lambda: engine.clip_per_agent([torch.ones(2, 3)], 0.0),
                                ValueError, "max_norm"),
    "clip_per_agent grads": (lambda: engine.clip_per_agent("g", 1.0), TypeError, "grads"),
    "StackedAdam lr": (lambda: engine.StackedAdam([torch.zeros(2)], lr=INF), ValueError, "lr"),
    "StackedAdam params": (lambda: engine.StackedAdam("p", lr=0.1), TypeError, "params"),
    "StackedAdam step count": (lambda: engine.StackedAdam([torch.zeros(2)], 0.1).step([]),
                               ValueError, "grads"),
    "evaluate_greedy_many network": (lambda: engine.evaluate_greedy_many("CartPole-v1", net(),
                                                                         [0], 2),
                                     TypeError, "q_network"),
    "evaluate_greedy_many seeds": (lambda: engine.evaluate_greedy_many("CartPole-v1", stacked(),
                                                                       [0], 2),
                                   ValueError, "seeds"),
    "evaluate_greedy_many episodes": (lambda: engine.evaluate_greedy_many(
        "CartPole-v1", stacked(), [0, 1], 0), ValueError, "episodes"),
    "is_plain_cartpole unknown": (lambda: engine.is_plain_cartpole("Nope-v0"), ValueError,
                                  "env_id"),
    "cartpole_start seed": (lambda: engine.vector_envs.cartpole_start(-1), ValueError, "seed"),
    "check_seeds type": (lambda: engine.vector_envs.check_seeds(3), TypeError, "seeds"),
    "check_training_args threads": (lambda: check_training_args("CartPole-v1", TINY, True, None,
                                                                1.0), TypeError, "threads"),
    "make_envs seeds": (lambda: engine.make_envs("CartPole-v1", [1, 1]), ValueError, "distinct"),
    "CartPoles env": (lambda: engine.CartPoles("Pendulum-v1", [0]), ValueError, "env_id"),
    "SyncEnvs env": (lambda: engine.SyncEnvs("Nope-v0", [0]), ValueError, "env_id"),
    # primitives and Lesson 3's exercises
    "bound_label nan": (lambda: bound_label(NAN), ValueError, "bound"),
    "bound_label type": (lambda: bound_label("100"), TypeError, "bound"),
    # Lesson 5's bugs
    "bug_switches unknown": (lambda: bug_switches("typo"), ValueError, "bug"),
    "bug_switches type": (lambda: bug_switches(5), TypeError, "bug"),
    "train_with_bug clash": (lambda: train_with_bug("CartPole-v1", TINY, [0], "no_terminal_mask",
                                                    mask_terminal=True), TypeError,
                             "mask_terminal"),
}  # fmt: skip


@pytest.mark.parametrize("call, error, names", CASES.values(), ids=CASES.keys())
def test_bad_input_gets_a_clear_error(call, error, names):
    with pytest.raises(error, match=names):
        call()


def test_hard_update_between_different_depths_leaves_the_target_as_it_was():
    target, online = net((8, 8)), net((8,))
    before = [p.clone() for p in target.parameters()]
    with pytest.raises(ValueError, match="same architecture"):
        hard_update(target, online)
    for p, b in zip(target.parameters(), before, strict=True):
        assert torch.equal(p, b)


def test_a_bad_transition_into_a_full_buffer_changes_nothing():
    buffer = filled_buffer()
    rows, pos, size = buffer._rows.copy(), buffer.pos, buffer.size
    with pytest.raises(ValueError, match="next_obs"):
        buffer.add(np.ones(2), 1, 1.0, np.ones(3), False)
    assert (buffer.pos, buffer.size) == (pos, size)
    np.testing.assert_array_equal(buffer._rows, rows)


def test_a_bad_gradient_leaves_the_stacked_adam_and_its_parameters_alone():
    params = [torch.zeros(2, 3), torch.zeros(2, 1)]
    adam = engine.StackedAdam(params, lr=0.1)
    with pytest.raises(ValueError, match="grads must be a list of tensors of the shapes"):
        adam.step([torch.ones(2, 3), torch.ones(2, 3)])
    assert all(p.abs().sum() == 0 for p in params) and adam.step_count == 0


def test_a_bad_epsilon_schedule_fails_before_the_first_step(monkeypatch):
    env = lake()
    monkeypatch.setattr(env, "step", lambda action: pytest.fail("the env was stepped"))
    with pytest.raises(ValueError, match="epsilon"):
        tabular.q_learning(env, episodes=10, epsilon=lambda e: 0.1 if e < 5 else 2.0)


def test_loading_a_checkpoint_without_its_config_names_what_is_missing(tmp_path):
    path = save(a_run(), tmp_path / "agent.pt")
    data = torch.load(path, weights_only=True)
    del data["config"]
    torch.save(data, path)
    with pytest.raises(ValueError, match="config"):
        load(path)
    data["config"] = {"gamma": 7}
    torch.save(data, path)
    with pytest.raises(ValueError, match="gamma"):
        load(path)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_asking_for_a_gpu_without_one_fails_before_training():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        engine.train_many("CartPole-v1", TINY, [0], device="cuda")


def test_bad_input_cases_reach_every_public_function():
    """The table above names every public function and class of the core and the engine."""
    import utils.config
    import utils.dqn
    import utils.engine.many
    import utils.engine.stacked
    import utils.engine.vector_envs
    import utils.mdp
    import utils.networks
    import utils.replay
    import utils.runs
    import utils.schedules
    import utils.train

    modules = [seeding, envs, evaluation, tabular, stats, utils.config, utils.dqn, utils.mdp,
               utils.networks, utils.replay, utils.runs, utils.schedules, utils.train,
               utils.engine.many, utils.engine.stacked, utils.engine.vector_envs]  # fmt: skip
    public = {
        name
        for module in modules
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and callable(obj)
        and getattr(obj, "__module__", None) == module.__name__
    }
    data_only = {"EvaluationResult", "MDPArrays", "QLearningResult", "History", "DQNRun",
                 "DQNConfig", "Batch", "default_device", "is_discrete",
                 "flush_denormal"}  # no arguments, or only checked through a function  # fmt: skip
    tested = " ".join(CASES).lower()
    missing = sorted(n for n in public - data_only if n.lower() not in tested)
    assert not missing, f"no bad-input case for {missing}"
