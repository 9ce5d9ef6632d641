"""Deep Q-learning with one network or with two (a frozen target network).

Read top to bottom: the config, the pieces of one update (target, loss, target sync), the
single-agent trainer :func:`train` (the reference loop the lessons explain), then
:func:`train_many`, which trains K independent agents in one batched computation.

``target_update_period=None`` gives the single-network learner of Lesson 3, whose target
``r + gamma * (1 - terminated) * max_a' Q(s', a')`` moves with every update. An integer C gives
the DQN of Lesson 4: a frozen copy of the network computes the targets and is refreshed every
C steps (a hard copy with ``tau=1``, a Polyak average with ``tau<1``).
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.adam import adam as adam_update
from tqdm.auto import tqdm

from utils._checks import check_choice, check_float, check_int, check_probability, check_seed
from utils.envs import make_env
from utils.networks import QNetwork, StackedQNetwork
from utils.replay import Batch, ReplayBuffer
from utils.schedules import LinearSchedule

LOSSES = ("huber", "mse")
BUGS = {
    "bootstrap_on_truncated": "stores terminated OR truncated as the terminal flag, so a "
    "time-limit cut is treated as the end of the world",
    "no_terminal_mask": "bootstraps from terminal states too: y = r + gamma * max Q(s', .)",
    "gradient_through_target": "computes the target with gradient on, so the update also "
    "moves the target (only matters when the online network makes the target)",
}
"""Deliberate mistakes Lesson 5 switches on one at a time, with what each does wrong."""
DEVICE_ENV_VAR = "DQN_COURSE_DEVICE"
CHECKPOINT_FORMAT = "dqn-course-checkpoint/1"


@dataclass
class DQNConfig:
    """Hyperparameters of one DQN run. Every field is checked by :meth:`validate`."""

    total_steps: int = 50_000
    """Environment steps to train for (per agent)."""
    learning_rate: float = 1e-3
    """Adam step size at the start."""
    learning_rate_end: float | None = None
    """If set, the step size falls linearly to this by ``total_steps`` (None: constant)."""
    gamma: float = 0.99
    """Discount factor in [0, 1]."""
    batch_size: int = 64
    """Transitions per gradient update."""
    buffer_size: int = 50_000
    """Replay buffer capacity; ``1`` with ``batch_size=1`` is online Q-learning."""
    learning_starts: int = 1_000
    """Environment steps collected before the first update."""
    train_frequency: int = 1
    """One gradient update every this many environment steps."""
    epsilon_start: float = 1.0
    """Exploration rate at step 0."""
    epsilon_end: float = 0.05
    """Exploration rate after ``epsilon_decay_steps``."""
    epsilon_decay_steps: int = 10_000
    """Steps over which epsilon falls linearly from start to end."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Hidden layer widths of the Q-network."""
    loss: str = "huber"
    """``'huber'`` (smooth L1) or ``'mse'`` on the TD error."""
    target_update_period: int | None = 500
    """C: sync the target network every C steps; ``None`` means no target network at all."""
    tau: float = 1.0
    """Sync strength: 1.0 copies (hard update); below 1 blends ``tau*online + (1-tau)*target``."""
    double_dqn: bool = False
    """Let the online network pick a' and the target network score it (Double DQN)."""
    max_grad_norm: float | None = None
    """Clip each update's gradient to this global norm; ``None`` (default) disables clipping."""
    eval_every: int = 0
    """Evaluate the greedy policy every this many steps during training (0: never)."""
    eval_episodes: int = 20
    """Episodes per evaluation during training."""
    solved_return: float | None = None
    """Mean greedy return that counts as solved; the first step it is reached is recorded."""
    stop_when_solved: bool = False
    """Stop training at the first evaluation that reaches ``solved_return``."""
    reward_scale: float = 1.0
    """Multiply rewards by this before learning (returns are still reported unscaled)."""
    bugs: tuple[str, ...] = ()
    """Deliberate mistakes from :data:`BUGS` (Lesson 5); empty for a correct agent."""

    def validate(self) -> DQNConfig:
        """Raise ``ValueError``/``TypeError`` naming the first bad field; return self if fine."""
        check_int("total_steps", self.total_steps, minimum=1)
        check_float("learning_rate", self.learning_rate, low=0.0, low_inclusive=False)
        if self.learning_rate_end is not None:
            check_float("learning_rate_end", self.learning_rate_end, low=0.0)
        check_probability("gamma", self.gamma)
        check_int("batch_size", self.batch_size, minimum=1)
        check_int("buffer_size", self.buffer_size, minimum=1)
        if self.batch_size > self.buffer_size:
            raise ValueError(
                f"batch_size must be <= buffer_size ({self.buffer_size}), got {self.batch_size}"
            )
        check_int("learning_starts", self.learning_starts, minimum=0)
        check_int("train_frequency", self.train_frequency, minimum=1)
        check_probability("epsilon_start", self.epsilon_start)
        check_probability("epsilon_end", self.epsilon_end)
        check_int("epsilon_decay_steps", self.epsilon_decay_steps, minimum=1)
        if isinstance(self.hidden_sizes, (str, bytes)) or not isinstance(
            self.hidden_sizes, Sequence
        ):
            raise TypeError(f"hidden_sizes must be a tuple of ints, got {self.hidden_sizes!r}")
        for h in self.hidden_sizes:
            check_int("hidden_sizes[i]", h, minimum=1)
        check_choice("loss", self.loss, LOSSES)
        if self.target_update_period is not None:
            check_int("target_update_period", self.target_update_period, minimum=1)
        check_float("tau", self.tau, low=0.0, high=1.0, low_inclusive=False)
        if not isinstance(self.double_dqn, bool):
            raise TypeError(f"double_dqn must be a bool, got {self.double_dqn!r}")
        if self.double_dqn and self.target_update_period is None:
            raise ValueError("double_dqn needs a target network: set target_update_period")
        if self.max_grad_norm is not None:
            check_float("max_grad_norm", self.max_grad_norm, low=0.0, low_inclusive=False)
        check_int("eval_every", self.eval_every, minimum=0)
        check_int("eval_episodes", self.eval_episodes, minimum=1)
        if self.solved_return is not None:
            check_float("solved_return", self.solved_return)
        if self.stop_when_solved and (self.solved_return is None or self.eval_every == 0):
            raise ValueError("stop_when_solved needs solved_return and eval_every > 0")
        check_float("reward_scale", self.reward_scale, low=0.0, low_inclusive=False)
        if isinstance(self.bugs, str) or not isinstance(self.bugs, (tuple, list)):
            raise TypeError(f"bugs must be a tuple of names, got {self.bugs!r}")
        for bug in self.bugs:
            check_choice("bugs[i]", bug, tuple(BUGS))
        return self

    def to_dict(self) -> dict:
        """Return the config as plain Python values (for checkpoints and result files)."""
        d = asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        d["bugs"] = list(self.bugs)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DQNConfig:
        """Rebuild a config from :meth:`to_dict`; unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown DQNConfig fields: {sorted(unknown)}")
        d = dict(d)
        for key in ("hidden_sizes", "bugs"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d).validate()


def default_device() -> torch.device:
    """Return the device batched training uses: the one place it is chosen.

    ``$DQN_COURSE_DEVICE`` wins if set (``cpu``, ``cuda``, ``cuda:1``, ...); otherwise a CUDA
    GPU when one is present, else the CPU. The course is fast on the CPU; a GPU pays off
    only for many agents at once (:func:`train_many` with large K).
    """
    import os

    name = os.environ.get(DEVICE_ENV_VAR)
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def cartpole_config(**overrides) -> DQNConfig:
    """Return the course's DQN settings for CartPole-v1, with ``overrides`` applied.

    Lessons 4-5 and ``benchmarks/bench_dqn.py`` use these; the benchmark's committed results
    say how they do over 10 seeds. They were chosen by a 10-seed comparison of a few settings
    (learning rate, C, exploration, annealing); annealing the learning rate to 0 made the
    policy much less likely to collapse late in training. Unknown keys raise ``TypeError``;
    bad values ``ValueError``.
    """
    settings = dict(
        total_steps=50_000,
        learning_rate=2.5e-3,
        learning_rate_end=0.0,
        gamma=0.99,
        batch_size=64,
        buffer_size=50_000,
        learning_starts=1_000,
        train_frequency=1,
        epsilon_start=1.0,
        epsilon_end=0.02,
        epsilon_decay_steps=5_000,
        hidden_sizes=(64, 64),
        loss="huber",
        target_update_period=200,
    )
    settings.update(overrides)
    return DQNConfig(**settings).validate()


# --- the pieces of one update ------------------------------------------------------------


def td_target(
    rewards: torch.Tensor, next_q_values: torch.Tensor, terminated: torch.Tensor, gamma: float
) -> torch.Tensor:
    """Return the TD target ``y = r + gamma * (1 - terminated) * max_a' Q(s', a')``.

    Args:
        rewards: ``(..., batch)`` rewards.
        next_q_values: ``(..., batch, n_actions)`` Q-values of the next states, from whichever
            network computes targets. Detach it (or compute it under ``torch.no_grad``).
        terminated: ``(..., batch)`` 1.0 where the next state is terminal. Pass Gymnasium's
            ``terminated`` only: after a time-limit truncation the future still has value.
        gamma: Discount factor in [0, 1].

    Returns:
        ``(..., batch)`` targets.
    """
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=-1).values


def double_dqn_target(
    rewards: torch.Tensor,
    next_q_online: torch.Tensor,
    next_q_target: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float,
) -> torch.Tensor:
    """Return the Double DQN target: the online net picks ``a'``, the target net scores it.

    ``y = r + gamma * (1 - terminated) * Q_target(s', argmax_a' Q_online(s', a'))``; shapes as
    in :func:`td_target`.
    """
    best = next_q_online.argmax(dim=-1, keepdim=True)
    return rewards + gamma * (1.0 - terminated) * next_q_target.gather(-1, best).squeeze(-1)


def q_loss(q_taken: torch.Tensor, targets: torch.Tensor, loss: str = "huber") -> torch.Tensor:
    """Return the TD loss per agent: mean over the last (batch) axis of Huber or squared error.

    Args:
        q_taken: ``(..., batch)`` Q(s, a) of the actions taken.
        targets: ``(..., batch)`` TD targets (no gradient).
        loss: ``'huber'`` or ``'mse'``.
    """
    if loss == "huber":
        per_sample = F.smooth_l1_loss(q_taken, targets, reduction="none")
    else:
        per_sample = F.mse_loss(q_taken, targets, reduction="none")
    return per_sample.mean(dim=-1)


@torch.no_grad()
def hard_update(target: nn.Module, online: nn.Module) -> None:
    """Copy the online parameters into the target network: ``theta_bar <- theta``."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.copy_(o)


