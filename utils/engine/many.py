"""``train_many``: K independent DQN agents trained at once, as one batched computation."""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from utils._checks import check_bool, check_choice
from utils.config import DQNConfig
from utils.dqn import double_dqn_target, hard_update, q_loss, soft_update, td_target
from utils.engine.stacked import StackedAdam, StackedQNetwork, clip_per_agent, loss_and_grads
from utils.engine.vector_envs import check_seeds, evaluate_greedy_many, make_envs
from utils.envs import require_dqn_env
from utils.networks import QNetwork, flush_denormal, torch_threads
from utils.replay import Batch, ReplayBuffer
from utils.runs import DQNRun, History
from utils.schedules import LinearSchedule
from utils.seeding import spawn_rngs
from utils.train import check_training_args

DEVICE_ENV_VAR = "DQN_COURSE_DEVICE"
TERMINAL_FLAGS = ("terminated", "terminated_or_truncated")
"""What the buffer may store as the terminal flag: Gymnasium's ``terminated`` (correct), or
``terminated or truncated`` (Lesson 5's bug: a time-limit cut treated as the end)."""

StackedCallback = Callable[[int, StackedQNetwork, StackedQNetwork | None], None]


def default_device() -> torch.device:
    """Return the device :func:`train_many` uses unless told otherwise: the CPU.

    ``$DQN_COURSE_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ...) opts in to another. The course's
    networks are tiny: a GPU pays off only for many agents at once, and on the CPU the numbers
    match :func:`utils.train.train`.
    """
    name = os.environ.get(DEVICE_ENV_VAR)
    return _check_device(name, f"${DEVICE_ENV_VAR}") if name else torch.device("cpu")


def _check_device(device: str | torch.device, name: str = "device") -> torch.device:
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a str or torch.device, got {type(device).__name__}")
    try:
        device = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {device} but no CUDA GPU is available; use 'cpu'")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return device


def targets(
    batch: Batch,
    q_network: torch.nn.Module,
    target_network: torch.nn.Module,
    *,
    gamma: float,
    double_dqn: bool = False,
    mask_terminal: bool = True,
    stop_target_gradients: bool = True,
) -> torch.Tensor:
    """Return the TD targets of ``batch`` ``(..., batch)``, with rlax-style switches.

    Args:
        batch: Transitions (any leading agent axis).
        q_network: The online network (picks ``a'`` for Double DQN).
        target_network: The network that scores ``s'``; the online network itself when there
            is no target network.
        gamma: Discount factor.
        double_dqn: Use :func:`~utils.dqn.double_dqn_target` instead of
            :func:`~utils.dqn.td_target`.
        mask_terminal: Zero the future of terminal next states (correct). False bootstraps
            from them too.
        stop_target_gradients: Compute the target without gradient (correct). False lets the
            gradient flow through it (which only matters when the online network makes it).
    """
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must be a utils.replay.Batch, got {type(batch).__name__}")
    check_bool("double_dqn", double_dqn)
    check_bool("mask_terminal", mask_terminal)
    check_bool("stop_target_gradients", stop_target_gradients)
    terminated = batch.terminated if mask_terminal else torch.zeros_like(batch.terminated)
    with torch.set_grad_enabled(not stop_target_gradients):
        next_q = target_network(batch.next_obs)
        if double_dqn:
            next_q_online = q_network(batch.next_obs)
            return double_dqn_target(batch.rewards, next_q_online, next_q, terminated, gamma)
        return td_target(batch.rewards, next_q, terminated, gamma)


