"""Lesson 6's bugs: switches of the engine or wrong settings, trained together by
`train_gallery`; the correct path holds none of them."""

import gymnasium as gym
import numpy as np
import pytest
from _helpers import TINY, UTILS, record_stored_terminals, registered_cartpole

from utils.dqn import DQNConfig
from utils.engine import train_many
from utils.lessons.lesson6_bugs import (
    BUG_SWITCHES,
    BUGS,
    GALLERY,
    SETTING_BUGS,
    bug_setup,
    bug_switches,
    cartpole_variant,
    train_gallery,
    train_with_bug,
)


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
    stored = record_stored_terminals(monkeypatch)
    with registered_cartpole("ShortCartPole-v0", max_episode_steps=5) as env_id:
        config = DQNConfig(**{**TINY, "total_steps": 50})
        train_with_bug(env_id, config, [0], "bootstrap_on_truncated", progress=False)
    assert [bool(s.any()) for s in stored] == [False, False, False, False, True] * 10


def test_the_gallery_starts_with_the_switches_of_the_algorithm():
    assert list(GALLERY)[: len(BUGS)] == list(BUGS)
    assert set(GALLERY) == set(BUGS) | set(SETTING_BUGS) and len(GALLERY) == 9


def test_bug_setup_changes_only_what_the_bug_names():
    base = DQNConfig(**TINY)
    assert bug_setup("correct", "CartPole-v1", base) == ("CartPole-v1", base, {})
    _, never, _ = bug_setup("never_sync", "CartPole-v1", base)
    assert never.target_update_period > base.total_steps
    assert bug_setup("sync_every_step", "CartPole-v1", base)[1].target_update_period is None
    env, grad, switches = bug_setup("gradient_through_target", "CartPole-v1", base)
    assert grad.target_update_period is None and switches == {"stop_target_gradients": False}
    eps = bug_setup("epsilon_never_decays", "CartPole-v1", base)[1]
    assert eps.epsilon_end == eps.epsilon_start == base.epsilon_start
    assert bug_setup("learning_before_data", "CartPole-v1", base)[1].learning_starts == 16
    assert bug_setup("reward_scale_100", "CartPole-v1", base)[1].reward_scale == 100.0
    env, obs, _ = bug_setup("observation_scale_100", "CartPole-v1", base)
    assert obs == base and env == cartpole_variant(observation_scale=100.0)
    with pytest.raises(ValueError, match="bug"):
        bug_setup("typo", "CartPole-v1", base)
    with pytest.raises(ValueError, match="CartPole"):
        bug_setup("observation_scale_100", "Acrobot-v1", base)


def test_cartpole_variant_scales_observations_and_shortens_episodes():
    assert cartpole_variant() == "CartPole-v1"
    short = cartpole_variant(max_episode_steps=7)
    assert short == cartpole_variant(max_episode_steps=7)  # registered once
    assert gym.spec(short).max_episode_steps == 7
    plain, scaled = gym.make("CartPole-v1"), gym.make(cartpole_variant(observation_scale=100.0))
    np.testing.assert_allclose(scaled.reset(seed=3)[0], 100 * plain.reset(seed=3)[0], rtol=1e-6)
    for env in (plain, scaled):
        env.close()
    with pytest.raises(ValueError, match="observation_scale"):
        cartpole_variant(observation_scale=0.0)
    with pytest.raises(ValueError, match="max_episode_steps"):
        cartpole_variant(max_episode_steps=0)


def test_train_gallery_gives_each_variant_what_it_would_get_alone():
    base = DQNConfig(**TINY)
    names = ["correct", "never_sync", "no_terminal_mask", "learning_before_data"]
    runs = train_gallery("CartPole-v1", base, [0, 1], names, progress=False)
    assert list(runs) == names and all(len(r) == 2 for r in runs.values())
    alone = train_with_bug("CartPole-v1", base, [0, 1], "no_terminal_mask", progress=False)
    for a, b in zip(runs["no_terminal_mask"], alone, strict=True):
        np.testing.assert_allclose(a.history.losses, b.history.losses, rtol=1e-4, atol=1e-6)
    assert runs["learning_before_data"][0].history.update_steps[0] == 17  # learns from step 17
    with pytest.raises(ValueError, match="distinct"):
        train_gallery("CartPole-v1", base, [0], ["correct", "correct"])
    with pytest.raises(ValueError, match="bug"):
        train_gallery("CartPole-v1", base, [0], ["typo"])
    with pytest.raises(TypeError, match="unknown keyword"):
        train_gallery("CartPole-v1", base, [0], ["correct"], mask_terminal=False)
