"""Lesson 6's code-level bug hunt: a short DQN loop with a silent bug, and its checker.

The notebook shows :data:`BUGGY_LOOP`, a plain training loop in CleanRL's shape that runs
without an error and yet learns nothing useful. The learner copies it, finds the bug, fixes
it, and :func:`check_bug_hunt` runs the fixed loop briefly, next to :func:`reference_loop`
and to the loop with each catalogued mistake (:data:`LOOP_MISTAKES`), and says which it
behaves like. The loop is written once, as the learner sees it; the reference and the
mistakes are that text with one line changed, so they cannot drift apart.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from utils._checks import check_callable, check_int, check_seed
from utils.config import cartpole_config
from utils.exercise import CORRECT, ERROR, NOT_ATTEMPTED, WRONG, Verdict
from utils.networks import QNetwork, flush_denormal, torch_threads
from utils.replay import ReplayBuffer
from utils.schedules import LinearSchedule

__all__ = [
    "BUGGY_LOOP",
    "CHECK_STEPS",
    "FIX",
    "HUNT_SOLUTION",
    "LOOP_MISTAKES",
    "check_bug_hunt",
    "reference_loop",
]

CHECK_STEPS = 2_000
"""Environment steps the checker runs (updates start after ``learning_starts``)."""

BUGGY_LOOP = """\
def buggy_dqn(seed=0, total_steps=2_000):
    config = cartpole_config()
    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    q_network = QNetwork(4, 2, config.hidden_sizes)
    target_network = copy.deepcopy(q_network)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=config.learning_rate)
    buffer = ReplayBuffer(config.buffer_size, (4,))
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
    losses, returns, episode_return = [], [], 0.0
    obs, _ = env.reset(seed=seed)
    for global_step in range(1, total_steps + 1):
        # act: epsilon-greedy in the online network
        if rng.random() < epsilon(global_step - 1):
            action = int(rng.integers(2))
        else:
            with torch.no_grad():
                action = int(q_network(torch.from_numpy(obs)).argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        # remember: terminated (not truncated) says whether s' has a future
        buffer.add(obs, action, reward, next_obs, terminated)
        obs, episode_return = next_obs, episode_return + float(reward)
        if terminated or truncated:
            returns.append(episode_return)
            obs, _ = env.reset()
            episode_return = 0.0
        # learn: y = r + gamma (1 - terminated) max_a' Q_target(s', a'), squared error
        if global_step > config.learning_starts:
            batch = buffer.sample(config.batch_size, rng)
            with torch.no_grad():
                next_q = target_network(batch.next_obs).max(dim=1).values
                td_target = batch.rewards + config.gamma * (1.0 - batch.terminated) * next_q
            q_taken = q_network(batch.obs).gather(1, batch.actions.unsqueeze(1))
            loss = ((q_taken - td_target) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        # sync: copy the online network into the target network every C steps
        if global_step % config.target_update_period == 0:
            target_network.load_state_dict(q_network.state_dict())
    env.close()
    return {"losses": losses, "returns": returns}
"""
"""The loop the notebook shows: it runs, and its bug is the catalogue's ``"broadcast"``.

It is also the one text of every loop here: :func:`reference_loop` runs it with the bug
fixed (:data:`FIX`), and each mistake of :data:`LOOP_MISTAKES` changes one line of that.
"""

FIX = (
    "q_taken = q_network(batch.obs).gather(1, batch.actions.unsqueeze(1))\n",
    "q_taken = q_network(batch.obs).gather(1, batch.actions.unsqueeze(1)).squeeze(1)\n",
)
"""``(buggy line, fixed line)``: the one change that turns :data:`BUGGY_LOOP` into the reference."""

LOOP_MISTAKES: dict[str, str] = {
    "broadcast": "q_taken has shape (batch, 1) and td_target (batch,): their difference "
    "broadcasts to (batch, batch), so every Q(s, a) is pulled towards the average target of "
    "the whole minibatch. Print the shapes of q_taken and td_target.",
    "max_over_batch": "`.max()` without `dim=1` takes one number, the largest Q of the whole "
    "minibatch, as every transition's next value. Take the max over actions, per row.",
    "no_terminal_mask": "the target bootstraps from terminal states: keep (1 - terminated).",
    "online_network_target": "the target comes from q_network, not target_network: that is "
    "one network chasing its own prediction.",
}
"""Mistakes the checker recognises: name -> what is wrong and how to see it."""

_MISTAKE_EDITS: dict[str, tuple[str, str]] = {
    "broadcast": (FIX[1], FIX[0]),
    "max_over_batch": (".max(dim=1).values\n", ".max()\n"),
    "no_terminal_mask": (" * (1.0 - batch.terminated) * ", " * "),
    "online_network_target": ("next_q = target_network(", "next_q = q_network("),
}
"""Each mistake as ``(text of the reference loop, what the mistake writes instead)``."""


@functools.cache
def _compiled_loop(mistake: str | None) -> Callable[..., dict[str, list[float]]]:
    """Compile :data:`BUGGY_LOOP` with the fix and then ``mistake``'s edit (each edits 1 place)."""
    source = BUGGY_LOOP
    for old, new in (FIX, *([_MISTAKE_EDITS[mistake]] if mistake is not None else [])):
        if source.count(old) != 1:
            raise RuntimeError(f"the loop must hold {old!r} exactly once to edit it")
        source = source.replace(old, new)
    namespace: dict[str, Any] = dict(
        copy=copy, gym=gym, np=np, torch=torch, cartpole_config=cartpole_config,
        QNetwork=QNetwork, ReplayBuffer=ReplayBuffer, LinearSchedule=LinearSchedule,
    )  # fmt: skip
    exec(compile(source, f"<lesson 6 loop, mistake={mistake}>", "exec"), namespace)
    return namespace["buggy_dqn"]


def reference_loop(
    seed: int = 0, total_steps: int = CHECK_STEPS, *, mistake: str | None = None
) -> dict[str, list[float]]:
    """Train DQN on CartPole-v1 with a plain loop; return ``{"losses", "returns"}``.

    The loop of :data:`BUGGY_LOOP` with its bug fixed (:data:`FIX`), run as it is written
    there: :func:`~utils.config.cartpole_config`'s settings, the squared loss and a constant
    learning rate, to stay short.

    Args:
        seed: Seeds the network, exploration, replay sampling and the environment.
        total_steps: Environment steps (>= 1).
        mistake: ``None`` (correct) or a name of :data:`LOOP_MISTAKES` to build in (one line
            of the loop changed).

    Returns:
        ``{"losses": loss of each update, "returns": return of each finished episode}``.

    Raises:
        TypeError, ValueError: On a bad argument.
    """
    seed = check_seed("seed", seed)
    total_steps = check_int("total_steps", total_steps, minimum=1)
    if mistake is not None and mistake not in LOOP_MISTAKES:
        raise ValueError(f"mistake must be None or one of {tuple(LOOP_MISTAKES)}, got {mistake!r}")
    return _compiled_loop(mistake)(seed=seed, total_steps=total_steps)


HUNT_SOLUTION = """\
q_taken = q_network(batch.obs).gather(1, batch.actions.unsqueeze(1)).squeeze(1)  # (batch,)
assert q_taken.shape == td_target.shape  # both (batch,): the loss pairs each Q with its target
loss = ((q_taken - td_target) ** 2).mean()"""
"""The fixed lines, as the notebook folds them in ``<details>``."""


@functools.lru_cache(maxsize=8)
def _trace(mistake: str | None, steps: int) -> tuple[float, ...]:
    with torch_threads(1), flush_denormal():
        return tuple(reference_loop(0, steps, mistake=mistake)["losses"])


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-4, atol=1e-6))