def train_many(
    env_id: str,
    config: DQNConfig,
    seeds: Sequence[int],
    *,
    progress: bool = True,
    callback: StackedCallback | None = None,
    threads: int = 1,
    device: str | torch.device | None = None,
    terminal_flag: str = "terminated",
    mask_terminal: bool = True,
    stop_target_gradients: bool = True,
) -> list[DQNRun]:
    """Train ``len(seeds)`` independent agents at once and return one run per seed.

    Agent ``k`` is the agent :func:`utils.train.train` would produce with ``seeds[k]``: same
    initial weights, environment, exploration and replay samples, so its episodes match
    (exactly while floating-point sums agree; batched matrix products may round differently in
    late digits). Nothing is shared between agents: K environments step together, the K
    networks live in stacked weight tensors evaluated with batched matrix products, and the K
    replay buffers are one preallocated array.

    The last three arguments switch off parts of the correct algorithm, one at a time, for
    Lesson 5 (see :mod:`utils.lessons.lesson5_bugs`); their defaults are the correct DQN.

    Stopping the cell (KeyboardInterrupt) returns every agent's run so far.

    Args:
        env_id: A Gymnasium id with a flat Box observation and a Discrete action space.
        config: Hyperparameters shared by all agents; validated first.
        seeds: Distinct seeds, one per agent.
        progress: Show a ``tqdm`` progress bar.
        callback: Called as ``callback(global_step, q_network, target_network)`` after every
            gradient update, with the stacked networks (agent ``k`` is slice ``k``; use
            ``q_network(obs)`` on ``(K, batch, obs_dim)`` inputs). ``target_network`` is None
            without a target network.
        threads: Torch threads while training (restored afterwards).
        device: Where the stacked networks train; default :func:`default_device` (the CPU).
            The returned runs' networks are on the CPU either way.
        terminal_flag: What the buffer stores as "no future": ``'terminated'`` (correct) or
            ``'terminated_or_truncated'``.
        mask_terminal: Zero the target's future at terminal states (correct: True).
        stop_target_gradients: Compute targets without gradient (correct: True).

    Returns:
        A list of :class:`~utils.runs.DQNRun`, in the order of ``seeds``.

    Raises:
        TypeError, ValueError: On a bad argument, before anything runs.
    """
    check_training_args(env_id, config, progress, callback, threads)
    seeds = check_seeds(seeds)
    device = default_device() if device is None else _check_device(device)
    check_choice("terminal_flag", terminal_flag, TERMINAL_FLAGS)
    check_bool("mask_terminal", mask_terminal)
    check_bool("stop_target_gradients", stop_target_gradients)
    switches = dict(
        store_truncated=terminal_flag == "terminated_or_truncated",
        mask_terminal=mask_terminal,
        stop_target_gradients=stop_target_gradients,
    )
    with torch_threads(threads), flush_denormal():
        return _train_many(env_id, config, seeds, progress, callback, device, **switches)


class _Exploration:
    """Each agent's coin flips and random actions, drawn in blocks of 4096.

    The numbers :func:`utils.train.train` draws one at a time from the same generators: a
    NumPy block of draws equals the same number of single draws. Agent k's random actions are
    consumed only when it explores, so its stream never depends on the other agents.
    """

    SIZE = 4096

    def __init__(self, explore_rngs: list, action_rngs: list, n_actions: int):
        self.explore_rngs, self.action_rngs, self.n_actions = explore_rngs, action_rngs, n_actions
        self.i = self.SIZE
        self.random = np.stack([r.integers(n_actions, size=self.SIZE) for r in action_rngs])
        self.used = np.zeros(len(action_rngs), dtype=np.int64)

    def actions(self, greedy: np.ndarray, epsilon: float) -> np.ndarray:
        """Return ``(K,)`` actions: each agent's random one with probability ``epsilon``."""
        if self.i == self.SIZE:
            self.u = np.stack([r.random(self.SIZE) for r in self.explore_rngs], axis=1)
            self.i = 0
        mask = self.u[self.i] < epsilon
        self.i += 1
        if not mask.any():
            return greedy
        explore = np.flatnonzero(mask)
        actions = greedy.copy()
        actions[explore] = self.random[explore, self.used[explore]]
        self.used[explore] += 1
        for k in explore[self.used[explore] == self.SIZE]:
            self.random[k] = self.action_rngs[k].integers(self.n_actions, size=self.SIZE)
            self.used[k] = 0
        return actions


class _Recorder:
    """Collects K runs' histories in preallocated arrays (no per-step list appends)."""

    def __init__(self, config: DQNConfig, n_agents: int, device: torch.device):
        n_updates = config.total_steps // config.train_frequency + 1
        self.losses = torch.zeros(n_updates, n_agents, device=device)
        self.max_q = torch.zeros(n_updates, n_agents, device=device)
        self.update_steps = np.zeros(n_updates, dtype=np.int64)
        self.n_updates = 0
        self.episodes: list[list[tuple[float, int, int]]] = [[] for _ in range(n_agents)]
        self.evals: list[list[tuple[int, float]]] = [[] for _ in range(n_agents)]

    def record_update(self, step: int, losses: torch.Tensor, max_q: torch.Tensor) -> None:
        i = self.n_updates
        self.losses[i], self.max_q[i] = losses.detach(), max_q.detach()
        self.update_steps[i] = step
        self.n_updates += 1

    def history(self, k: int, upto_step: int, config: DQNConfig, wall: float) -> History:
        n = self.n_updates
        updates = (
            self.update_steps[:n],
            self.losses[:n, k].cpu().numpy(),
            self.max_q[:n, k].cpu().numpy(),
        )
        return History.from_records(
            self.episodes[k],
            updates,
            self.evals[k],
            upto_step=upto_step,
            solved_return=config.solved_return,
            wall_seconds=wall,
        )


