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

from utils._checks import check_bool, check_choice, check_int, check_probability
from utils.config import DQNConfig
from utils.dqn import hard_update, soft_update
from utils.engine.sampling import IndexSampler
from utils.engine.settings import AgentSettings, check_configs
from utils.engine.stacked import (
    Layers,
    StackedAdam,
    StackedQNetwork,
    _clip,
    _layer_views,
    _loss,
    _run_layers,
)
from utils.engine.vector_envs import check_seeds, evaluate_greedy_many, make_envs
from utils.envs import require_dqn_env
from utils.networks import QNetwork, flush_denormal, torch_threads
from utils.replay import Batch, ReplayBuffer
from utils.runs import DQNRun, History
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
    gamma = check_probability("gamma", gamma)
    check_bool("double_dqn", double_dqn)
    check_bool("mask_terminal", mask_terminal)
    check_bool("stop_target_gradients", stop_target_gradients)
    with torch.set_grad_enabled(not stop_target_gradients):
        return _targets(batch, q_network, target_network, gamma, double_dqn, mask_terminal)


def _targets(
    batch: Batch,
    q_network: Callable[[torch.Tensor], torch.Tensor],
    target_network: Callable[[torch.Tensor], torch.Tensor],
    gamma: float | torch.Tensor,
    double_dqn: bool | torch.Tensor,
    mask_terminal: bool,
) -> torch.Tensor:
    """:func:`targets` unchecked, with ``gamma`` and ``double_dqn`` also ``(K, 1)`` per agent.

    The networks may be any callables from observations to Q-values (the training loop passes
    its layers, see :func:`~utils.engine.stacked._run_layers`).

    The operations of :func:`~utils.dqn.td_target` and :func:`~utils.dqn.double_dqn_target`
    in the same order. With Double DQN for some agents only, both rules' actions are found
    and each agent keeps its own: the value at the argmax is the max, to the bit.
    """
    terminated = batch.terminated if mask_terminal else torch.zeros_like(batch.terminated)
    next_q = target_network(batch.next_obs)
    if double_dqn is False:
        best = next_q.amax(-1)
    else:
        pick = q_network(batch.next_obs).argmax(-1, keepdim=True)
        if double_dqn is not True:
            pick = torch.where(double_dqn[..., None], pick, next_q.argmax(-1, keepdim=True))
        best = next_q.gather(-1, pick).squeeze(-1)
    return batch.rewards + gamma * (1.0 - terminated) * best


AUTO_THREADS_MIN_AGENTS = 10
"""From this many agents on, :func:`auto_threads` uses two torch threads."""


def auto_threads(n_agents: int) -> int:
    """Return the torch threads :func:`train_many` uses by default for ``n_agents`` agents.

    One thread below :data:`AUTO_THREADS_MIN_AGENTS` agents (a second one only adds overhead
    to tiny products), else two where the machine has them. Measured on the course's 2-core
    machine, CartPole, an update every step: 10 agents 1.25x faster with two threads, 20
    agents 1.37x, 40 and 160 agents 1.5x, with the same numbers to the bit (the batched
    products split over agents, each agent's product on one thread).

    Raises:
        TypeError, ValueError: If ``n_agents`` is not a positive int.
    """
    check_int("n_agents", n_agents, minimum=1)
    if n_agents < AUTO_THREADS_MIN_AGENTS:
        return 1
    return min(2, os.cpu_count() or 1)


