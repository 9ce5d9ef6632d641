"""Every lesson's "Try it" widget answers a move quickly, on runs as large as the lesson's.

The lessons do not time their widgets (a timing cell after a widget would move it away from
where the lesson's text says it starts); this file does. Each widget is built on synthetic
runs of the size its lesson trains (no training here), except Lesson 1's and Lesson 2's,
which retrain on every move as the lessons' do; every redraw is rendered to PNG, as in a
notebook. A learner expects the picture within about a
second; the limits leave room for a busy 2-core CI machine:

- a widget that only selects among computed runs redraws within ``SELECT_SECONDS``;
- Lesson 1's and Lesson 2's widgets, which retrain on every move, redraw within
  ``RETRAIN_SECONDS`` (Lesson 1 at its largest episode count, Lesson 2 with 12 bins on
  the pole's two dimensions).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import pytest

from utils.dqn import DQNConfig, DQNRun, History
from utils.explorer import Explorer
from utils.lessons.lesson1 import q_learning_explorer
from utils.lessons.lesson2 import grid_explorer
from utils.lessons.lesson3 import single_network_explorer
from utils.lessons.lesson4 import sync_sweep_explorer
from utils.lessons.lesson4_fixed_data import FixedDataSweep, stability_map_explorer
from utils.lessons.lesson5_tabular import maximization_bias_explorer
from utils.lessons.lesson6 import diagnostics_explorer
from utils.lessons.lesson6_diagnostics import random_policy_states
from utils.networks import QNetwork

SELECT_SECONDS = 3.0
RETRAIN_SECONDS = 6.0
BOUND = 99.34


def synthetic_run(seed: int, *, steps: int, learning_starts: int = 1000, peak_q: float = 50.0):
    """A DQNRun with a full-size history of ``steps`` steps (one update per step) and a
    randomly initialised network: what the widgets draw, without training."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(10, 200, size=steps // 20)
    ends = np.cumsum(lengths)
    ends = ends[ends <= steps]
    lengths = lengths[: len(ends)]
    updates = np.arange(learning_starts + 1, steps + 1)
    history = History(
        episode_returns=lengths.astype(float),
        episode_lengths=lengths,
        episode_end_steps=ends,
        update_steps=updates,
        losses=rng.random(len(updates)),
        max_q=np.linspace(1.0, peak_q, len(updates)) * (1 + 0.1 * rng.random(len(updates))),
        eval_steps=np.arange(1000, steps + 1, 1000),
        eval_returns=rng.uniform(10, 500, size=steps // 1000),
    )
    net = QNetwork(4, 2, (64, 64))
    return DQNRun("CartPole-v1", DQNConfig(total_steps=steps), seed, net, history, steps)


def lesson1() -> tuple[Explorer, list[dict]]:
    explorer = q_learning_explorer()  # as the lesson builds it: retrains at every move
    top = explorer.controls["episodes"].max
    return explorer, [dict(alpha=0.5), dict(gamma=0.9), dict(epsilon=0.3), dict(episodes=top)]


def lesson2() -> tuple[Explorer, list[dict]]:
    explorer = grid_explorer((3, 3, 6, 3))  # as the lesson builds it: retrains at every move
    return explorer, [{"cart pos.": 1}, {"pole angle": 12}, {"pole vel.": 12}]


def lesson3() -> tuple[Explorer, list[dict]]:
    runs = {  # the lesson's size: 2 variants x 5 seeds x 15,000 steps
        name: [synthetic_run(seed, steps=15_000, peak_q=q) for seed in range(5)]
        for name, q in (("online", 120.0), ("replay", 9000.0))
    }
    explorer = single_network_explorer(runs, BOUND)
    return explorer, [dict(variant="replay"), dict(seed=3), dict(variant="online")]


def lesson4() -> tuple[Explorer, list[dict]]:
    periods, rates = (1, 50, 200, 1000), (2.5e-4, 2.5e-3)
    sweep = {  # the lesson's size: 4 periods x 2 rates x 3 seeds x 4,000 steps
        (c, lr): [synthetic_run(s, steps=4000, peak_q=2000.0 / c) for s in range(3)]
        for c in periods
        for lr in rates
    }
    explorer = sync_sweep_explorer(sweep, BOUND, start=(200, 2.5e-3))
    moves = [dict(C=1), dict(C=1000), dict(learning_rate=2.5e-4), dict(C=200)]
    return explorer, moves


def lesson4_map() -> tuple[Explorer, list[dict]]:
    rates, periods = (1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3), (1, 5, 10, 25, 50, 100, 200, 1000)
    steps = np.arange(100, 2501, 100)  # the lesson's size: 5 rates x 8 periods x 25 records
    grow = np.exp(np.linspace(0, 12, len(steps)))
    max_q = np.array([[grow * lr * 1e3 / c for c in periods] for lr in rates])
    sweep = FixedDataSweep(rates, periods, steps, max_q, max_q / 2, 0.99, 100.0)
    explorer = stability_map_explorer(sweep, start=(2.5e-4, 50))
    return explorer, [dict(C=1), dict(learning_rate=2.5e-3), dict(C=1000), dict(C=50)]


def lesson5() -> tuple[Explorer, list[dict]]:
    explorer = maximization_bias_explorer(runs=300, seed=0)  # as the lesson builds it: reruns
    return explorer, [dict(n_b_actions=50), dict(epsilon=0.3), dict(n_b_actions=1)]


def lesson6() -> tuple[Explorer, list[dict]]:
    names = ["correct", "bootstrap_on_truncated", "no_terminal_mask", "never_sync"]
    names += ["sync_every_step", "epsilon_never_decays", "reward_scale_100"]
    gallery = {  # the lesson's size: 10 seeds x 10,000 steps per variant
        name: [synthetic_run(s, steps=10_000) for s in range(10)] for name in names
    }
    explorer = diagnostics_explorer(
        gallery,
        "correct",
        variant="no_terminal_mask",
        bound=100.0,
        time_limit=500,
        probe_states=random_policy_states("CartPole-v1"),
    )
    return explorer, [
        dict(variant="never_sync"),
        dict(compare=False),
        dict(variant="sync_every_step"),
    ]


WIDGETS: dict[str, tuple[Callable[[], tuple[Explorer, list[dict]]], float]] = {
    "lesson1": (lesson1, RETRAIN_SECONDS),
    "lesson2": (lesson2, RETRAIN_SECONDS),
    "lesson3": (lesson3, SELECT_SECONDS),
    "lesson4": (lesson4, SELECT_SECONDS),
    "lesson4_map": (lesson4_map, SELECT_SECONDS),
    "lesson5": (lesson5, RETRAIN_SECONDS),
    "lesson6": (lesson6, SELECT_SECONDS),
}


@contextlib.contextmanager
def rendering(explorer: Explorer):
    """Make each redraw also render its figure to PNG, as a notebook's inline backend does
    (outside a kernel ``display`` does not render), and list the redraws' arguments."""
    calls, original = [], explorer.figure

    def render(*args):
        fig = original(*args)
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
        plt.close(fig)
        calls.append(args)
        return fig

    explorer.figure = render
    try:
        yield calls
    finally:
        del explorer.figure


@pytest.mark.parametrize("lesson", list(WIDGETS))
def test_every_move_redraws_within_the_stated_time(lesson):
    build, limit = WIDGETS[lesson]
    explorer, moves = build()
    seconds = []
    with rendering(explorer) as calls:
        for move in moves:
            seconds.append(Explorer.move(explorer, **move))  # the base's move, by control name
            assert len(calls) == len(seconds), f"{lesson}: {move} did not redraw"
    slowest = max(seconds)
    assert slowest < limit, f"{lesson}: a move took {slowest:.2f} s (limit {limit} s): {seconds}"