@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """Polyak-average: ``theta_bar <- tau * theta + (1 - tau) * theta_bar`` for tau in (0, 1]."""
    check_float("tau", tau, low=0.0, high=1.0, low_inclusive=False)
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.lerp_(o, tau)


def _sync_target(target: nn.Module, online: nn.Module, config: DQNConfig) -> None:
    """Copy the online weights into the target network (``tau = 1``) or move towards them."""
    if config.tau == 1.0:
        hard_update(target, online)
    else:
        soft_update(target, online, config.tau)


def _targets(batch: Batch, online: nn.Module, target: nn.Module, config: DQNConfig) -> torch.Tensor:
    """TD targets for ``batch``; ``target`` is the online net itself when there is no copy."""
    terminated = batch.terminated
    if "no_terminal_mask" in config.bugs:
        terminated = torch.zeros_like(terminated)
    with torch.set_grad_enabled("gradient_through_target" in config.bugs):
        next_q = target(batch.next_obs)
        if config.double_dqn:
            return double_dqn_target(
                batch.rewards, online(batch.next_obs), next_q, terminated, config.gamma
            )
        return td_target(batch.rewards, next_q, terminated, config.gamma)


def _stored_terminal(terminated, truncated, config: DQNConfig):
    """The flag the buffer keeps: Gymnasium's ``terminated`` (unless a Lesson 5 bug is on)."""
    if "bootstrap_on_truncated" in config.bugs:
        return terminated | truncated
    return terminated


