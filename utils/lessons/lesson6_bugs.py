"""Lesson 6's deliberate bugs, kept out of the correct code, and how to train them all at once.

Three bugs of the algorithm are named switches of :func:`utils.engine.train_many` (as rlax's
``stop_target_gradients`` flag), never a branch of the reference trainer
:func:`utils.train.train`: :data:`BUGS`, switched on by :func:`train_with_bug`. The others
are wrong settings of a correct agent (:data:`SETTING_BUGS`): a changed config, or CartPole
with scaled observations. :func:`train_gallery` trains the correct agent and any of them
together, in as few batches as the engine allows.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from utils._checks import check_choice, check_float, check_int, check_str
from utils.config import DQNConfig
from utils.engine import train_many
from utils.engine.settings import SHARED_FIELDS
from utils.engine.vector_envs import check_seeds
from utils.runs import DQNRun

BUGS: dict[str, str] = {
    "bootstrap_on_truncated": "stores terminated OR truncated as the terminal flag, so a "
    "time-limit cut is treated as the end of the world",
    "no_terminal_mask": "bootstraps from terminal states too: y = r + gamma * max Q(s', .)",
    "gradient_through_target": "computes the target with gradient on, so the update also "
    "moves the target (only matters when the online network makes the target)",
}
"""The bugs :func:`train_with_bug` can switch on, with what each does wrong."""

BUG_SWITCHES: dict[str, dict[str, Any]] = {
    "bootstrap_on_truncated": {"terminal_flag": "terminated_or_truncated"},
    "no_terminal_mask": {"mask_terminal": False},
    "gradient_through_target": {"stop_target_gradients": False},
}
"""The keyword arguments of :func:`utils.engine.train_many` each bug sets."""

SETTING_BUGS: dict[str, str] = {
    "never_sync": "never copies the online network into the target network",
    "sync_every_step": "copies it after every step: one network (target_update_period=None)",
    "epsilon_never_decays": "explores at random forever (epsilon_end = epsilon_start = 1)",
    "learning_before_data": "starts learning as soon as the buffer holds one batch",
    "reward_scale_100": "multiplies every reward by 100",
    "observation_scale_100": "multiplies every observation by 100 (as if metres were cm)",
}
"""Bugs that are wrong settings of a correct agent: name -> what it does wrong."""

GALLERY: dict[str, str] = {**BUGS, **SETTING_BUGS}
"""Every bug of the Lesson 6 gallery: name -> what it does wrong."""

CORRECT_NAME = "correct"
"""The name :func:`train_gallery` gives the correct agent."""


def bug_switches(bug: str | Sequence[str]) -> dict[str, Any]:
    """Return the ``train_many`` keyword arguments that switch on ``bug`` (a name or several).

    Raises:
        TypeError: If ``bug`` is neither a name nor a sequence of names.
        ValueError: If a name is not one of :data:`BUGS`.
    """
    names = [bug] if isinstance(bug, str) else bug
    if not isinstance(names, Sequence) or not names:
        raise TypeError(f"bug must be a name from {tuple(BUGS)} or a list of them, got {bug!r}")
    switches: dict[str, Any] = {}
    for name in names:
        switches.update(BUG_SWITCHES[check_choice("bug", name, tuple(BUGS))])
    return switches


def train_with_bug(
    env_id: str, config: DQNConfig, seeds: Sequence[int], bug: str | Sequence[str], **kwargs: Any
) -> list[DQNRun]:
    """Train ``len(seeds)`` agents with ``bug`` switched on; otherwise as :func:`train_many`.

    Args:
        env_id: As :func:`utils.engine.train_many`.
        config: As :func:`utils.engine.train_many` (one config, or one per seed).
        seeds: As :func:`utils.engine.train_many`.
        bug: A name from :data:`BUGS`, or a list of names to switch on together.
        **kwargs: Other keyword arguments of :func:`utils.engine.train_many` (``progress``,
            ``callback``, ``threads``, ``device``).

    Returns:
        One :class:`~utils.runs.DQNRun` per seed.

    Raises:
        TypeError: If a keyword argument is one a bug sets, or unknown to ``train_many``.
        ValueError: If ``bug`` is not a known name.
    """
    switches = bug_switches(bug)
    clash = sorted(set(kwargs) & {k for s in BUG_SWITCHES.values() for k in s})
    if clash:
        raise TypeError(f"train_with_bug sets {clash} itself (through bug); do not pass them")
    return train_many(env_id, config, seeds, **switches, **kwargs)


def _scaled_cartpole(scale: float, max_episode_steps: int | None) -> gym.Env:
    env = gym.make("CartPole-v1", max_episode_steps=max_episode_steps)
    space = env.observation_space
    scaled = gym.spaces.Box(space.low * scale, space.high * scale, dtype=np.float32)
    return gym.wrappers.TransformObservation(
        env, lambda obs: (scale * obs).astype(np.float32), scaled
    )


def cartpole_variant(*, max_episode_steps: int = 500, observation_scale: float = 1.0) -> str:
    """Register CartPole with another time limit or scaled observations; return its id.

    A short time limit lets truncation happen often in a short run (plain CartPole, so the
    engine's fast path still applies); scaled observations are CartPole measured in other
    units. Registering the same variant again returns the same id.

    Args:
        max_episode_steps: The time limit (>= 1; CartPole-v1's is 500).
        observation_scale: Every observation is multiplied by this (> 0).

    Returns:
        The Gymnasium id, e.g. ``"CartPole-limit50-v1"`` or ``"CartPole-obs100-v1"``.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    max_episode_steps = check_int("max_episode_steps", max_episode_steps, minimum=1)
    scale = check_float("observation_scale", observation_scale, low=0.0, low_inclusive=False,
                        finite=True)  # fmt: skip
    if scale == 1.0 and max_episode_steps == 500:
        return "CartPole-v1"
    name = "CartPole"
    if max_episode_steps != 500:
        name += f"-limit{max_episode_steps}"
    if scale != 1.0:
        name += f"-obs{scale:g}".replace(".", "p")
    env_id = f"{name}-v1"
    if env_id not in gym.registry:
        if scale == 1.0:  # plain CartPole: the engine simulates it in NumPy
            gym.register(env_id, entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                         max_episode_steps=max_episode_steps)  # fmt: skip
        else:
            gym.register(env_id, entry_point=functools.partial(
                _scaled_cartpole, scale, max_episode_steps))  # fmt: skip
    return env_id


def bug_setup(bug: str, env_id: str, config: DQNConfig) -> tuple[str, DQNConfig, dict[str, Any]]:
    """Return the environment, config and ``train_many`` switches that train ``bug``.

    ``"correct"`` returns them unchanged. ``gradient_through_target`` also removes the target
    network, the only place the switch matters (with a target network it changes nothing).

    Args:
        bug: ``"correct"`` or a name from :data:`GALLERY`.
        env_id: The correct agent's environment (``observation_scale_100`` needs CartPole-v1).
        config: The correct agent's config.

    Returns:
        ``(env_id, config, switches)``.

    Raises:
        ValueError: If ``bug`` is unknown, or ``observation_scale_100`` is asked of another
            environment than CartPole.
    """
    check_choice("bug", bug, (CORRECT_NAME, *GALLERY))
    check_str("env_id", env_id)
    if not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
    config.validate()
    change: dict[str, Any] = {
        "never_sync": {"target_update_period": 10 * config.total_steps, "tau": 1.0},
        "sync_every_step": {"target_update_period": None, "double_dqn": False},
        "gradient_through_target": {"target_update_period": None, "double_dqn": False},
        "epsilon_never_decays": {"epsilon_end": config.epsilon_start},
        "learning_before_data": {"learning_starts": config.batch_size},
        "reward_scale_100": {"reward_scale": 100.0 * config.reward_scale},
    }.get(bug, {})
    if bug == "observation_scale_100":
        if not env_id.startswith("CartPole"):
            raise ValueError(f"observation_scale_100 is built on CartPole, got env_id {env_id!r}")
        env_id = cartpole_variant(
            max_episode_steps=gym.spec(env_id).max_episode_steps or 500, observation_scale=100.0
        )
    switches = bug_switches(bug) if bug in BUGS else {}
    return env_id, dataclasses.replace(config, **change).validate(), switches


def train_gallery(
    env_id: str,
    config: DQNConfig,
    seeds: Sequence[int],
    bugs: Sequence[str] = (CORRECT_NAME, *GALLERY),
    **kwargs: Any,
) -> dict[str, list[DQNRun]]:
    """Train the correct agent and each named bug on every seed, in as few batches as possible.

    Variants that share an environment, the switches and the engine's shared fields (see
    :data:`utils.engine.settings.SHARED_FIELDS`) train as one batch of :func:`train_many`, one
    config per agent; agent ``k`` learns as it would alone, up to floating-point rounding.

    Args:
        env_id: The correct agent's environment.
        config: The correct agent's config.
        seeds: The seeds of every variant (distinct).
        bugs: ``"correct"`` and names from :data:`GALLERY` (distinct).
        **kwargs: ``progress``, ``threads``, ``device`` of :func:`train_many`.

    Returns:
        ``{name: [DQNRun per seed]}`` in the order of ``bugs``.

    Raises:
        TypeError, ValueError: On a bad argument, before anything trains.
    """
    seeds = check_seeds(seeds)
    if isinstance(bugs, str) or not isinstance(bugs, Sequence) or not bugs:
        raise TypeError(f"bugs must be a list of names from {(CORRECT_NAME, *GALLERY)}")
    if len(set(bugs)) != len(bugs):
        raise ValueError(f"bugs must be distinct, got {list(bugs)}")
    unknown = sorted(set(kwargs) - {"progress", "threads", "device"})
    if unknown:
        raise TypeError(f"train_gallery got unknown keyword arguments {unknown}")
    setups = {bug: bug_setup(bug, env_id, config) for bug in bugs}
    batches: dict[tuple, list[str]] = {}
    for bug, (env, cfg, switches) in setups.items():
        key = (env, tuple(sorted(switches.items())), *(getattr(cfg, f) for f in SHARED_FIELDS))
        batches.setdefault(key, []).append(bug)
    runs: dict[str, list[DQNRun]] = {}
    for names in batches.values():
        env, _, switches = setups[names[0]]
        configs = [setups[name][1] for name in names for _ in seeds]
        trained = train_many(env, configs, list(seeds) * len(names), **switches, **kwargs)
        for i, name in enumerate(names):
            runs[name] = trained[i * len(seeds) : (i + 1) * len(seeds)]
    return {bug: runs[bug] for bug in bugs}