def train_many(
    env_id: str,
    config: DQNConfig | Sequence[DQNConfig],
    seeds: Sequence[int],
    *,
    progress: bool = True,
    callback: StackedCallback | None = None,
    threads: int | None = None,
    device: str | torch.device | None = None,
    terminal_flag: str = "terminated",
    mask_terminal: bool = True,
    stop_target_gradients: bool = True,
) -> list[DQNRun]:
    """Train ``len(seeds)`` independent agents at once and return one run per seed.

    Agent ``k`` is the agent :func:`utils.train.train` would produce with ``seeds[k]`` and its
    config: same initial weights, environment, exploration and replay samples, so its episodes
    match (exactly while floating-point sums agree; batched matrix products may round
    differently in late digits). Nothing is shared between agents: K environments step
    together, the K networks live in stacked weight tensors evaluated with batched matrix
    products, and the K replay buffers are one preallocated array.

    The agents may have different configs (one per seed): the arms of an experiment or a sweep
    then train as one batch, and agent ``k`` learns exactly as it would in a batch of its own
    config (tested). They must share the fields in
    :data:`~utils.engine.settings.SHARED_FIELDS` (network, batch and buffer sizes, the step
    budget, when updates start and how often); everything else (learning rate and its
    schedule, target period or none, ``tau``, loss, Double DQN, gamma, exploration, gradient
    clipping, reward scale, evaluation and stopping) may differ.

    The last three arguments switch off parts of the correct algorithm, one at a time, for
    Lesson 6 (see :mod:`utils.lessons.lesson6_bugs`); their defaults are the correct DQN.

    Stopping the cell (KeyboardInterrupt) returns every agent's run so far.

    Args:
        env_id: A Gymnasium id with a flat Box observation and a Discrete action space.
        config: Hyperparameters shared by all agents, or a sequence of configs, one per seed;
            validated first.
        seeds: One seed per agent; distinct among agents of one config (arms of an experiment
            may share them).
        progress: Show a ``tqdm`` progress bar.
        callback: Called as ``callback(global_step, q_network, target_network)`` after every
            gradient update, with the stacked networks (agent ``k`` is slice ``k``; use
            ``q_network(obs)`` on ``(K, batch, obs_dim)`` inputs). ``target_network`` is None
            when no agent has a target network (in a mixed batch, the slices of agents without
            one hold the online weights as they were before the update).
        threads: Torch threads while training (restored afterwards); default
            :func:`auto_threads` of the number of agents.
        device: Where the stacked networks train; default :func:`default_device` (the CPU).
            The returned runs' networks are on the CPU either way.
        terminal_flag: What the buffer stores as "no future": ``'terminated'`` (correct) or
            ``'terminated_or_truncated'``.
        mask_terminal: Zero the target's future at terminal states (correct: True).
        stop_target_gradients: Compute targets without gradient (correct: True).

    Returns:
        A list of :class:`~utils.runs.DQNRun`, in the order of ``seeds``.

    Raises:
        TypeError, ValueError: On a bad argument, before anything runs; a field of
            ``SHARED_FIELDS`` that differs between configs is named.
    """
    seeds = check_seeds(seeds, distinct=isinstance(config, DQNConfig))
    configs = check_configs(config, len(seeds))
    pairs = [(seed, c) for seed, c in zip(seeds, configs, strict=True)]
    repeated = [pair[0] for i, pair in enumerate(pairs) if pair in pairs[:i]]
    if repeated:
        raise ValueError(f"seeds must be distinct among agents of one config, got {repeated} twice")
    threads = auto_threads(len(seeds)) if threads is None else threads
    check_training_args(env_id, configs[0], progress, callback, threads)
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
        return _train_many(env_id, configs, seeds, progress, callback, device, **switches)


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

    def explores(self, epsilon: float | np.ndarray) -> np.ndarray:
        """Flip this step's coins: ``(K,)`` True where an agent acts at random."""
        if self.i == self.SIZE:
            self.u = np.stack([r.random(self.SIZE) for r in self.explore_rngs], axis=1)
            self.i = 0
        self.i += 1
        return self.u[self.i - 1] < epsilon

    def actions(self, greedy: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
        """Return ``(K,)`` actions: each exploring agent's next random one, else ``greedy``."""
        if not mask.any():
            return greedy
        explore = np.flatnonzero(mask)
        actions = np.empty(len(mask), dtype=np.int64) if greedy is None else greedy.copy()
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

    def record_update(self, step: int, losses: torch.Tensor, q_all: torch.Tensor) -> None:
        i = self.n_updates
        self.losses[i] = losses.detach()
        torch.amax(q_all.detach(), (1, 2), out=self.max_q[i])
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


@torch.no_grad()
def _greedy(layers: Layers, obs: np.ndarray, device: torch.device) -> np.ndarray:
    """Each agent's greedy action ``(K,)`` for its observation ``obs`` ``(K, obs_dim)``."""
    q = _run_layers(torch.from_numpy(obs).to(device)[:, None], layers)
    return q.argmax(2).view(-1).cpu().numpy()


def _sync(target_network: StackedQNetwork, q_network: StackedQNetwork, s: AgentSettings,
          step: int) -> None:  # fmt: skip
    """Refresh the agents whose target period divides ``step`` (hard copy or Polyak blend)."""
    for period, tau, agents in s.sync_groups:
        if step % period:
            continue
        if agents is None and tau == 1.0:
            hard_update(target_network, q_network)
            continue
        if agents is None:
            soft_update(target_network, q_network, tau)
            continue
        with torch.no_grad():
            for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
                new = o.index_select(0, agents)
                if tau != 1.0:
                    new = t.index_select(0, agents).lerp_(new, tau)
                t.index_copy_(0, agents, new)


def _evaluate(env_id, q_network, seeds, s: AgentSettings, step, rec, stopped, target_network):
    """Evaluate the agents due at ``step``; record it, and stop those that are solved."""
    for episodes, agents in s.evaluations_due(step, stopped).items():
        if len(agents) == q_network.n_agents:
            net = q_network
        else:  # a few agents: evaluate copies of just them
            net = StackedQNetwork([q_network.network(k) for k in agents])
        returns = evaluate_greedy_many(env_id, net, [seeds[k] for k in agents], episodes)
        for k, mean in zip(agents, returns.mean(axis=1), strict=True):
            c = s.configs[k]
            rec.evals[k].append((step, float(mean)))
            if c.stop_when_solved and mean >= c.solved_return:
                target = None if s.one_network[k] else target_network.network(k)
                stopped[k] = (step, q_network.network(k), target)


def _train_many(
    env_id: str,
    configs: list[DQNConfig],
    seeds: list[int],
    progress: bool,
    callback: StackedCallback | None,
    device: torch.device,
    *,
    store_truncated: bool,
    mask_terminal: bool,
    stop_target_gradients: bool,
) -> list[DQNRun]:
    k_agents, config = len(seeds), configs[0]  # config: the fields all agents share
    s = AgentSettings(configs, device)
    with contextlib.closing(gym.make(env_id)) as probe:
        obs_dim, n_actions = require_dqn_env(probe)
    envs = make_envs(env_id, seeds, distinct=False)

    streams = [spawn_rngs(seed, 3) for seed in seeds]  # exploration, random actions, replay
    nets = []
    for seed in seeds:
        torch.manual_seed(seed)
        nets.append(QNetwork(obs_dim, n_actions, config.hidden_sizes))
    q_network = StackedQNetwork(nets).to(device)
    target_network = None
    if s.any_target:
        target_network = copy.deepcopy(q_network).requires_grad_(False)
    params = list(q_network.parameters())
    # Forward passes without gradient read the weights through these views (they follow the
    # in-place updates of Adam and the target syncs); the update's is plain autograd.
    online = _layer_views(q_network)

    def q_online(x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            return q_network._forward(x)
        return _run_layers(x, online)

    if target_network is None:
        q_for_targets = q_online
    else:
        target_layers = _layer_views(target_network)

        def q_for_targets(x: torch.Tensor) -> torch.Tensor:
            return _run_layers(x, target_layers)

    each_loss = torch.ones(k_agents, device=device)  # d(sum of the agents' losses)/d(loss k)
    optimizer = StackedAdam(params, s.learning_rate_at(0), s.lr_of)
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,), n_agents=k_agents)
    rec = _Recorder(config, k_agents, device)
    exploration = _Exploration([r[0] for r in streams], [r[1] for r in streams], n_actions)
    sampler = IndexSampler([r[2] for r in streams], config.batch_size)

    start = time.perf_counter()
    global_step, interrupted = 0, False
    stopped: dict[int, tuple[int, QNetwork, QNetwork | None]] = {}
    obs = envs.reset().astype(np.float32)
    episode_return = np.zeros(k_agents)
    episode_length = np.zeros(k_agents, dtype=np.int64)
    bar = tqdm(total=config.total_steps, disable=not progress, desc=f"{env_id} x{k_agents}")
    try:
        for global_step in range(1, config.total_steps + 1):
            explore = exploration.explores(s.epsilon(global_step - 1))
            greedy = None if explore.all() else _greedy(online, obs, device)
            actions = exploration.actions(greedy, explore)
            next_obs, final_obs, rewards, terminated, truncated = envs.step(actions)
            done = terminated | truncated
            flag = done if store_truncated else terminated
            scaled = rewards if s.reward_scale is None else rewards * s.reward_scale
            buffer.add(obs, actions, scaled, final_obs, flag)
            episode_return += rewards
            episode_length += 1
            if done.any():
                for k in np.flatnonzero(done):
                    rec.episodes[k].append(
                        (float(episode_return[k]), int(episode_length[k]), global_step)
                    )
                    episode_return[k], episode_length[k] = 0.0, 0
            obs = next_obs.astype(np.float32, copy=False)

            if global_step > config.learning_starts and global_step % config.train_frequency == 0:
                batch = buffer.gather(sampler(buffer.size), device)
                with torch.set_grad_enabled(not stop_target_gradients):
                    y = _targets(batch, q_online, q_for_targets, s.gamma, s.double_dqn,
                                 mask_terminal)  # fmt: skip
                q_all = q_online(batch.obs)
                q_taken = q_all.gather(2, batch.actions[..., None]).squeeze(2)
                loss_per_agent = _loss(q_taken, y, s.huber)
                # the gradient of the sum of the losses: agent k's loss reaches only slice k;
                # each weight's comes transposed (its product read W^T) and is copied into the
                # parameter's layout, as backward() would for .grad
                grads = [g.contiguous() for g in torch.autograd.grad(loss_per_agent, params,
                                                                     each_loss)]  # fmt: skip
                if s.max_grad_norm is not None:
                    _clip(grads, s.max_grad_norm)
                optimizer.step(grads)
                rec.record_update(global_step, loss_per_agent, q_all)
                if callback is not None:
                    callback(global_step, q_network, target_network)
            if target_network is not None:
                _sync(target_network, q_network, s, global_step)
            if s.any_eval:
                _evaluate(env_id, q_network, seeds, s, global_step, rec, stopped, target_network)
                if len(stopped) == k_agents:
                    break
            optimizer.set_lr(s.learning_rate_at(global_step))
            if global_step % 1000 == 0:
                bar.update(global_step - bar.n)
    except KeyboardInterrupt:
        interrupted = True
        global_step -= 1
    finally:
        bar.update(global_step - bar.n)
        bar.close()
        envs.close()
    wall = time.perf_counter() - start
    runs = []
    for k, seed in enumerate(seeds):
        if k in stopped:
            last, net, target = stopped[k]
        else:
            last, net = global_step, q_network.network(k)
            target = None if s.one_network[k] else target_network.network(k)
        history = rec.history(k, last, configs[k], wall)
        runs.append(DQNRun(env_id, configs[k], seed, net, history, last, interrupted, target))
    return runs