# --- results ---------------------------------------------------------------------------------


@dataclass
class History:
    """What happened during one run. Arrays are NumPy; steps count environment steps.

    Attributes:
        episode_returns: ``(n_episodes,)`` undiscounted return of each finished episode.
        episode_lengths: ``(n_episodes,)`` steps in each episode.
        episode_end_steps: ``(n_episodes,)`` global step at which each episode ended.
        update_steps: ``(n_updates,)`` global step of each gradient update.
        losses: ``(n_updates,)`` TD loss of each update.
        max_q: ``(n_updates,)`` largest Q-value the online network predicted on the batch.
        eval_steps: ``(n_evals,)`` global step of each greedy evaluation.
        eval_returns: ``(n_evals,)`` mean greedy return at each evaluation.
        solved_step: First evaluated step whose mean return reached ``solved_return``, or None.
        wall_seconds: Wall-clock time the training took.
    """

    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    episode_end_steps: np.ndarray
    update_steps: np.ndarray
    losses: np.ndarray
    max_q: np.ndarray
    eval_steps: np.ndarray
    eval_returns: np.ndarray
    solved_step: int | None = None
    wall_seconds: float = 0.0


@dataclass
class DQNRun:
    """A trained (or partly trained) agent and its history.

    Attributes:
        env_id: The environment it was trained on.
        config: The hyperparameters used.
        seed: The seed of the run.
        q_network: The trained online network (the policy is greedy in it).
        history: See :class:`History`; empty for a run loaded from a checkpoint.
        global_step: Environment steps actually taken.
        interrupted: True if training was stopped early by KeyboardInterrupt.
    """

    env_id: str
    config: DQNConfig
    seed: int
    q_network: QNetwork
    history: History
    global_step: int
    interrupted: bool = False
    target_network: QNetwork | None = field(default=None, repr=False)

    def act(self, obs: np.ndarray) -> int:
        """Return the greedy action for one observation."""
        with torch.no_grad():
            q = self.q_network(torch.as_tensor(obs, dtype=torch.float32).reshape(1, -1))
        return int(q.argmax())

    def evaluate(self, episodes: int = 100, seed: int | None = None) -> np.ndarray:
        """Return the greedy policy's return in each of ``episodes`` fresh episodes.

        Args:
            episodes: Number of episodes (>= 1), run side by side.
            seed: Seed of the evaluation episodes; default: one derived from the run's seed
                that differs from the seeds used by evaluations during training.
        """
        check_int("episodes", episodes, minimum=1)
        seed = self.seed + 1_000_003 if seed is None else check_seed("seed", seed)
        net = self.q_network
        returns = evaluate_greedy(
            self.env_id, lambda x: net(x[0])[None], [seed], episodes, _EVAL_SALT_FINAL
        )
        return returns[0]


# --- evaluation --------------------------------------------------------------------------

_EVAL_SALT_TRAINING = 1
_EVAL_SALT_FINAL = 2


def _episode_seeds(seed: int, episodes: int, salt: int) -> list[int]:
    state = np.random.SeedSequence([seed, salt]).generate_state(episodes)
    return [int(s) for s in state]


