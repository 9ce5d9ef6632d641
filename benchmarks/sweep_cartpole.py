"""Sweep one DQN setting over 10 CartPole seeds: how ``cartpole_config`` was chosen.

Usage: ``python benchmarks/sweep_cartpole.py NAME '{"learning_rate": 2.5e-3, ...}'``.
Prints a one-line summary and writes ``benchmarks/results/sweep/NAME.json``. The table in
``benchmarks/results/cartpole_sweep.md`` collects the settings that were tried.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.dqn import DQNConfig  # noqa: E402
from utils.engine import train_many  # noqa: E402


def main(name: str, overrides: str) -> None:
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(overrides).items()}
    config = DQNConfig(
        total_steps=50_000, eval_every=1000, eval_episodes=20, solved_return=475, **kw
    )
    start = time.perf_counter()
    runs = train_many("CartPole-v1", config, list(range(10)), progress=False)
    wall = time.perf_counter() - start
    out = [
        {
            "seed": r.seed,
            "solved": r.history.solved_step,
            "final": float(r.evaluate(20).mean()),
            "evals": r.history.eval_returns.tolist(),
            "maxq": float(r.history.max_q.max()),
        }
        for r in runs
    ]
    solved = [o["solved"] for o in out if o["solved"] is not None]
    median = np.median(solved) if solved else None
    print(name, kw, f"wall {wall:.0f}", "n_solved", len(solved), "median", median,
          "finals", [round(o["final"]) for o in out])  # fmt: skip
    path = ROOT / "benchmarks" / "results" / "sweep" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": name, "kw": kw, "wall": wall, "runs": out}) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