def _train_many(
    env_id: str,
    config: DQNConfig,
    seeds: list[int],
    progress: bool,
    callback: StackedCallback | None,
    device: torch.device,
    *,
    store_truncated: bool,
    mask_terminal: bool,
    stop_target_gradients: bool,
) -> list[DQNRun]:
    k_agents = len(seeds)
    with contextlib.closing(gym.make(env_id)) as probe:
        obs_dim, n_actions = require_dqn_env(probe)
    envs = make_envs(env_id, seeds)

    streams = [spawn_rngs(s, 3) for s in seeds]  # exploration, random actions, replay
    nets = []
    for s in seeds:
        torch.manual_seed(s)
        nets.append(QNetwork(obs_dim, n_actions, config.hidden_sizes))
    q_network = StackedQNetwork(nets).to(device)
    target_network = None
    if config.target_update_period is not None:
        target_network = copy.deepcopy(q_network).requires_grad_(False)
    net_for_targets = q_network if target_network is None else target_network
    params = list(q_network.parameters())
    optimizer = StackedAdam(params, config.learning_rate)
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,), n_agents=k_agents)
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
    rec = _Recorder(config, k_agents, device)
    exploration = _Exploration([s[0] for s in streams], [s[1] for s in streams], n_actions)
    replay_rngs = [s[2] for s in streams]
    rows = torch.arange(k_agents, device=device)[:, None]
    columns = torch.arange(config.batch_size, device=device)

    start = time.perf_counter()
    global_step, interrupted = 0, False
    stopped: dict[int, tuple[int, QNetwork, QNetwork | None]] = {}
    obs = envs.reset().astype(np.float32)
    episode_return = np.zeros(k_agents)
    episode_length = np.zeros(k_agents, dtype=np.int64)
    bar = tqdm(total=config.total_steps, disable=not progress, desc=f"{env_id} x{k_agents}")
    try:
        for global_step in range(1, config.total_steps + 1):
            with torch.no_grad():
                q = q_network(torch.from_numpy(obs).to(device)[:, None])
                greedy = q.argmax(-1)[:, 0].cpu().numpy()
            actions = exploration.actions(greedy, epsilon(global_step - 1))
            next_obs, final_obs, rewards, terminated, truncated = envs.step(actions)
            done = terminated | truncated
            flag = done if store_truncated else terminated
            buffer.add(obs, actions, rewards * config.reward_scale, final_obs, flag)
            episode_return += rewards
            episode_length += 1
            for k in np.flatnonzero(done):
                rec.episodes[k].append(
                    (float(episode_return[k]), int(episode_length[k]), global_step)
                )
                episode_return[k], episode_length[k] = 0.0, 0
            obs = next_obs.astype(np.float32)

            if global_step > config.learning_starts and global_step % config.train_frequency == 0:
                batch = buffer.sample(config.batch_size, replay_rngs, device)
                y = targets(
                    batch, q_network, net_for_targets, gamma=config.gamma,
                    double_dqn=config.double_dqn, mask_terminal=mask_terminal,
                    stop_target_gradients=stop_target_gradients,
                )  # fmt: skip
                if stop_target_gradients:  # the autograd numbers, without autograd's bookkeeping
                    loss_per_agent, q_all, grads = loss_and_grads(
                        q_network, batch.obs, batch.actions, y, config.loss
                    )
                else:  # the gradient also flows through y: autograd follows it
                    q_all = q_network(batch.obs)
                    loss_per_agent = q_loss(q_all[rows, columns, batch.actions], y, config.loss)
                    for p in params:
                        p.grad = None
                    loss_per_agent.sum().backward()
                    grads = [p.grad for p in params]
                if config.max_grad_norm is not None:
                    clip_per_agent(grads, config.max_grad_norm)
                optimizer.step(grads)
                rec.record_update(global_step, loss_per_agent, q_all.flatten(1).amax(1))
                if callback is not None:
                    callback(global_step, q_network, target_network)
            if target_network is not None and global_step % config.target_update_period == 0:
                if config.tau == 1.0:
                    hard_update(target_network, q_network)
                else:
                    soft_update(target_network, q_network, config.tau)
            if config.eval_every and global_step % config.eval_every == 0:
                returns = evaluate_greedy_many(env_id, q_network, seeds, config.eval_episodes)
                for k, mean in enumerate(returns.mean(axis=1)):
                    if k not in stopped:
                        rec.evals[k].append((global_step, float(mean)))
                        if config.stop_when_solved and mean >= config.solved_return:
                            target = None if target_network is None else target_network.network(k)
                            stopped[k] = (global_step, q_network.network(k), target)
                if len(stopped) == k_agents:
                    break
            optimizer.param_groups[0]["lr"] = config.learning_rate_at(global_step)
            if global_step % 1000 == 0:
                bar.update(1000)
    except KeyboardInterrupt:
        interrupted = True
        global_step -= 1
    finally:
        bar.close()
        envs.close()
    wall = time.perf_counter() - start
    runs = []
    for k, s in enumerate(seeds):
        if k in stopped:
            last, net, target = stopped[k]
        else:
            last, net = global_step, q_network.network(k)
            target = target_network.network(k) if target_network is not None else None
        history = rec.history(k, last, config, wall)
        runs.append(DQNRun(env_id, config, s, net, history, last, interrupted, target))
    return runs