@torch.no_grad()
def evaluate_greedy(
    env_id: str,
    q_values: Callable[[torch.Tensor], torch.Tensor],
    seeds: Sequence[int],
    episodes: int,
    salt: int = _EVAL_SALT_FINAL,
) -> np.ndarray:
    """Run the greedy policies of K agents for ``episodes`` episodes each, all side by side.

    Args:
        env_id: Gymnasium id.
        q_values: Maps observations ``(K, episodes, obs_dim)`` to Q-values
            ``(K, episodes, n_actions)``.
        seeds: One seed per agent; agent ``k``'s start states come from ``(seeds[k], salt)``,
            so the same agent meets the same start states each time, whoever else is evaluated.
        episodes: Episodes per agent.
        salt: Separates evaluation streams (training-time vs final evaluation).

    Returns:
        ``(K, episodes)`` undiscounted returns.
    """
    if _is_plain_cartpole(env_id):
        return _cartpole_greedy_returns(env_id, q_values, seeds, episodes, salt)
    k, e = len(seeds), episodes
    envs = [gym.make(env_id) for _ in range(k * e)]
    episode_seeds = [s for seed in seeds for s in _episode_seeds(seed, e, salt)]
    obs = np.stack([env.reset(seed=s)[0] for env, s in zip(envs, episode_seeds, strict=True)])
    obs = obs.astype(np.float32)
    returns = np.zeros(k * e)
    alive = list(range(k * e))
    while alive:
        actions = q_values(torch.from_numpy(obs).reshape(k, e, -1)).argmax(-1).reshape(-1)
        actions = actions.tolist()
        still = []
        for i in alive:
            next_obs, reward, terminated, truncated, _ = envs[i].step(actions[i])
            returns[i] += reward
            obs[i] = next_obs
            if not (terminated or truncated):
                still.append(i)
        alive = still
    for env in envs:
        env.close()
    return returns.reshape(k, e)


def _is_plain_cartpole(env_id: str) -> bool:
    spec = gym.spec(env_id)
    return str(spec.entry_point).endswith("CartPoleEnv") and not spec.kwargs


def _cartpole_greedy_returns(
    env_id: str,
    q_values: Callable[[torch.Tensor], torch.Tensor],
    seeds: Sequence[int],
    episodes: int,
    salt: int,
) -> np.ndarray:
    """:func:`evaluate_greedy` for CartPole, on Gymnasium's NumPy-vectorised CartPole.

    All K x episodes poles are simulated in one array (same equations as ``CartPole-v1``),
    about 50x faster than stepping that many envs one by one. Each agent's start states are
    drawn from its own ``(seed, salt)`` generator, so they don't depend on the other agents.
    """
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    k, e = len(seeds), episodes
    venv = CartPoleVectorEnv(num_envs=k * e, max_episode_steps=gym.spec(env_id).max_episode_steps)
    venv.reset(seed=0)
    starts = np.concatenate(
        [np.random.default_rng([seed, salt]).uniform(-0.05, 0.05, (e, 4)) for seed in seeds]
    )
    venv.state = starts.T.copy()  # the documented start distribution, drawn per agent
    obs = starts.astype(np.float32)
    returns = np.zeros(k * e)
    alive = np.ones(k * e, dtype=bool)
    while alive.any():
        actions = q_values(torch.from_numpy(obs).reshape(k, e, -1)).argmax(-1).reshape(-1)
        obs, reward, terminated, truncated, _ = venv.step(actions.numpy())
        returns += reward * alive
        alive &= ~(terminated | truncated)
    venv.close()
    return returns.reshape(k, e)


# --- the single-agent trainer ----------------------------------------------------------------


def _check_env(env: gym.Env) -> tuple[int, int]:
    if not isinstance(env.action_space, gym.spaces.Discrete):
        raise ValueError(
            f"DQN needs a discrete action space (one Q-value per action), got {env.action_space}"
        )
    space = env.observation_space
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(f"observations must be a flat Box (a vector), got {space}")
    return int(space.shape[0]), int(env.action_space.n)


def _check_train_args(env_id: str, config: DQNConfig) -> None:
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string, got {type(env_id).__name__}")
    if not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
    config.validate()


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """One seed -> independent generators for exploration and for replay sampling."""
    explore, replay = np.random.SeedSequence(seed).spawn(2)
    return np.random.default_rng(explore), np.random.default_rng(replay)


class _Recorder:
    """Collects a run's history in preallocated arrays (no per-step list appends)."""

    def __init__(self, config: DQNConfig, n_agents: int, device: torch.device | None = None):
        n_updates = config.total_steps // config.train_frequency + 1
        self.losses = torch.zeros(n_updates, n_agents, device=device)
        self.max_q = torch.zeros(n_updates, n_agents, device=device)
        self.update_steps = np.zeros(n_updates, dtype=np.int64)
        self.n_updates = 0
        self.episodes: list[list[tuple[float, int, int]]] = [[] for _ in range(n_agents)]
        self.evals: list[list[tuple[int, float]]] = [[] for _ in range(n_agents)]

    def record_update(self, step: int, losses: torch.Tensor, max_q: torch.Tensor) -> None:
        """Keep one update's loss and largest Q-value (per agent)."""
        i = self.n_updates
        self.losses[i], self.max_q[i] = losses.detach(), max_q.detach()
        self.update_steps[i] = step
        self.n_updates += 1

    def history(self, k: int, upto_step: int, solved: float | None, wall: float) -> History:
        n = int(np.searchsorted(self.update_steps[: self.n_updates], upto_step, side="right"))
        ep = [e for e in self.episodes[k] if e[2] <= upto_step]
        ev = [e for e in self.evals[k] if e[0] <= upto_step]
        eval_steps = np.array([s for s, _ in ev], dtype=np.int64)
        eval_returns = np.array([r for _, r in ev], dtype=np.float64)
        solved_step = None
        if solved is not None and (eval_returns >= solved).any():
            solved_step = int(eval_steps[np.argmax(eval_returns >= solved)])
        return History(
            episode_returns=np.array([e[0] for e in ep], dtype=np.float64),
            episode_lengths=np.array([e[1] for e in ep], dtype=np.int64),
            episode_end_steps=np.array([e[2] for e in ep], dtype=np.int64),
            update_steps=self.update_steps[:n].copy(),
            losses=self.losses[:n, k].cpu().numpy().astype(np.float64),
            max_q=self.max_q[:n, k].cpu().numpy().astype(np.float64),
            eval_steps=eval_steps,
            eval_returns=eval_returns,
            solved_step=solved_step,
            wall_seconds=wall,
        )


