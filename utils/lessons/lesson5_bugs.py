"""Lesson 5's deliberate bugs in the DQN algorithm, kept out of the correct code.

Each bug is a named switch of :func:`utils.engine.train_many` (as rlax's
``stop_target_gradients`` flag), never a branch of the reference trainer
:func:`utils.train.train`. The other bugs of the Lesson 5 gallery are plain settings
(``target_update_period``, ``epsilon_end``, ``reward_scale``, ...) and need no switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from utils._checks import check_choice
from utils.config import DQNConfig
from utils.engine import train_many
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
        config: As :func:`utils.engine.train_many`.
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
