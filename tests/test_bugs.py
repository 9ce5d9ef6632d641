"""Lesson 5's bugs are switches of the engine, and the correct path holds none of them."""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from utils.dqn import DQNConfig
from utils.engine import train_many
from utils.lessons.lesson5_bugs import BUG_SWITCHES, BUGS, bug_switches, train_with_bug
from utils.replay import ReplayBuffer

TINY = dict(total_steps=600, learning_starts=100, batch_size=16, buffer_size=1000,
            hidden_sizes=(16,), epsilon_decay_steps=300, target_update_period=50)  # fmt: skip
UTILS = Path(__file__).resolve().parent.parent / "utils"


def test_every_bug_has_a_description_and_a_switch():
    assert set(BUGS) == set(BUG_SWITCHES)
    assert bug_switches("no_terminal_mask") == {"mask_terminal": False}
    assert bug_switches(["no_terminal_mask", "gradient_through_target"]) == {
        "mask_terminal": False,
        "stop_target_gradients": False,
    }


@pytest.mark.parametrize("module", ["train.py", "dqn.py", "config.py", "runs.py", "replay.py"])
def test_the_correct_path_holds_no_bug_names(module):
    source = (UTILS / module).read_text()
    assert not [name for name in BUGS if name in source]
    assert "bugs" not in source


def test_gradient_through_target_changes_nothing_with_a_target_network():
    clean = train_many("CartPole-v1", DQNConfig(**TINY), [0, 1], progress=False)
    bug = train_with_bug("CartPole-v1", DQNConfig(**TINY), [0, 1], "gradient_through_target",
                         progress=False)  # fmt: skip
    for a, b in zip(clean, bug, strict=True):
        np.testing.assert_array_equal(a.history.losses, b.history.losses)


@pytest.mark.parametrize("bug, changes", [
    ("gradient_through_target", {"target_update_period": None}),
    ("no_terminal_mask", {}),
])  # fmt: skip
def test_a_bug_changes_the_learning(bug, changes):
    config = DQNConfig(**{**TINY, **changes})
    clean = train_many("CartPole-v1", config, [0], progress=False)[0]
    buggy = train_with_bug("CartPole-v1", config, [0], bug, progress=False)[0]
    n = 50  # the first updates, before the two runs' episodes part ways
    assert not np.array_equal(clean.history.losses[:n], buggy.history.losses[:n])


def test_bootstrap_on_truncated_stores_time_limits_as_terminal(monkeypatch):
    gym.register("ShortCartPole-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                 max_episode_steps=5)  # fmt: skip
    stored = []
    original_add = ReplayBuffer.add

    def spy(self, obs, action, reward, next_obs, terminated):
        stored.append(bool(np.asarray(terminated).any()))
        original_add(self, obs, action, reward, next_obs, terminated)

    monkeypatch.setattr(ReplayBuffer, "add", spy)
    try:
        config = DQNConfig(**{**TINY, "total_steps": 50})
        train_with_bug("ShortCartPole-v0", config, [0], "bootstrap_on_truncated", progress=False)
    finally:
        del gym.registry["ShortCartPole-v0"]
    assert stored == [False, False, False, False, True] * 10