def _set_learning_rate(optimizer: torch.optim.Optimizer, config: DQNConfig, step: int) -> None:
    """Anneal the step size linearly to ``learning_rate_end`` (if set) by ``total_steps``."""
    if config.learning_rate_end is None:
        return
    fraction = min(step / config.total_steps, 1.0)
    lr = config.learning_rate + fraction * (config.learning_rate_end - config.learning_rate)
    for group in optimizer.param_groups:
        group["lr"] = lr


def _every_100_steps(optimizer, config: DQNConfig, step: int, bar: tqdm) -> None:
    """Anneal the learning rate every 100 steps; move the progress bar on every 1,000."""
    if step % 100 == 0:
        _set_learning_rate(optimizer, config, step)
        if step % 1000 == 0:
            bar.update(1000)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch threads, then restore the previous setting.

    The course's networks are tiny: one thread is faster than several (threads cost more to
    wake than the work they share), and on a busy 2-core machine extra threads only fight.
    """
    check_int("n", n, minimum=1)
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def flush_denormal() -> Iterator[None]:
    """Run the block with denormal floats treated as zero (PyTorch's default restored after).

    Adam keeps a running mean of squared gradients; for weights whose gradient is almost
    always zero (a ReLU unit that never fires) it decays below 1e-38, into the denormal range,
    which the CPU handles in slow microcode: on this course's networks that made Adam's step
    about 5x slower. Flushing them changes no weight: such an update is ``m / (sqrt(v) + 1e-8)``
    with ``m`` just as tiny, far below a float32 weight's resolution.
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


def _optimizer(params, config: DQNConfig) -> torch.optim.Optimizer:
    # Adam is element-wise, so on stacked weights it is K independent Adams. The fused kernel
    # does the whole step in one call: about 3x faster than the default on small networks.
    return torch.optim.Adam(params, lr=config.learning_rate, fused=True)


class _StackedAdam:
    """``torch.optim.Adam(params, lr, fused=True)`` for the stacked networks, without the wrapper.

    The same functional ``torch.optim.adam.adam`` call with the same fused kernel, defaults and
    state, so the numbers are identical (tested); only ``Optimizer.step``'s per-call
    bookkeeping (hooks, profiler ranges, state lookups) is skipped, which costs more than the
    update itself when it runs 50,000 times. ``param_groups[0]["lr"]`` sets the step size.
    """

    def __init__(self, params: list[torch.Tensor], lr: float):
        self.params = params
        self.param_groups = [{"lr": lr}]
        self.exp_avgs = [torch.zeros_like(p) for p in params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        adam_update(
            self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps, fused=True,
            amsgrad=False, beta1=0.9, beta2=0.999, lr=self.param_groups[0]["lr"],
            weight_decay=0.0, eps=1e-8, maximize=False,
        )  # fmt: skip


def train(
    env_id: str,
    config: DQNConfig,
    seed: int,
    *,
    progress: bool = True,
    callback: Callable[[int, QNetwork, QNetwork | None], None] | None = None,
    threads: int = 1,
) -> DQNRun:
    """Train one DQN agent on ``env_id`` and return the run.

    The loop, step by step: act epsilon-greedily; store ``(s, a, r, s', terminated)``; every
    ``train_frequency`` steps sample a minibatch and take one gradient step on the TD loss;
    every ``target_update_period`` steps sync the target network (if there is one).

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
        A :class:`DQNRun`.
    """
    _check_train_args(env_id, config)
    seed = check_seed("seed", seed)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    with torch_threads(threads), flush_denormal():
        return _train(env_id, config, seed, progress, callback)


def _train(
    env_id: str,
    config: DQNConfig,
    seed: int,
    progress: bool,
    callback: Callable[[int, QNetwork, QNetwork | None], None] | None,
) -> DQNRun:
    env = make_env(env_id)
    obs_dim, n_actions = _check_env(env)

    explore_rng, replay_rng = _streams(seed)
    torch.manual_seed(seed)
    q_network = QNetwork(obs_dim, n_actions, config.hidden_sizes)
    target_network = None
    if config.target_update_period is not None:
        target_network = copy.deepcopy(q_network).requires_grad_(False)
    optimizer = _optimizer(q_network.parameters(), config)
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,))
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
    rec = _Recorder(config, 1)
    block = _RandomBlocks([explore_rng], n_actions)

    start = time.perf_counter()
    global_step, interrupted, stop_step = 0, False, None
    obs, _ = env.reset(seed=seed)
    episode_return, episode_length = 0.0, 0
    bar = tqdm(total=config.total_steps, disable=not progress, desc=f"{env_id} seed {seed}")
    try:
        for global_step in range(1, config.total_steps + 1):
            # 1. act: epsilon-greedy in the online network
            u, random_action = block.next()
            if u[0] < epsilon(global_step - 1):
                action = int(random_action[0])
            else:
                with torch.no_grad():
                    action = int(q_network(torch.from_numpy(obs)).argmax())
            next_obs, reward, terminated, truncated, _ = env.step(action)
            # 2. remember: terminated (not truncated) decides whether s' has a future
            flag = _stored_terminal(terminated, truncated, config)
            buffer.add(obs, action, reward * config.reward_scale, next_obs, flag)
            episode_return += float(reward)
            episode_length += 1
            obs = next_obs
            if terminated or truncated:
                rec.episodes[0].append((episode_return, episode_length, global_step))
                obs, _ = env.reset()
                episode_return, episode_length = 0.0, 0
            # 3. learn: one gradient step on a sampled minibatch
            if global_step > config.learning_starts and global_step % config.train_frequency == 0:
                batch = buffer.sample(config.batch_size, replay_rng)
                targets = _targets(batch, q_network, target_network or q_network, config)
                q_all = q_network(batch.obs)
                q_taken = q_all.gather(1, batch.actions[:, None]).squeeze(1)
                loss = q_loss(q_taken, targets, config.loss)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm)
                optimizer.step()
                rec.record_update(global_step, loss, q_all.detach().max())
                if callback is not None:
                    callback(global_step, q_network, target_network)
            # 4. sync: refresh the frozen target network every C steps
            if target_network is not None and global_step % config.target_update_period == 0:
                _sync_target(target_network, q_network, config)
            # 5. evaluate the greedy policy now and then
            if config.eval_every and global_step % config.eval_every == 0:
                mean = _evaluate_during_training(env_id, q_network, [seed], config)[0]
                rec.evals[0].append((global_step, mean))
                if config.stop_when_solved and mean >= config.solved_return:
                    stop_step = global_step
                    break
            _every_100_steps(optimizer, config, global_step, bar)
    except KeyboardInterrupt:
        interrupted = True
        global_step -= 1  # the interrupted step may be half done; its data is in the buffer
    finally:
        bar.close()
        env.close()
    last = stop_step or global_step
    history = rec.history(0, last, config.solved_return, time.perf_counter() - start)
    return DQNRun(
        env_id, config, seed, q_network, history, last, interrupted, target_network=target_network
    )


