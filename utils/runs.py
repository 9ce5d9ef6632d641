"""A trained DQN agent with its history: greedy evaluation, and saving it to a file.

:func:`utils.train.train` returns a :class:`DQNRun`; so does :func:`load`. The names are
re-exported by :mod:`utils.dqn`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from utils._checks import check_callable, check_float, check_int, check_seed, check_str
from utils.config import DQNConfig
from utils.envs import require_dqn_env
from utils.networks import QNetwork
from utils.seeding import episode_seeds

CHECKPOINT_FORMAT = "dqn-course-checkpoint/1"
_FRESH_SEED_OFFSET = 1_000_003  # DQNRun.evaluate's default episodes: none seen in training


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

    @classmethod
    def empty(cls) -> History:
        """Return the history of a run that has none (one loaded from a checkpoint)."""
        return cls(*([np.zeros(0)] * 8))

    @classmethod
    def from_records(
        cls,
        episodes: list[tuple[float, int, int]],
        updates: Sequence[np.ndarray],
        evaluations: list[tuple[int, float]],
        *,
        upto_step: int,
        solved_return: float | None,
        wall_seconds: float,
    ) -> History:
        """Build a history from what a trainer recorded, keeping what happened by ``upto_step``.

        Args:
            episodes: ``(return, length, end_step)`` of each finished episode.
            updates: ``(steps, losses, max_q)`` arrays, one entry per gradient update.
            evaluations: ``(step, mean greedy return)`` of each evaluation.
            upto_step: Last step that counts (a run stopped early or interrupted).
            solved_return: Mean greedy return that counts as solved (None: not tracked).
            wall_seconds: Wall-clock time the training took.
        """
        upto_step = check_int("upto_step", upto_step, minimum=0)
        if solved_return is not None:
            check_float("solved_return", solved_return, finite=True)
        if not isinstance(updates, (Sequence, np.ndarray)) or len(updates) != 3:
            raise TypeError("updates must hold three arrays: (steps, losses, max_q)")
        steps, losses, max_q = (np.asarray(a) for a in updates)
        if not steps.shape == losses.shape == max_q.shape or steps.ndim != 1:
            raise ValueError(
                f"updates must be three 1-D arrays of one length, got shapes {steps.shape}, "
                f"{losses.shape}, {max_q.shape}"
            )
        keep = steps <= upto_step
        ep = [e for e in episodes if e[2] <= upto_step]
        ev = [e for e in evaluations if e[0] <= upto_step]
        eval_steps = np.array([s for s, _ in ev], dtype=np.int64)
        eval_returns = np.array([r for _, r in ev], dtype=np.float64)
        solved_step = None
        if solved_return is not None and (eval_returns >= solved_return).any():
            solved_step = int(eval_steps[np.argmax(eval_returns >= solved_return)])
        return cls(
            episode_returns=np.array([e[0] for e in ep], dtype=np.float64),
            episode_lengths=np.array([e[1] for e in ep], dtype=np.int64),
            episode_end_steps=np.array([e[2] for e in ep], dtype=np.int64),
            update_steps=steps[keep].astype(np.int64),
            losses=losses[keep].astype(np.float64),
            max_q=max_q[keep].astype(np.float64),
            eval_steps=eval_steps,
            eval_returns=eval_returns,
            solved_step=solved_step,
            wall_seconds=wall_seconds,
        )


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
        target_network: The target network as training left it (None without one).
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
        """Return the greedy action for one observation ``(obs_dim,)``."""
        obs = np.asarray(obs, dtype=np.float32)
        if obs.shape != (self.q_network.obs_dim,):
            raise ValueError(f"obs must have shape ({self.q_network.obs_dim},), got {obs.shape}")
        with torch.no_grad():
            q = self.q_network(torch.from_numpy(obs)[None])
        return int(q.argmax())

    def evaluate(self, episodes: int = 100, seed: int | None = None) -> np.ndarray:
        """Return the greedy policy's return in each of ``episodes`` fresh episodes.

        Args:
            episodes: Number of episodes (>= 1), run side by side.
            seed: Seed of the evaluation episodes; default: one derived from the run's seed
                that differs from the one evaluations during training use.
        """
        check_int("episodes", episodes, minimum=1)
        if seed is None:
            seed = (self.seed + _FRESH_SEED_OFFSET) % 2**32
        return evaluate_greedy(self.env_id, self.q_network, episodes, check_seed("seed", seed))


@torch.no_grad()
def evaluate_greedy(
    env_id: str,
    q_network: Callable[[torch.Tensor], torch.Tensor],
    episodes: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """Run the greedy policy of ``q_network`` for ``episodes`` episodes, side by side.

    Episode ``i`` starts from ``env.reset(seed=episode_seeds(seed, episodes)[i])``, so the
    same seed gives the same start states, and more episodes only add new ones.

    Args:
        env_id: Gymnasium id with a flat Box observation and a Discrete action space.
        q_network: Maps observations ``(batch, obs_dim)`` to Q-values ``(batch, n_actions)``.
        episodes: Number of episodes (>= 1).
        seed: Seed of the episodes' start states, in [0, 2**32 - 1].

    Returns:
        ``(episodes,)`` undiscounted returns.

    Raises:
        TypeError, ValueError: On a bad argument, or an env a DQN cannot act in.
    """
    check_str("env_id", env_id)
    check_callable("q_network", q_network)
    episodes = check_int("episodes", episodes, minimum=1)
    seeds = episode_seeds(check_seed("seed", seed), episodes)
    if env_id not in gym.registry:
        raise ValueError(f"env_id {env_id!r} is not a registered Gymnasium environment")
    envs = [gym.make(env_id) for _ in range(episodes)]
    with contextlib.ExitStack() as closing:
        for env in envs:
            closing.callback(env.close)
        _, n_actions = require_dqn_env(envs[0])
        obs = np.stack([env.reset(seed=s)[0] for env, s in zip(envs, seeds, strict=True)])
        obs = obs.astype(np.float32)
        returns = np.zeros(episodes)
        alive = list(range(episodes))
        while alive:
            q = q_network(torch.from_numpy(obs[alive]))
            if tuple(q.shape) != (len(alive), n_actions):
                raise ValueError(
                    f"q_network must return Q-values of shape (batch, {n_actions}), "
                    f"got {tuple(q.shape)}"
                )
            still = []
            for i, action in zip(alive, q.argmax(-1).tolist(), strict=True):
                next_obs, reward, terminated, truncated, _ = envs[i].step(action)
                returns[i] += reward
                obs[i] = next_obs
                if not (terminated or truncated):
                    still.append(i)
            alive = still
    return returns


# --- checkpoints ---------------------------------------------------------------------------


def save(run: DQNRun, path: str | Path) -> Path:
    """Save the trained network with its config to ``path`` (a ``torch.save`` file).

    The file holds only tensors and plain Python values, so :func:`load` can read it with
    ``torch.load(..., weights_only=True)``.
    """
    if not isinstance(run, DQNRun):
        raise TypeError(f"run must be a DQNRun, got {type(run).__name__}")
    if not isinstance(run.q_network, QNetwork):
        raise TypeError(f"run.q_network must be a QNetwork, got {type(run.q_network).__name__}")
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"path's folder {path.parent} does not exist")
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


_CHECKPOINT_KEYS = ("env_id", "seed", "global_step", "config", "obs_dim", "n_actions")


def load(path: str | Path) -> DQNRun:
    """Load a run saved by :func:`save` (weights only; the history is empty).

    Raises:
        TypeError: If ``path`` is not a str or Path.
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not a course checkpoint, or lacks part of one.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    not_ours = f"{path} is not a DQN checkpoint saved by utils.dqn.save"
    try:
        data = torch.load(path, weights_only=True)
    except Exception as exc:  # pickle, zip and unpickler errors all mean the same here
        raise ValueError(f"{not_ours}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(not_ours)
    missing = [k for k in (*_CHECKPOINT_KEYS, "state_dict") if k not in data]
    if missing:
        raise ValueError(f"{not_ours}: it lacks {missing}")
    try:
        config = DQNConfig.from_dict(data["config"])
        net = QNetwork(data["obs_dim"], data["n_actions"], config.hidden_sizes)
        net.load_state_dict(data["state_dict"])
        env_id = check_str("env_id", data["env_id"])
        seed = check_seed("seed", data["seed"])
        global_step = check_int("global_step", data["global_step"], minimum=0)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"{path} holds a broken checkpoint: {exc}") from exc
    return DQNRun(env_id, config, seed, net, History.empty(), global_step)
