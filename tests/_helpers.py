"""What several test files share: a tiny DQN budget, short-lived CartPoles, spies, wheel lookup.

Imported as ``from _helpers import ...``: pytest puts this folder on ``sys.path`` (``tests``
has no ``__init__.py``), as it does for ``conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from utils.networks import QNetwork
from utils.replay import ReplayBuffer

UTILS = Path(__file__).resolve().parent.parent / "utils"

# A CartPole budget small enough for a unit test: 100 random steps, 500 updates, a sync every 50.
TINY = dict(total_steps=600, learning_starts=100, batch_size=16, buffer_size=1000,
            hidden_sizes=(16,), epsilon_decay_steps=300, target_update_period=50)  # fmt: skip


def balancing_network() -> QNetwork:
    """Return a linear CartPole 'Q' whose greedy policy pushes the cart under the falling pole."""
    net = QNetwork(4, 2, hidden_sizes=())
    with torch.no_grad():
        net.linears()[0].weight.copy_(torch.tensor([[0.0, 0.0, -1.0, -1.0], [0, 0, 1, 1]]))
        net.linears()[0].bias.zero_()
    return net


@contextlib.contextmanager
def registered_cartpole(env_id: str, max_episode_steps: int, **kwargs: Any) -> Iterator[str]:
    """Register gymnasium's CartPole as ``env_id`` for the block; yield the id, then remove it.

    Args:
        env_id: The id to register, e.g. ``"ShortCartPole-v0"``.
        max_episode_steps: The time limit: an episode that reaches it ends truncated.
        **kwargs: Constructor arguments of the environment, passed as gymnasium's ``kwargs``.
    """
    gym.register(env_id, entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=max_episode_steps, kwargs=kwargs)  # fmt: skip
    try:
        yield env_id
    finally:
        del gym.registry[env_id]


def record_stored_terminals(monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Spy on ``ReplayBuffer.add``: return a list that gets a copy of each stored ``terminated``.

    Each entry has the shape the trainer passed: ``()`` for one agent, ``(n_agents,)`` for many.
    """
    stored = []
    original_add = ReplayBuffer.add

    def spy(self, obs, action, reward, next_obs, terminated):
        stored.append(np.asarray(terminated).copy())
        original_add(self, obs, action, reward, next_obs, terminated)

    monkeypatch.setattr(ReplayBuffer, "add", spy)
    return stored


def interrupt_at_call(
    monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str, call: int
) -> None:
    """Make ``module.name`` raise ``KeyboardInterrupt`` on its ``call``-th call (1 = the first)."""
    calls = {"n": 0}
    original = getattr(module, name)

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupting)


def pip_find_links() -> list[str]:
    """Return the folders pip looks in for local wheels (``PIP_FIND_LINKS`` and pip's config)."""
    links = os.environ.get("PIP_FIND_LINKS", "").split()
    config = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    for match in re.finditer(r"find-links='([^']*)'", config):
        links += match.group(1).split()
    return [link.removeprefix("file://") for link in links]