def _evaluate_during_training(
    env_id: str, net: nn.Module, seeds: list[int], config: DQNConfig
) -> np.ndarray:
    """Mean greedy return per agent over ``config.eval_episodes`` episodes."""
    if isinstance(net, StackedQNetwork):
        device = net.weights[0].device
        q_values = lambda x: net(x.to(device)).cpu()
    else:
        q_values = lambda x: net(x[0])[None]
    returns = evaluate_greedy(env_id, q_values, seeds, config.eval_episodes, _EVAL_SALT_TRAINING)
    return returns.mean(axis=1)


class _RandomBlocks:
    """Exploration noise drawn in blocks per agent: ``(u, random_action)`` for each step.

    Drawing 4096 numbers at once is much cheaper than one call per step, and each agent has
    its own generator, so agent k's stream never depends on how many other agents there are.
    """

    SIZE = 4096

    def __init__(self, rngs: list[np.random.Generator], n_actions: int):
        self.rngs, self.n_actions, self.i = rngs, n_actions, self.SIZE

    def next(self) -> tuple[np.ndarray, np.ndarray]:
        if self.i == self.SIZE:
            self.u = np.stack([r.random(self.SIZE) for r in self.rngs], axis=1)
            self.a = np.stack([r.integers(self.n_actions, size=self.SIZE) for r in self.rngs], 1)
            self.i = 0
        i = self.i
        self.i += 1
        return self.u[i], self.a[i]


# --- K agents at once ----------------------------------------------------------------------


@torch.no_grad()
def _loss_and_grads(
    net: StackedQNetwork, obs: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor, loss: str
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """TD loss per agent, Q-values, and the gradient of the summed loss for the stacked MLP.

    Exactly what ``torch.autograd.grad(q_loss(...).sum(), net.parameters())`` returns (tested),
    written out: with K agents the autograd engine's bookkeeping cost a third of an update.
    Agent k's loss only involves slice k, so the gradient of the sum is each agent's own.

    Returns:
        ``(loss_per_agent (K,), q_all (K, batch, n_actions), grads)``; ``grads`` in the order
        of ``net.parameters()``.
    """
    q_all, inputs = net.forward_with_inputs(obs)
    index = actions[..., None]
    q_taken = q_all.gather(2, index).squeeze(2)
    loss_per_agent = q_loss(q_taken, targets, loss)
    # d(sum of per-agent means)/d(q_taken) = loss'(q_taken - targets) / batch
    d_mean = torch.ones_like(q_taken) / q_taken.shape[-1]
    if loss == "huber":
        g = torch.ops.aten.smooth_l1_loss_backward(d_mean, q_taken, targets, 0, 1.0)
    else:
        g = torch.ops.aten.mse_loss_backward(d_mean, q_taken, targets, 0)
    grad_q = torch.zeros_like(q_all).scatter_add_(2, index, g[..., None])  # taken action only
    return loss_per_agent, q_all, net.parameter_grads(inputs, grad_q)


def _clip_per_agent(grads: list[torch.Tensor], max_norm: float) -> None:
    """Clip each agent's gradient (slice k of every stacked gradient) to ``max_norm``, in place.

    Same rule as ``torch.nn.utils.clip_grad_norm_`` applied to each agent on its own.
    """
    sq = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0)
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


