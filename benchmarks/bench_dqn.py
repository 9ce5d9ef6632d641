"""Benchmark the two-network DQN on CartPole-v1: does it solve, keep it, and how fast?

Part 1 (``--part single``): 10 seeds trained one after another with :func:`utils.dqn.train`
at 1 torch thread, updating every step, for the full step budget (no early stop; the final
policy is the one at the last step). Per seed: env steps until the greedy policy first
averages >= 475 over 20 evaluation episodes (evaluated every 1,000 steps), the final greedy
return (20 fresh episodes), wall and CPU seconds, and env steps per second.

Part 2 (``--part many``): the same 10 seeds trained at once with :func:`utils.dqn.train_many`,
timed against one seed trained alone in the same run, plus how the cost grows with the
number of agents K (shorter runs).

Usage: ``python benchmarks/bench_dqn.py [--part single|many|all]``. Writes
``benchmarks/results/dqn.json`` / ``dqn.md`` (part 1) and ``train_many.json`` / ``train_many.md``
/ ``train_many_scaling.png`` (part 2).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tabular import machine  # noqa: E402

from utils.dqn import cartpole_config, train, train_many  # noqa: E402

ENV_ID = "CartPole-v1"
SEEDS = list(range(10))
SOLVED = 475.0
FLOORS = {"solved_seeds": 9, "median_steps_to_solve": 30_000, "steps_per_second": 1_000}
K_VALUES = (1, 2, 5, 10, 20, 50)
SCALING_STEPS = 5_000


def config():
    """The benchmark's config: Lesson 4's, with evaluation every 1,000 steps."""
    return cartpole_config(eval_every=1_000, eval_episodes=20, solved_return=SOLVED)


def summarize(runs_info: list[dict]) -> dict:
    solved = [r["steps_to_solve"] for r in runs_info if r["steps_to_solve"] is not None]
    kept = [r for r in runs_info if r["steps_to_solve"] is not None and r["final_return"] >= SOLVED]
    return {
        "seeds_solved": len(solved),
        "solved_and_final_at_least_475": len(kept),
        "median_steps_to_solve": float(np.median(solved)) if solved else None,
    }


def run_info(run, wall: float | None = None, cpu: float | None = None) -> dict:
    final = run.evaluate(20)
    info = {
        "seed": run.seed,
        "steps_to_solve": run.history.solved_step,
        "final_return": float(final.mean()),
        "final_return_min": float(final.min()),
        "env_steps": run.global_step,
    }
    if wall is not None:
        info.update(wall_s=round(wall, 2), cpu_s=round(cpu, 2),
                    env_steps_per_s=round(run.global_step / wall, 1))  # fmt: skip
    return info


def part_single() -> dict:
    runs = []
    for seed in SEEDS:
        wall, cpu = time.perf_counter(), time.process_time()
        run = train(ENV_ID, config(), seed, progress=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        runs.append(run_info(run, wall, cpu))
        print(runs[-1], flush=True)
    summary = summarize(runs)
    summary["median_env_steps_per_s"] = float(np.median([r["env_steps_per_s"] for r in runs]))
    summary["floors"] = FLOORS
    summary["floors_met"] = {
        "solved_seeds": summary["solved_and_final_at_least_475"] >= FLOORS["solved_seeds"],
        "median_steps_to_solve": (summary["median_steps_to_solve"] or 1e9)
        <= FLOORS["median_steps_to_solve"],
        "steps_per_second": summary["median_env_steps_per_s"] >= FLOORS["steps_per_second"],
    }
    return {"config": config().to_dict(), "runs": runs, "summary": summary}


def part_many() -> dict:
    t = time.perf_counter()
    alone = train(ENV_ID, config(), SEEDS[0], progress=False)
    alone_wall = time.perf_counter() - t
    t = time.perf_counter()
    runs = train_many(ENV_ID, config(), SEEDS, progress=False)
    many_wall = time.perf_counter() - t
    infos = [run_info(r) for r in runs]
    scaling = []
    for k in K_VALUES:
        cfg = cartpole_config(total_steps=SCALING_STEPS)
        t = time.perf_counter()
        train_many(ENV_ID, cfg, list(range(k)), progress=False)
        wall = time.perf_counter() - t
        scaling.append({"K": k, "wall_s": round(wall, 2),
                        "agent_steps_per_s": round(k * SCALING_STEPS / wall, 1)})  # fmt: skip
        print(scaling[-1], flush=True)
    return {
        "config": config().to_dict(),
        "one_seed_alone_wall_s": round(alone_wall, 2),
        "ten_seeds_together_wall_s": round(many_wall, 2),
        "ratio": round(many_wall / alone_wall, 2),
        "runs": infos,
        "summary": summarize(infos),
        "scaling_steps_per_agent": SCALING_STEPS,
        "scaling": scaling,
    }


def plot_scaling(scaling: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = [s["K"] for s in scaling]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(k, [s["wall_s"] for s in scaling], "o-")
    a.set(xscale="log", xlabel="agents K", ylabel=f"wall s for {SCALING_STEPS} steps each",
          title="Cost of K agents at once")  # fmt: skip
    b.plot(k, [s["agent_steps_per_s"] for s in scaling], "o-")
    b.set(xscale="log", xlabel="agents K", ylabel="agent-steps per second", title="Throughput")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["single", "many", "all"], default="all")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    ok = True
    if args.part in ("single", "all"):
        report = {
            "command": "python benchmarks/bench_dqn.py --part single",
            **meta,
            **part_single(),
        }
        (args.out / "dqn.json").write_text(json.dumps(report, indent=2) + "\n")
        ok &= all(report["summary"]["floors_met"].values())
        print(json.dumps(report["summary"], indent=2))
    if args.part in ("many", "all"):
        report = {"command": "python benchmarks/bench_dqn.py --part many", **meta, **part_many()}
        (args.out / "train_many.json").write_text(json.dumps(report, indent=2) + "\n")
        plot_scaling(report["scaling"], args.out / "train_many_scaling.png")
        ok &= report["ratio"] <= 2.0
        print(json.dumps({k: report[k] for k in ("ratio", "summary", "scaling")}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
