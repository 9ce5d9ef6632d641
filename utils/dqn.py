"""The pieces of one DQN update: the TD target, the loss, and the target-network sync.

Lesson 3's single network computes its own target ``r + gamma * (1 - terminated) *
max_a' Q(s', a')``, which moves with every update; Lesson 4's DQN computes it with a frozen
copy that is refreshed every C steps (a hard copy with ``tau=1``, a Polyak average with
``tau<1``). :func:`utils.train.train` puts the pieces together into the reference loop.

For convenience this module also re-exports the config (:mod:`utils.config`) and the run,
its evaluation and checkpoints (:mod:`utils.runs`), so ``from utils.dqn import ...`` reaches
everything a lesson needs about DQN.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from utils._checks import check_choice, check_float, check_probability
from utils.config import LOSSES, DQNConfig, cartpole_config
from utils.runs import DQNRun, History, evaluate_greedy, load, save

__all__ = [
    "DQNConfig",
    "DQNRun",
    "History",
    "cartpole_config",
    "double_dqn_target",
    "evaluate_greedy",
    "hard_update",
    "impossible_q_bound",
    "load",
    "q_loss",
    "save",
    "soft_update",
    "td_target",
]


def _check_tensor(name: str, value: Any, *, min_dim: int = 1) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dimension(s), got {value.dim()}")
    return value


def _check_batch(rewards: Any, next_q: dict[str, Any], terminated: Any) -> None:
    """Check ``rewards``, ``terminated`` ``(..., batch)`` and next-state Q ``(..., batch, A)``."""
    _check_tensor("rewards", rewards)
    _check_tensor("terminated", terminated)
    if terminated.shape != rewards.shape:
        raise ValueError(
            f"terminated must have the shape of rewards {tuple(rewards.shape)}, "
            f"got {tuple(terminated.shape)}"
        )
    for name, q in next_q.items():
        _check_tensor(name, q, min_dim=2)
        if q.shape[:-1] != rewards.shape:
            raise ValueError(
                f"{name} must have shape (*rewards.shape, n_actions) = "
                f"{(*rewards.shape, 'n_actions')}, got {tuple(q.shape)}"
            )


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

    Raises:
        TypeError: If an input is not a floating-point tensor.
        ValueError: If the shapes do not match or ``gamma`` is outside [0, 1].
    """
    _check_batch(rewards, {"next_q_values": next_q_values}, terminated)
    gamma = check_probability("gamma", gamma)
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
    in :func:`td_target` (``next_q_online`` and ``next_q_target`` both
    ``(..., batch, n_actions)``).
    """
    _check_batch(
        rewards, {"next_q_online": next_q_online, "next_q_target": next_q_target}, terminated
    )
    if next_q_online.shape != next_q_target.shape:
        raise ValueError(
            f"next_q_online {tuple(next_q_online.shape)} and next_q_target "
            f"{tuple(next_q_target.shape)} must have the same shape"
        )
    gamma = check_probability("gamma", gamma)
    best = next_q_online.argmax(dim=-1, keepdim=True)
    return rewards + gamma * (1.0 - terminated) * next_q_target.gather(-1, best).squeeze(-1)


def q_loss(q_taken: torch.Tensor, targets: torch.Tensor, loss: str = "huber") -> torch.Tensor:
    """Return the TD loss per agent: mean over the last (batch) axis of Huber or squared error.

    Args:
        q_taken: ``(..., batch)`` Q(s, a) of the actions taken.
        targets: ``(..., batch)`` TD targets, the same shape (no gradient).
        loss: ``'huber'`` (smooth L1 with threshold 1) or ``'mse'`` (squared error).

    Returns:
        ``(...)`` the mean loss (a scalar tensor for one agent's ``(batch,)``).

    Raises:
        TypeError: If an input is not a floating-point tensor.
        ValueError: If the shapes differ or ``loss`` is not one of :data:`utils.config.LOSSES`.
    """
    _check_tensor("q_taken", q_taken)
    _check_tensor("targets", targets)
    if q_taken.shape != targets.shape:
        raise ValueError(
            f"q_taken {tuple(q_taken.shape)} and targets {tuple(targets.shape)} must have the "
            "same shape"
        )
    check_choice("loss", loss, LOSSES)
    if loss == "huber":
        per_sample = F.smooth_l1_loss(q_taken, targets, reduction="none")
    else:
        per_sample = F.mse_loss(q_taken, targets, reduction="none")
    return per_sample.mean(dim=-1)


def _paired_parameters(target: Any, online: Any) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Return the ``(target, online)`` parameter pairs after checking all of them match."""
    for name, net in (("target", target), ("online", online)):
        if not isinstance(net, nn.Module):
            raise TypeError(f"{name} must be a torch.nn.Module, got {type(net).__name__}")
    t_params, o_params = list(target.parameters()), list(online.parameters())
    if len(t_params) != len(o_params):
        raise ValueError(
            f"target and online must have the same parameters: {len(t_params)} vs "
            f"{len(o_params)} tensors (same architecture?)"
        )
    for i, (t, o) in enumerate(zip(t_params, o_params, strict=True)):
        if t.shape != o.shape:
            raise ValueError(
                f"target and online differ at parameter {i}: shape {tuple(t.shape)} vs "
                f"{tuple(o.shape)} (same architecture?)"
            )
    return list(zip(t_params, o_params, strict=True))


@torch.no_grad()
def hard_update(target: nn.Module, online: nn.Module) -> None:
    """Copy the online parameters into the target network: ``theta_bar <- theta``.

    Every pair of parameters is checked before anything is copied, so on an error the target
    is left as it was.
    """
    for t, o in _paired_parameters(target, online):
        t.copy_(o)


@torch.no_grad()
def soft_update(target: nn.Module, online: nn.Module, tau: float) -> None:
    """Polyak-average: ``theta_bar <- tau * theta + (1 - tau) * theta_bar`` for tau in (0, 1].

    Checked before anything changes, as :func:`hard_update`.
    """
    tau = check_float("tau", tau, low=0.0, high=1.0, low_inclusive=False)
    for t, o in _paired_parameters(target, online):
        t.lerp_(o, tau)


def impossible_q_bound(gamma: float, max_reward: float = 1.0) -> float:
    """Return the value no Q-estimate can honestly exceed: ``max_reward / (1 - gamma)``.

    This is the course's one bound, drawn as "impossible" on every figure. For CartPole-v1
    (reward 1 per step) with gamma = 0.99 it is 100: the discounted return of an episode that
    earns the largest reward at every step and never ends.

    Why not the smaller 99.34, the largest discounted return within CartPole's 500 steps? The
    observation does not include the clock, and a time-limit cut is not terminal, so a learner
    that bootstraps correctly through truncation estimates the return of an episode that goes
    on: for a perfect policy its fixed point is exactly 100. Values between 99.34 and 100 are
    that fixed point; a value above 100 is wrong under every policy.

    Raises:
        ValueError: If ``gamma`` is not in [0, 1) or ``max_reward`` is not a finite number
            greater than 0.
    """
    gamma = check_probability("gamma", gamma)
    if gamma >= 1.0:
        raise ValueError(f"gamma must be in [0, 1) for a bound to exist, got {gamma}")
    max_reward = check_float("max_reward", max_reward, finite=True)
    if max_reward <= 0:
        raise ValueError(f"max_reward must be greater than 0, got {max_reward}")
    return max_reward / (1 - gamma)