def train_many(
    env_id: str,
    config: DQNConfig,
    seeds: Sequence[int],
    *,
    progress: bool = True,
    callback: Callable[[int, StackedQNetwork, StackedQNetwork | None], None] | None = None,
    threads: int = 1,
    device: str | torch.device | None = None,
) -> list[DQNRun]:
    """Train ``len(seeds)`` independent agents at once and return one run per seed.

    Agent ``k`` is the agent :func:`train` would produce with ``seeds[k]``: same initial
    weights, environment, exploration and replay samples, so its episodes match (exactly while
    floating-point sums agree; batched matrix products may round differently in late digits).
    Nothing is shared between agents: K environments step together in a Gymnasium vector env,
    the K networks live in stacked weight tensors evaluated with batched matrix products, and
    the K replay buffers are one preallocated array.

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
        device: Where the stacked networks train; default :func:`default_device`. The
            returned runs' networks are on the CPU either way.

    Returns:
        A list of :class:`DQNRun`, in the order of ``seeds``.
    """
    _check_train_args(env_id, config)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise TypeError(f"seeds must be a non-empty sequence of ints, got {seeds!r}")
    seeds = [check_seed("seeds[i]", s) for s in seeds]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    device = default_device() if device is None else torch.device(device)
    with torch_threads(threads), flush_denormal():
        return _train_many(env_id, config, seeds, progress, callback, device)


class _SyncEnvs:
    """K copies of any Gymnasium env, one per agent, stepped together.

    ``step`` returns ``(obs, final_obs, rewards, terminated, truncated)``: ``obs`` is where each
    agent acts next (already reset where an episode ended), ``final_obs`` the true ``s'``.
    """

    def __init__(self, env_id: str, seeds: list[int]):
        self.envs = gym.vector.SyncVectorEnv(
            [lambda: gym.make(env_id)] * len(seeds),
            autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
        )
        self.seeds = seeds

    def reset(self) -> np.ndarray:
        return self.envs.reset(seed=self.seeds)[0]

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        obs, rewards, terminated, truncated, infos = self.envs.step(actions)
        final_obs = obs
        if (terminated | truncated).any():  # the vector env already reset these
            final_obs = obs.copy()
            for k in np.flatnonzero(terminated | truncated):
                final_obs[k] = infos["final_obs"][k]
        return obs, final_obs, rewards, terminated, truncated

    def close(self) -> None:
        self.envs.close()


class _CartPoles:
    """K ``CartPole`` envs as one NumPy array (Gymnasium's ``CartPoleVectorEnv``).

    Same equations as K separate ``gym.make`` envs, bit for bit (tested), at a third of the
    cost. Each pole is reset here, from its own generator seeded as a single env's
    ``reset(seed=...)`` seeds it, so agent k's episodes are the ones :func:`train` sees and do
    not depend on the other agents. Interface as :class:`_SyncEnvs`.
    """

    def __init__(self, env_id: str, seeds: list[int]):
        from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

        limit = gym.spec(env_id).max_episode_steps or np.iinfo(np.int32).max
        self.venv = CartPoleVectorEnv(num_envs=len(seeds), max_episode_steps=limit)
        self.venv.reset(seed=0)
        self.rngs = [gym.utils.seeding.np_random(s)[0] for s in seeds]

    def _start(self, k: int) -> np.ndarray:
        return self.rngs[k].uniform(low=-0.05, high=0.05, size=(4,))  # as CartPoleEnv.reset

    def reset(self) -> np.ndarray:
        self.venv.state = np.stack([self._start(k) for k in range(len(self.rngs))], axis=1)
        return self.venv.state.T.astype(np.float32)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, ...]:
        final_obs, rewards, terminated, truncated, _ = self.venv.step(actions)
        obs, done = final_obs, terminated | truncated
        if done.any():
            obs = final_obs.copy()
            for k in np.flatnonzero(done):
                self.venv.state[:, k] = self._start(k)
                obs[k] = self.venv.state[:, k]
            self.venv.steps[done] = 0
            self.venv.prev_done[:] = False  # we reset them: the library's autoreset must not
        return obs, final_obs, rewards, terminated, truncated

    def close(self) -> None:
        self.venv.close()


