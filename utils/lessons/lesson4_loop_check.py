"""Lesson 4 exercise: the checker of the learner's DQN loop, ``train_dqn(env, config, seed)``.

It runs the loop briefly on a CartPole whose episodes are cut after :data:`CUT_AFTER` steps
and looks at what it stored, reset and synced; re-exported by
:mod:`utils.lessons.lesson4_loop` with the other pieces' checkers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from utils.config import DQNConfig
from utils.exercise import NOT_ATTEMPTED, WRONG, Exercise, Verdict, is_stub
from utils.networks import QNetwork

__all__ = ["CUT_AFTER", "check_config", "check_train_dqn"]

# --------------------------------------------------------------------------------------

CUT_AFTER = 12
"""The checker's CartPole truncates episodes after this many steps (many cuts, few ends)."""


class _SpyCartPole:
    """CartPole-v1 truncated after :data:`CUT_AFTER` steps that counts what the loop does."""

    def __init__(self) -> None:
        import gymnasium as gym

        self.env = gym.make("CartPole-v1", max_episode_steps=CUT_AFTER)
        self.observation_space, self.action_space = (
            self.env.observation_space,
            self.env.action_space,
        )
        self.spec = self.env.spec
        self.terminated = self.truncated = self.steps = self.steps_after_end = 0
        self.needs_reset = True

    def reset(self, **kwargs: Any) -> Any:
        self.needs_reset = False
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> Any:
        if self.needs_reset:
            self.steps_after_end += 1
            self.env.reset()  # keep going, so the loop runs to its end and can be judged
        out = self.env.step(action)
        self.steps += 1
        self.terminated += bool(out[2])
        self.truncated += bool(out[3]) and not out[2]
        self.needs_reset = bool(out[2] or out[3])
        return out

    def close(self) -> None:
        self.env.close()


def check_config() -> DQNConfig:
    """The short run :func:`check_train_dqn` asks for: 700 steps, C = 100, no evaluation."""
    from utils.config import cartpole_config

    return cartpole_config(
        total_steps=750, learning_starts=200, target_update_period=100, batch_size=16,
        buffer_size=5_000, epsilon_decay_steps=300, eval_every=0,
    )  # fmt: skip


def _verdict(status: str, text: str, mistake: str | None = None) -> Verdict:
    return Verdict(status, text, mistake=mistake)


def check_train_dqn(fn: Callable[..., Any], *, verbose: bool = True) -> Verdict:
    """Check the learner's loop ``train_dqn(env, config, seed)``; print and return a verdict.

    It runs for :func:`check_config` (750 steps, C = 100) on a CartPole cut after
    :data:`CUT_AFTER` steps, then checks: every step stored; ``terminated`` stored, not
    ``truncated``; a reset after every episode end; the target network frozen, its own,
    synced (not equal to its first weights) but not at every step (not equal to the online
    network 50 steps after the last sync); and the online network trained.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    if not callable(fn):
        raise TypeError(f"fn must be a function (callable), got {type(fn).__name__}")
    verdict = _judge_loop(fn)
    if verbose:
        print(verdict.message)
    return verdict


def _judge_loop(fn: Callable[..., Any]) -> Verdict:
    name = "train_dqn"
    if is_stub(fn):
        return _verdict(
            NOT_ATTEMPTED,
            f"Not attempted yet: `{name}` still returns the stub's value.\n"
            "Replace the `...` with your code and run this cell again.",
        )
    env, config, seed = _SpyCartPole(), check_config(), 3
    torch.manual_seed(seed)
    first = QNetwork(4, 2, config.hidden_sizes)
    try:
        result = fn(env, config, seed)
    except NotImplementedError:
        return _verdict(NOT_ATTEMPTED, f"Not attempted yet: `{name}` raised NotImplementedError.")
    except Exception as error:  # the learner's code may raise anything
        check = Exercise(name=name, reference=fn, cases=())
        return check._error(error, ("a CartPole env", "check_config()", seed))
    if not isinstance(result, tuple) or len(result) != 4:
        return _verdict(WRONG, f"Not quite: `{name}` must return the tuple (q_network, "
                        "target_network, buffer, evaluations).", "wrong return value")  # fmt: skip
    q_network, target_network, buffer, _ = result
    problems = _loop_problems(env, config, first, q_network, target_network, buffer)
    if problems:
        mistake, hint = problems[0]
        return _verdict(WRONG, f"Not quite: it looks like you {mistake}.\n  Hint: {hint}", mistake)
    return _verdict(
        "correct",
        f"Correct! `{name}` stored all {config.total_steps} steps with `terminated` "
        f"({env.terminated} ends, {env.truncated} time-limit cuts), reset after each, trained "
        f"the online network and synced a frozen target every C = "
        f"{config.target_update_period} steps.",
    )


def _same_weights(a: Any, b: Any) -> bool:
    pa, pb = list(a.parameters()), list(b.parameters())
    return len(pa) == len(pb) and all(
        x.shape == y.shape and torch.equal(x, y) for x, y in zip(pa, pb, strict=True)
    )


def _loop_problems(env, config, first, q_network, target_network, buffer) -> list:
    problems = []
    if env.steps_after_end:
        problems.append(("kept stepping after an episode ended", "when `terminated or "
                         "truncated`, start a new episode: `obs, _ = env.reset()`."))  # fmt: skip
    stored = len(buffer) if hasattr(buffer, "__len__") else -1
    if stored != min(config.total_steps, config.buffer_size):
        problems.append(("did not store every step",
                         "add each transition to the buffer right after `env.step` "
                         f"({config.total_steps} steps, {stored} stored)."))  # fmt: skip
    flags = _stored_terminated(buffer)
    if flags is not None and flags == env.terminated + env.truncated and env.truncated:
        problems.append(("stored `terminated or truncated` as the end flag",
                         "a time-limit cut is not an end: the pole could have stayed up. "
                         "Store `terminated`."))  # fmt: skip
    elif flags is not None and flags != env.terminated:
        problems.append(("stored the wrong end flag", "store the `terminated` that `env.step` "
                         "returned for this transition."))  # fmt: skip
    nets = (q_network, target_network)
    if not all(isinstance(n, torch.nn.Module) for n in nets) or q_network is target_network:
        problems.append(("returned the same network twice (or no network)", "keep two networks: "
                         "`target_network = make_target_network(q_network)`."))  # fmt: skip
        return problems
    if any(p.requires_grad for p in target_network.parameters()):
        problems.append(("left the target network trainable", "freeze it: "
                         "`make_target_network` calls `requires_grad_(False)`."))  # fmt: skip
    if _same_weights(q_network, first):
        problems.append(("never trained the online network", "after `learning_starts` steps, "
                         "each step: sample, loss, `zero_grad`, `backward`, `step`."))  # fmt: skip
    elif _same_weights(target_network, first):
        problems.append(("never synced the target network", "every C steps "
                         "(`global_step % config.target_update_period == 0`) copy the online "
                         "network into it: `sync(target_network, q_network)`."))  # fmt: skip
    elif _same_weights(target_network, q_network):
        problems.append(("synced at every step (or shared the weights)", "sync only when "
                         "`global_step % config.target_update_period == 0`; between syncs the "
                         "labels must stay still."))  # fmt: skip
    return problems


def _stored_terminated(buffer: Any) -> int | None:
    """The number of stored end flags, read through ``sample``-free attributes if any."""
    for name in ("terminated", "terminateds", "dones"):
        value = getattr(buffer, name, None)
        if value is not None:
            try:
                return int(np.asarray(value, dtype=float)[: len(buffer)].sum())
            except (TypeError, ValueError):
                return None
    return None