def check_bug_hunt(fn: Callable[..., Any], total_steps: int = CHECK_STEPS) -> Verdict:
    """Run the learner's fixed loop briefly and compare it with the reference loop.

    ``fn(seed=0, total_steps=total_steps)`` must return ``{"losses": [...], ...}`` like
    :data:`BUGGY_LOOP`. Its losses, update by update, are compared with those of
    :func:`reference_loop` (same seed, so the same transitions, while the two agree) and, if
    they differ, with those of each mistake of :data:`LOOP_MISTAKES`. Prints a friendly verdict
    naming what is still wrong and returns it.

    Args:
        fn: The learner's loop.
        total_steps: Environment steps to run (> ``learning_starts`` of ``cartpole_config``).

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError, ValueError: If ``fn`` is not callable or ``total_steps`` is too small.
    """
    check_callable("fn", fn)
    starts = cartpole_config().learning_starts
    total_steps = check_int("total_steps", total_steps, minimum=starts + 50)
    try:
        with torch_threads(1), flush_denormal():  # denormal floats: 5x slower, same numbers
            result = fn(seed=0, total_steps=total_steps)
        losses = np.asarray(result["losses"], dtype=float)
    except Exception as error:  # the learner's code: report, never raise
        line = ""
        try:
            line = f" (in {inspect.getsourcefile(fn)})"
        except TypeError:
            pass
        verdict = Verdict(
            ERROR,
            f"Your loop raised {type(error).__name__}: {error}{line}. It must return a dict "
            "with a list under 'losses', as the buggy loop does. Fix the error and run this "
            "cell again.",
        )
        print(verdict.message)
        return verdict
    reference = np.array(_trace(None, total_steps))
    if _same(losses, reference):
        verdict = Verdict(
            CORRECT,
            f"Correct! Your loop's {len(losses)} losses match the reference loop's, update by "
            "update: the bug is fixed.",
        )
    elif _same(losses, np.array(_trace("broadcast", total_steps))):
        verdict = Verdict(
            NOT_ATTEMPTED,
            "Not fixed yet: your loop computes the same losses as the buggy one. Hint: "
            "print the shape of every tensor in the learning step.",
            mistake="broadcast",
        )
    else:
        found = next(
            (m for m in LOOP_MISTAKES
             if m != "broadcast" and _same(losses, np.array(_trace(m, total_steps)))),
            None,
        )  # fmt: skip
        if found is not None:
            message = f"Not quite: your loop now has another bug: {LOOP_MISTAKES[found]}"
        else:
            n = min(len(losses), len(reference))
            differ = np.flatnonzero(~np.isclose(losses[:n], reference[:n], rtol=1e-4, atol=1e-6))
            where = f"update {int(differ[0]) + 1}" if len(differ) else f"length {len(losses)}"
            message = (
                f"Not quite: your loop's losses part from the reference loop's at {where} "
                f"(of {len(reference)}), and match no bug the checker knows. Change only the "
                "buggy line (same seed, same order of random draws), and keep the squared loss."
            )
        verdict = Verdict(WRONG, message, mistake=found)
    print(verdict.message)
    return verdict