def _train_many(
    env_id: str,
    config: DQNConfig,
    seeds: list[int],
    progress: bool,
    callback: Callable[[int, StackedQNetwork, StackedQNetwork | None], None] | None,
    device: torch.device,
) -> list[DQNRun]:
    k_agents = len(seeds)
    with contextlib.closing(gym.make(env_id)) as probe:
        obs_dim, n_actions = _check_env(probe)
    envs = (_CartPoles if _is_plain_cartpole(env_id) else _SyncEnvs)(env_id, seeds)

    streams = [_streams(s) for s in seeds]
    nets = []
    for s in seeds:
        torch.manual_seed(s)
        nets.append(QNetwork(obs_dim, n_actions, config.hidden_sizes))
    q_network = StackedQNetwork(nets).to(device)
    target_network = None
    if config.target_update_period is not None:
        target_network = copy.deepcopy(q_network).requires_grad_(False)
    params = list(q_network.parameters())
    optimizer = _StackedAdam(params, config.learning_rate)
    buffer = ReplayBuffer(config.buffer_size, (obs_dim,), n_agents=k_agents)
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
    rec = _Recorder(config, k_agents, device)
    block = _RandomBlocks([e for e, _ in streams], n_actions)
    replay_rngs = [r for _, r in streams]
    rows = torch.arange(k_agents, device=device)[:, None]
    columns = torch.arange(config.batch_size, device=device)

    start = time.perf_counter()
    global_step, interrupted = 0, False
    stopped: dict[int, tuple[int, QNetwork]] = {}
    obs = envs.reset().astype(np.float32)
    episode_return = np.zeros(k_agents)
    episode_length = np.zeros(k_agents, dtype=np.int64)
    bar = tqdm(total=config.total_steps, disable=not progress, desc=f"{env_id} x{k_agents}")
    try:
        for global_step in range(1, config.total_steps + 1):
            u, random_action = block.next()
            with torch.no_grad():
                q = q_network(torch.from_numpy(obs).to(device)[:, None])
                greedy = q.argmax(-1)[:, 0].cpu().numpy()
            actions = np.where(u < epsilon(global_step - 1), random_action, greedy)
            next_obs, final_obs, rewards, terminated, truncated = envs.step(actions)
            done = terminated | truncated
            flag = _stored_terminal(terminated, truncated, config)
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
                targets = _targets(batch, q_network, target_network or q_network, config)
                if "gradient_through_target" in config.bugs:  # autograd follows the bug's path
                    q_all = q_network(batch.obs)
                    q_taken = q_all[rows, columns, batch.actions]
                    loss_per_agent = q_loss(q_taken, targets, config.loss)
                    for p in params:
                        p.grad = None
                    loss_per_agent.sum().backward()
                    grads = [p.grad for p in params]
                else:  # the same numbers, without autograd's bookkeeping
                    loss_per_agent, q_all, grads = _loss_and_grads(
                        q_network, batch.obs, batch.actions, targets, config.loss
                    )
                if config.max_grad_norm is not None:
                    _clip_per_agent(grads, config.max_grad_norm)
                optimizer.step(grads)
                rec.record_update(global_step, loss_per_agent, q_all.flatten(1).amax(1))
                if callback is not None:
                    callback(global_step, q_network, target_network)
            if target_network is not None and global_step % config.target_update_period == 0:
                _sync_target(target_network, q_network, config)
            if config.eval_every and global_step % config.eval_every == 0:
                means = _evaluate_during_training(env_id, q_network, seeds, config)
                for k, mean in enumerate(means):
                    if k not in stopped:
                        rec.evals[k].append((global_step, float(mean)))
                        if config.stop_when_solved and mean >= config.solved_return:
                            stopped[k] = (global_step, q_network.network(k))
                if len(stopped) == k_agents:
                    break
            _every_100_steps(optimizer, config, global_step, bar)
    except KeyboardInterrupt:
        interrupted = True
        global_step -= 1
    finally:
        bar.close()
        envs.close()
    wall = time.perf_counter() - start
    runs = []
    for k, s in enumerate(seeds):
        last, net = stopped.get(k, (global_step, None))
        if net is None:
            net = q_network.network(k)
        target = target_network.network(k) if target_network is not None else None
        history = rec.history(k, last, config.solved_return, wall)
        runs.append(DQNRun(env_id, config, s, net, history, last, interrupted, target))
    return runs


# --- checkpoints ---------------------------------------------------------------------------


def save(run: DQNRun, path: str | Path) -> Path:
    """Save the trained network with its config to ``path`` (a ``torch.save`` file).

    The file holds only tensors and plain Python values, so :func:`load` can read it with
    ``torch.load(..., weights_only=True)``.
    """
    if not isinstance(run, DQNRun):
        raise TypeError(f"run must be a DQNRun, got {type(run).__name__}")
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    net = run.q_network
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "env_id": run.env_id,
            "seed": run.seed,
            "global_step": run.global_step,
            "config": run.config.to_dict(),
            "obs_dim": net.obs_dim,
            "n_actions": net.n_actions,
            "state_dict": net.state_dict(),
        },
        path,
    )
    return path


def load(path: str | Path) -> DQNRun:
    """Load a run saved by :func:`save` (weights only; the history is empty).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a course checkpoint.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        data = torch.load(path, weights_only=True)
    except Exception as exc:  # pickle, zip and unpickler errors all mean the same here
        raise ValueError(f"{path} is not a DQN checkpoint saved by utils.dqn.save: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a DQN checkpoint saved by utils.dqn.save")
    config = DQNConfig.from_dict(data["config"])
    net = QNetwork(data["obs_dim"], data["n_actions"], config.hidden_sizes)
    net.load_state_dict(data["state_dict"])
    empty = np.zeros(0)
    history = History(*([empty] * 8))
    return DQNRun(data["env_id"], config, data["seed"], net, history, data["global_step"])


def impossible_q_bound(gamma: float, max_steps: int, max_reward: float = 1.0) -> float:
    """Return the largest discounted return possible: ``max_reward * (1 - gamma**T) / (1 - gamma)``.

    For CartPole-v1 (reward 1 per step, at most 500 steps) with gamma = 0.99 this is 99.34;
    no episode can earn more from its start state.

    A learner that (correctly) bootstraps through time-limit truncation estimates the return
    of an episode that never ends, whose cap is ``max_reward / (1 - gamma)`` = 100 here: values
    just under 100 in late training are that fixed point, not divergence. Values well above
    100 are impossible either way.
    """
    check_probability("gamma", gamma)
    check_int("max_steps", max_steps, minimum=1)
    check_float("max_reward", max_reward)
    if gamma == 1.0:
        return max_reward * max_steps
    return max_reward * (1 - gamma**max_steps) / (1 - gamma)


__all__ = [
    "DQNConfig",
    "DQNRun",
    "History",
    "double_dqn_target",
    "evaluate_greedy",
    "hard_update",
    "impossible_q_bound",
    "load",
    "q_loss",
    "save",
    "soft_update",
    "td_target",
    "train",
    "train_many",
]
