"""The reference DQN trainer: one agent, one environment, read top to bottom.

This is the loop Lessons 3 and 4 explain, as in CleanRL's ``dqn.py``::

    for each step:
        act       epsilon-greedy in the online network
        remember  store (s, a, r, s', terminated) in the replay buffer
        learn     sample a minibatch; y = r + gamma * (1 - terminated) * max_a' Q_target(s', a');
                  one gradient step on the Huber (or squared) loss between Q(s, a) and y
        sync      every C steps copy the online network into the target network
        evaluate  now and then, run the greedy policy

``config.target_update_period=None`` gives Lesson 3's single network, which computes its own
targets. :func:`utils.engine.train_many` trains many seeds of the same agent at once, faster;
this module is the definition it is tested against.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from utils._checks import check_bool, check_callable, check_int, check_seed, check_str
from utils.config import DQNConfig
from utils.dqn import double_dqn_target, hard_update, q_loss, soft_update, td_target
from utils.envs import make_env, require_dqn_env
from utils.networks import QNetwork, flush_denormal, torch_threads
from utils.replay import ReplayBuffer
from utils.runs import DQNRun, History, evaluate_greedy
from utils.schedules import LinearSchedule
from utils.seeding import spawn_rngs

Callback = Callable[[int, QNetwork, QNetwork | None], None]


def train(
    env_id: str,
    config: DQNConfig,
    seed: int,
    *,
    progress: bool = True,
    callback: Callback | None = None,
    threads: int = 1,
) -> DQNRun:
    """Train one DQN agent on ``env_id`` and return the run.

    Stopping the cell (KeyboardInterrupt) ends training early and returns what was learned so
    far, with ``run.interrupted`` set.

    Args:
        env_id: A Gymnasium id with a flat Box observation and a Discrete action space.
        config: Hyperparameters; validated before anything runs.
        seed: Seeds the network's initial weights, exploration, replay sampling and the env.
        progress: Show a ``tqdm`` progress bar.
        callback: Called as ``callback(global_step, q_network, target_network)`` after every
            gradient update (``target_network`` is None for a single network). For lessons
            that look inside training; it slows training down.
        threads: Torch threads while training (restored afterwards); 1 is fastest here.

    Returns:
        A :class:`~utils.runs.DQNRun`.

    Raises:
        TypeError, ValueError: On a bad argument, before anything runs.
    """
    check_training_args(env_id, config, progress, callback, threads)
    seed = check_seed("seed", seed)
    with torch_threads(threads), flush_denormal():
        return _train(env_id, config, seed, progress, callback)


def check_training_args(
    env_id: str, config: DQNConfig, progress: bool, callback: Callback | None, threads: int
) -> None:
    """Check the arguments every trainer shares (see :func:`train`); raise naming the bad one."""
    check_str("env_id", env_id)
    if not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
    config.validate()
    check_bool("progress", progress)
    check_callable("callback", callback, optional=True)
    check_int("threads", threads, minimum=1)


def _train(
    env_id: str, config: DQNConfig, seed: int, progress: bool, callback: Callback | None
) -> DQNRun:
    env = make_env(env_id)
    obs_dim, n_actions = require_dqn_env(env)
    explore_rng, action_rng, replay_rng = spawn_rngs(seed, 3)
    torch.manual_seed(seed)
    q_network = QNetwork(obs_dim, n_actions, config.hidden_sizes)
    target_network = None
    if config.target_update_period is not None:
        target_network = copy.deepcopy(q_network).requires_grad_(False)
    # One network (Lesson 3) computes its own targets; DQN (Lesson 4) uses the frozen copy.
    net_for_targets = q_network if target_network is None else target_network
    optimizer = torch.optim.Adam(q_network.parameters(), lr=config.learning_rate, fused=True)
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,))
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)

    episodes = []  # (return, length, end step) of each finished episode
    updates = []  # (step, loss, largest Q on the batch) of each gradient update
    evaluations = []  # (step, mean greedy return)
    start = time.perf_counter()
    global_step, interrupted, stop_step = 0, False, None
    obs, _ = env.reset(seed=seed)
    episode_return, episode_length = 0.0, 0
    bar = tqdm(total=config.total_steps, disable=not progress, desc=f"{env_id} seed {seed}")
    try:
        for global_step in range(1, config.total_steps + 1):
            # 1. act: epsilon-greedy in the online network
            if explore_rng.random() < epsilon(global_step - 1):
                action = int(action_rng.integers(n_actions))
            else:
                with torch.no_grad():
                    action = int(q_network(torch.from_numpy(obs)).argmax())
            next_obs, reward, terminated, truncated, _ = env.step(action)

            # 2. remember: terminated (not truncated) says whether s' has a future
            buffer.add(obs, action, reward * config.reward_scale, next_obs, terminated)
            obs = next_obs
            episode_return += float(reward)
            episode_length += 1
            if terminated or truncated:
                episodes.append((episode_return, episode_length, global_step))
                obs, _ = env.reset()
                episode_return, episode_length = 0.0, 0

            # 3. learn: one gradient step on a sampled minibatch
            if global_step > config.learning_starts and global_step % config.train_frequency == 0:
                batch = buffer.sample(config.batch_size, replay_rng)
                with torch.no_grad():  # the target is a label: no gradient flows through it
                    next_q = net_for_targets(batch.next_obs)
                    if config.double_dqn:
                        next_q_online = q_network(batch.next_obs)
                        targets = double_dqn_target(
                            batch.rewards, next_q_online, next_q, batch.terminated, config.gamma
                        )
                    else:
                        targets = td_target(batch.rewards, next_q, batch.terminated, config.gamma)
                q_all = q_network(batch.obs)
                q_taken = q_all.gather(1, batch.actions[:, None]).squeeze(1)
                loss = q_loss(q_taken, targets, config.loss)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm)
                optimizer.step()
                updates.append((global_step, loss.item(), q_all.detach().max().item()))
                if callback is not None:
                    callback(global_step, q_network, target_network)

            # 4. sync: refresh the frozen target network every C steps
            if target_network is not None and global_step % config.target_update_period == 0:
                if config.tau == 1.0:
                    hard_update(target_network, q_network)
                else:
                    soft_update(target_network, q_network, config.tau)

            # 5. evaluate the greedy policy now and then (the same start states each time)
            if config.eval_every and global_step % config.eval_every == 0:
                mean = float(evaluate_greedy(env_id, q_network, config.eval_episodes, seed).mean())
                evaluations.append((global_step, mean))
                if config.stop_when_solved and mean >= config.solved_return:
                    stop_step = global_step
                    break

            optimizer.param_groups[0]["lr"] = config.learning_rate_at(global_step)
            if global_step % 1000 == 0:
                bar.update(1000)
    except KeyboardInterrupt:
        interrupted = True
        global_step -= 1  # the interrupted step may be half done; its data is in the buffer
    finally:
        bar.close()
        env.close()
    last = stop_step or global_step
    history = History.from_records(
        episodes,
        np.array(updates).reshape(-1, 3).T,  # steps, losses, largest Qs
        evaluations,
        upto_step=last,
        solved_return=config.solved_return,
        wall_seconds=time.perf_counter() - start,
    )
    return DQNRun(env_id, config, seed, q_network, history, last, interrupted, target_network)
