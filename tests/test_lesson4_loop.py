"""Lesson 4: the learner's DQN, piece by piece (act, loss, loop), and the notebook's solution.

The notebook's own cells are run here: its setup, its target-network helpers, its replay
buffer and the solution folded in its ``<details>`` block go through the three checkers, and
the solution's loop trains CartPole to a greedy mean of 475, as the lesson asserts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from utils.lessons.lesson4_loop import (
    DQN_LOSS,
    EPSILON_GREEDY,
    SOLUTIONS,
    check_dqn_loss,
    check_epsilon_greedy,
    check_train_dqn,
    solution_pieces,
)

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_two_networks_dqn.ipynb"


def _cells() -> list[dict]:
    return json.loads(NOTEBOOK.read_text())["cells"]


def _code_with(marker: str) -> str:
    found = [
        "".join(c["source"])
        for c in _cells()
        if c["cell_type"] == "code" and marker in "".join(c["source"])
    ]
    assert len(found) == 1, f"expected one code cell with {marker!r}, found {len(found)}"
    return found[0]


def _notebook_solution() -> str:
    for cell in _cells():
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and "Solution (all three pieces)" in text:
            return re.search(r"```python\n(.*?)\n```", text, re.S).group(1)
    raise AssertionError("the notebook has no folded solution of the three pieces")


@pytest.fixture(scope="module")
def namespace() -> dict:
    """The notebook's globals after its setup, its section 2 helpers and its buffer."""
    scope: dict = {}
    for marker in ("CONFIG = cartpole_config()", "def make_target_network", "class ReplayBuffer"):
        exec(compile(_code_with(marker), f"<notebook: {marker}>", "exec"), scope)
    return scope


@pytest.fixture(scope="module")
def solution(namespace) -> dict:
    scope = dict(namespace)
    exec(compile(_notebook_solution(), "<notebook solution>", "exec"), scope)
    return scope


def test_notebook_folds_the_checkers_solution():
    # the lesson trains with solution_pieces when a piece is not done: it must be what it shows
    assert _notebook_solution() == "\n\n\n".join(
        SOLUTIONS[k] for k in ("epsilon_greedy", "dqn_loss", "train_dqn")
    )


def test_notebook_solution_passes_every_checker(solution):
    assert check_epsilon_greedy(solution["epsilon_greedy"]).passed
    assert check_dqn_loss(solution["dqn_loss"]).passed
    assert check_train_dqn(solution["train_dqn"]).passed


def test_stubs_are_not_attempted(namespace):
    scope = dict(namespace)
    for marker in ("def epsilon_greedy(", "def dqn_loss(", "def train_dqn("):
        exec(compile(_code_with(marker), "<stub>", "exec"), scope)
    assert check_epsilon_greedy(scope["epsilon_greedy"]).status == "not attempted"
    assert check_dqn_loss(scope["dqn_loss"]).status == "not attempted"
    assert check_train_dqn(scope["train_dqn"]).status == "not attempted"


@pytest.mark.parametrize("exercise", [EPSILON_GREEDY, DQN_LOSS], ids=lambda e: e.name)
def test_each_catalogued_mistake_is_named(exercise):
    for mistake in exercise.mistakes:
        verdict = exercise.check(mistake.implementation, verbose=False)
        assert verdict.status == "wrong" and verdict.mistake == mistake.name, mistake.name


def _broken_loop(namespace: dict, old: str, new: str):
    source = SOLUTIONS["train_dqn"]
    assert old in source
    scope = dict(namespace)
    scope.update(solution_pieces(namespace))
    exec(compile(source.replace(old, new), "<broken loop>", "exec"), scope)
    return scope["train_dqn"]


@pytest.mark.parametrize(
    "old, new, mistake",
    [
        ("buffer.add(obs, action, reward, next_obs, terminated)",
         "buffer.add(obs, action, reward, next_obs, terminated or truncated)",
         "stored `terminated or truncated` as the end flag"),
        ("        if global_step % config.target_update_period == 0:\n            sync(",
         "        if False:\n            sync(", "never synced the target network"),
        ("        if global_step % config.target_update_period == 0:\n            sync(",
         "        if True:\n            sync(", "synced at every step (or shared the weights)"),
        ("if terminated or truncated:  # either ends the episode\n",
         "if terminated:\n",
         "kept stepping after an episode ended"),
        ("            optimizer.step()\n", "", "never trained the online network"),
        ("        buffer.add(", "        if global_step % 2:\n            buffer.add(",
         "did not store every step"),
        ("buffer.add(obs, action, reward, next_obs, terminated)",
         "buffer.add(obs, action, reward, next_obs, truncated)", "stored the wrong end flag"),
    ],
    ids=["stored-done", "never-sync", "sync-every-step", "no-reset-on-truncation", "no-step",
         "skips-steps", "stored-truncated"],
)  # fmt: skip
def test_loop_mistakes_are_named(namespace, old, new, mistake):
    verdict = check_train_dqn(_broken_loop(namespace, old, new), verbose=False)
    assert verdict.status == "wrong" and verdict.mistake == mistake, verdict.message


def test_loop_that_raises_shows_the_error(namespace):
    broken = _broken_loop(namespace, "batch = buffer.sample(config.batch_size, rng)",
                          "batch = buffer.sample(config.batch_size)")  # fmt: skip
    verdict = check_train_dqn(broken, verbose=False)
    assert verdict.status == "error" and "TypeError" in verdict.message


def test_checkers_reject_non_callables():
    for check in (check_epsilon_greedy, check_dqn_loss, check_train_dqn):
        with pytest.raises(TypeError, match="fn"):
            check("not a function")
    with pytest.raises(TypeError, match="namespace"):
        solution_pieces(["not", "a", "mapping"])


def test_loss_must_be_a_scalar_tensor():
    def returns_float(q_network, target_network, batch, gamma, loss):
        return 1.0

    assert check_dqn_loss(returns_float).status == "error"


def test_notebook_solution_solves_cartpole(solution):
    """The lesson's run: the solution's loop with cartpole_config() and early stopping
    (about 10 s alone on 2 cores: it stops at the first 20-episode mean >= 475)."""
    config = solution["cartpole_config"](
        eval_every=1000, eval_episodes=20, solved_return=475, stop_when_solved=True
    )
    q_network, _, _, evaluations = solution["train_dqn"](
        solution["make_env"]("CartPole-v1"), config, solution["AGENT_SEED"]
    )
    returns = solution["evaluate_greedy"]("CartPole-v1", q_network, 100, seed=2024)
    assert evaluations[-1][1] >= 475
    assert returns.mean() >= 475
