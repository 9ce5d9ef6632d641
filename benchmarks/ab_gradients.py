"""A/B: the written-out backward pass + StackedAdam, or autograd + torch.optim.Adam(fused=True)?

Times, side by side in one run and interleaved call by call, the ``train_many`` calls the
lessons make (Lessons 3-5's training cells, as ``notebooks/0[3-5]*.ipynb`` call
``train_many`` / ``train_with_bug``) and ``bench_dqn.py --part many``'s ten seeds, with
``utils.engine.many._GRADIENTS`` set to each arm. The issue's rule: keep the written-out path
only if it saves at least 15% of the lessons' total training time.

Usage: ``python benchmarks/ab_gradients.py [--repeats N]``. Writes
``benchmarks/results/ab_gradients.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tabular import machine  # noqa: E402

import utils.engine.many as many  # noqa: E402
from utils.config import DQNConfig, cartpole_config  # noqa: E402
from utils.engine import train_many  # noqa: E402

ENV = "CartPole-v1"
ARMS = ("written", "autograd")


def lesson_calls() -> list[tuple[str, DQNConfig, list[int]]]:
    """The lessons' training calls (config and seeds), as their notebooks make them."""
    calls = []
    common = dict(
        total_steps=15_000,
        learning_rate=1e-3,
        gamma=0.99,
        loss="mse",
        hidden_sizes=(64, 64),
        epsilon_decay_steps=7_500,
        target_update_period=None,
    )
    online = DQNConfig(**common, buffer_size=1, batch_size=1, learning_starts=0)
    replay = DQNConfig(**common, buffer_size=10_000, batch_size=64, learning_starts=500)
    calls += [("L3 online", online, [0, 1, 2, 3, 4]), ("L3 replay", replay, [0, 1, 2, 3, 4])]
    base = cartpole_config()
    for name, period in (("one", None), ("two", base.target_update_period)):
        calls.append((f"L4 {name} network", cartpole_config(
            total_steps=20_000, target_update_period=period, eval_every=1000, eval_episodes=20,
            solved_return=475), list(range(10))))  # fmt: skip
    for lr in (base.learning_rate / 10, base.learning_rate):
        for period in (1, 50, 200, 1000):
            setting = cartpole_config(total_steps=4_000, epsilon_decay_steps=2_000,
                                      learning_rate=lr, target_update_period=period)  # fmt: skip
            calls.append(("L4 sweep", setting, [0, 1, 2]))
    l5 = cartpole_config(total_steps=4_000, epsilon_decay_steps=2_000)
    ten, five = list(range(10)), list(range(5))
    variants = [{}, {"double_dqn": True}, {"target_update_period": 1, "tau": 0.005},
                {"target_update_period": None}, {"target_update_period": 40_000},
                {"loss": "mse"}, {"loss": "mse", "max_grad_norm": 10.0},
                {"learning_rate": 6.25e-4}, {"learning_rate": 1e-2},
                {"learning_rate": 6.25e-4, "target_update_period": None},
                {"learning_rate": 1e-2, "target_update_period": None}]  # fmt: skip
    calls += [("L5 variant", dataclasses.replace(l5, **v), ten) for v in variants]
    gallery = [{"epsilon_end": 1.0}, {"learning_starts": 0}, {"reward_scale": 100.0}]
    calls += [("L5 gallery", dataclasses.replace(l5, **v), five) for v in gallery]
    return calls


def timed(arm: str, config: DQNConfig, seeds: list[int]) -> float:
    many._GRADIENTS = arm
    try:
        start = time.perf_counter()
        train_many(ENV, config, seeds, progress=False)
        return time.perf_counter() - start
    finally:
        many._GRADIENTS = "written"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    tiny = cartpole_config(total_steps=1_100, learning_starts=1_000)
    for arm in ARMS:
        timed(arm, tiny, [0, 1])  # warm up both arms
    rows = []
    calls = lesson_calls()
    for r in range(args.repeats):
        for i, (name, config, seeds) in enumerate(calls):
            order = ARMS if (i + r) % 2 == 0 else ARMS[::-1]  # alternate which arm goes first
            times = {arm: timed(arm, config, seeds) for arm in order}
            row = {"call": name, "agents": len(seeds), "steps": config.total_steps, "repeat": r}
            rows.append({**row, **{f"{a}_s": round(t, 3) for a, t in times.items()}})
            print(rows[-1], flush=True)
    bench = []
    ten = cartpole_config(eval_every=1_000, eval_episodes=20, solved_return=475.0)
    for r in range(args.repeats):
        order = ARMS if r % 2 == 0 else ARMS[::-1]
        bench.append({arm: round(timed(arm, ten, list(range(10))), 2) for arm in order})
        print("bench many", bench[-1], flush=True)
    total = {arm: sum(row[f"{arm}_s"] for row in rows) / args.repeats for arm in ARMS}
    saving = 1 - total["written"] / total["autograd"]
    bench_saving = 1 - min(b["written"] for b in bench) / min(b["autograd"] for b in bench)
    report = {
        "command": f"python benchmarks/ab_gradients.py --repeats {args.repeats}",
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "lesson_calls": rows,
        "lessons_total_s": {a: round(t, 2) for a, t in total.items()},
        "lessons_saving_of_written": round(saving, 3),
        "bench_many_ten_seeds_50k_s": bench,
        "bench_many_saving_of_written": round(bench_saving, 3),
        "keep_written": saving >= 0.15,
    }
    (args.out / "ab_gradients.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# A/B: written-out backward + StackedAdam vs autograd + torch.optim.Adam(fused=True)",
        "",
        f"Command: `{report['command']}` ({report['date']}; {report['machine']['cpu']}, "
        f"{report['machine']['logical_cores']} cores shared with other jobs, torch "
        f"{report['torch']} at 1 thread). Each call runs once per arm per repeat, the two arms "
        "back to back in alternating order; the machine was shared, so compare within a row.",
        "",
        "| call | agents | steps | written s | autograd s |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['call']} | {row['agents']} | {row['steps']} | {row['written_s']} | "
                     f"{row['autograd_s']} |")  # fmt: skip
    lines += [
        "",
        f"- Lessons' training calls in total: written **{total['written']:.1f} s**, autograd "
        f"**{total['autograd']:.1f} s**: the written-out path saves **{saving:.1%}** "
        "(rule: keep it only at >= 15%).",
        f"- `bench_dqn.py --part many` (10 seeds x 50,000 steps, evaluation every 1,000): "
        f"{bench}; saving {bench_saving:.1%} (best of each arm).",
        f"- Decision: **{'keep' if report['keep_written'] else 'delete'} the written-out path**.",
        "",
    ]
    (args.out / "ab_gradients.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
