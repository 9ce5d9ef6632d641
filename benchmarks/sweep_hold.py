"""Which CartPole DQN settings keep what they learned? A sweep at 100,000 steps, no early stop.

Each named config is ``cartpole_config(**overrides)`` with ``total_steps`` set, trained on the
given seeds at once with :func:`train_many`, evaluated greedily every 1,000 steps on 20
episodes (recorded only, training never stops early). Per seed it reports the final greedy mean
over 100 fresh episodes (``run.evaluate(100)``), the largest Q predicted on any minibatch, the
lowest of the last 10 evaluations, and the first step an evaluation reached 475. Per config:
how many seeds hold (final >= 475), the mean final return with a percentile-bootstrap 95%
interval, and the median / max of the largest Q against the bound 1 / (1 - gamma).

Tuning seeds (used to choose): 100-109. Confirmation seeds (never used to choose): 200-209.

Usage::

    python benchmarks/sweep_hold.py --configs base,buffer_all --seeds 100-104 --stage tuning
    python benchmarks/sweep_hold.py --configs hold --seeds 200-209 --stage confirm

Every call adds its rows to ``benchmarks/results/hold_sweep.json`` (replacing a row with the
same config, seeds, stage and steps) and rewrites ``hold_sweep.md`` from all rows.
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

from utils.config import cartpole_config  # noqa: E402
from utils.engine import train_many  # noqa: E402

ENV_ID = "CartPole-v1"
SOLVED = 475.0
LAST_EVALS = 10
RESULTS = ROOT / "benchmarks" / "results"

CONFIGS: dict[str, dict] = {
    "base": {},
    # keep the early failures: a buffer as long as training
    "buffer_all": {"buffer_size": 100_000},
    "batch_256": {"batch_size": 256},
    "lr_1e-3": {"learning_rate": 1e-3},
    "c_500": {"target_update_period": 500},
    "soft_tau_0.005": {"target_update_period": 1, "tau": 0.005},
    "double": {"double_dqn": True},
    "clip_10": {"max_grad_norm": 10.0},
    "gamma_0.98": {"gamma": 0.98},
    "hidden_128": {"hidden_sizes": (128, 128)},
    "train_freq_4": {"train_frequency": 4},
    "eps_end_0.05": {"epsilon_end": 0.05},
    "mse": {"loss": "mse"},
    "lr_5e-4": {"learning_rate": 5e-4},
    "lr_1e-3_double": {"learning_rate": 1e-3, "double_dqn": True},
    "lr_1e-3_clip_10": {"learning_rate": 1e-3, "max_grad_norm": 10.0},
    "lr_1e-3_hidden_128": {"learning_rate": 1e-3, "hidden_sizes": (128, 128)},
    "lr_1e-3_buffer_all": {"learning_rate": 1e-3, "buffer_size": 100_000},
    # squared error: a rare terminal target (1 among ~100s) pulls in proportion to its error
    "mse_double": {"loss": "mse", "double_dqn": True},
    "mse_lr_1e-3": {"loss": "mse", "learning_rate": 1e-3},
    "mse_buffer_all": {"loss": "mse", "buffer_size": 100_000},
    "mse_c_500": {"loss": "mse", "target_update_period": 500},
    "mse_lr_1e-3_buffer_all": {"loss": "mse", "learning_rate": 1e-3, "buffer_size": 100_000},
    "mse_batch_128": {"loss": "mse", "batch_size": 128},
    "mse_lr_1e-3_double": {"loss": "mse", "learning_rate": 1e-3, "double_dqn": True},
    # after the confirmation: can a slower target or step keep Q under the bound too?
    "mse_c_1000": {"loss": "mse", "target_update_period": 1000},
    "mse_c_500_lr_1e-3": {"loss": "mse", "target_update_period": 500, "learning_rate": 1e-3},
    "mse_c_500_double": {"loss": "mse", "target_update_period": 500, "double_dqn": True},
    "mse_c_500_buffer_all": {"loss": "mse", "target_update_period": 500, "buffer_size": 100_000},
    "mse_c_1000_buffer_all": {"loss": "mse", "target_update_period": 1000, "buffer_size": 100_000},
}
"""Overrides of ``cartpole_config`` (relative to the course's settings) tried by the sweep."""


def parse_seeds(text: str) -> list[int]:
    """``'100-104'`` -> [100, ..., 104]; ``'1,5,7'`` -> [1, 5, 7]."""
    seeds: list[int] = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-"))
            seeds.extend(range(lo, hi + 1))
        else:
            seeds.append(int(part))
    if len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError(f"--seeds must name distinct seeds, got {text!r}")
    return seeds


def bootstrap_ci(
    values: np.ndarray, n_resamples: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile-bootstrap interval for the mean of ``values`` ``(n,)``."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n_resamples, len(values)))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def run_config(name: str, overrides: dict, seeds: list[int], steps: int) -> dict:
    """Train ``seeds`` with one config; return its per-seed results and summary."""
    config = cartpole_config(
        **{"total_steps": steps, **overrides},
        eval_every=1_000,
        eval_episodes=20,
        solved_return=SOLVED,
    )
    start = time.perf_counter()
    runs = train_many(ENV_ID, config, seeds, progress=False)
    wall = time.perf_counter() - start
    per_seed = []
    for run in runs:
        h = run.history
        final = run.evaluate(100)
        per_seed.append({
            "seed": run.seed,
            "final_mean_100": float(final.mean()),
            "final_min_100": float(final.min()),
            "max_q": float(h.max_q.max()),
            "min_last_evals": float(h.eval_returns[-LAST_EVALS:].min()),
            "solved_step": h.solved_step,
            "evals": [round(float(x)) for x in h.eval_returns],
        })  # fmt: skip
    finals = np.array([r["final_mean_100"] for r in per_seed])
    max_q = np.array([r["max_q"] for r in per_seed])
    solved = [r["solved_step"] for r in per_seed if r["solved_step"] is not None]
    bound = 1.0 / (1.0 - config.gamma)
    summary = {
        "n_seeds": len(seeds),
        "n_hold": int((finals >= SOLVED).sum()),
        "final_mean": float(finals.mean()),
        "final_mean_ci95": bootstrap_ci(finals),
        "final_lowest": float(finals.min()),
        "n_last_evals_all_475": int(sum(r["min_last_evals"] >= SOLVED for r in per_seed)),
        "max_q_median": float(np.median(max_q)),
        "max_q_max": float(max_q.max()),
        "q_bound": bound,
        "n_over_bound": int((max_q > bound).sum()),
        "n_solved": len(solved),
        "solved_step_median": float(np.median(solved)) if solved else None,
    }
    return {
        "name": name,
        "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
        "seeds": seeds,
        "steps": steps,
        "wall_s": round(wall, 1),
        "summary": summary,
        "per_seed": per_seed,
    }


def late_hold_share(row: dict) -> float:
    """Share of all evaluations in the second half of training (every seed) that are >= 475.

    Less noisy than the final return for choosing settings: it counts every late evaluation.
    """
    half = len(row["per_seed"][0]["evals"]) // 2
    late = np.array([p["evals"][half:] for p in row["per_seed"]], dtype=np.float64)
    return float((late >= SOLVED).mean())


def load_rows(path: Path) -> list[dict]:
    return json.loads(path.read_text())["rows"] if path.exists() else []


def markdown(rows: list[dict]) -> str:
    lines = [
        "# Does the CartPole DQN hold? Settings sweep at 100,000 steps, no early stop",
        "",
        "Produced by `benchmarks/sweep_hold.py` (each row names its command, date and machine "
        "in `hold_sweep.json`). Overrides are relative to `cartpole_config()` (lr 2.5e-3 "
        "annealed to 0, C = 200, batch 64, buffer 50k, hidden (64, 64), huber, epsilon "
        "1 -> 0.02 over 5k, gamma 0.99). 'hold' = final greedy mean over 100 fresh episodes "
        ">= 475; 'last 10 >= 475' = all of the last 10 evaluations (20 episodes each) >= 475; "
        "'late evals >= 475' = share of all evaluations in the second half of training (all "
        "seeds) that reach 475; CI = percentile bootstrap 95% of the mean final return; "
        "Q bound = 1 / (1 - gamma). "
        "Tuning seeds 100-109; confirmation seeds 200-209 were not used to choose.",
        "",
        "| stage | config | overrides | seeds | hold | last 10 >= 475 | late evals >= 475 "
        "| mean final [95% CI] "
        "| lowest final | max Q median / max (bound) | solved, median step | wall s |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["summary"]
        lo, hi = s["final_mean_ci95"]
        seeds = r["seeds"]
        seed_text = (
            f"{seeds[0]}-{seeds[-1]}" if seeds == list(range(seeds[0], seeds[-1] + 1)) else seeds
        )
        solved = "-" if s["solved_step_median"] is None else f"{s['solved_step_median']:.0f}"
        lines.append(
            f"| {r['stage']} | {r['name']} | `{json.dumps(r['overrides'])}` | {seed_text} | "
            f"{s['n_hold']}/{s['n_seeds']} | {s['n_last_evals_all_475']}/{s['n_seeds']} | "
            f"{late_hold_share(r):.2f} | "
            f"{s['final_mean']:.0f} [{lo:.0f}, {hi:.0f}] | {s['final_lowest']:.0f} | "
            f"{s['max_q_median']:.1f} / {s['max_q_max']:.1f} ({s['q_bound']:.0f}) | "
            f"{s['n_solved']}, {solved} | {r['wall_s']:.0f} |"
        )
    lines += ["", "Per-seed final greedy means (100 episodes) and largest Q:", ""]
    for r in rows:
        cells = ", ".join(
            f"{p['seed']}: {p['final_mean_100']:.0f} (Q {p['max_q']:.0f})" for p in r["per_seed"]
        )
        lines.append(f"- {r['stage']} `{r['name']}`: {cells}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", required=True, help=f"comma-separated, from {list(CONFIGS)}")
    parser.add_argument("--seeds", default="100-104", help="e.g. 100-104 or 200-209 or 1,2,3")
    parser.add_argument("--stage", default="tuning", choices=("tuning", "confirm"))
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--out", default="hold_sweep", help="results file stem")
    args = parser.parse_args()
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configs {unknown}; known: {list(CONFIGS)}")
    seeds = parse_seeds(args.seeds)
    if args.stage == "confirm" and any(100 <= s <= 109 for s in seeds):
        parser.error("confirmation seeds must not be tuning seeds (100-109)")
    path = RESULTS / f"{args.out}.json"
    for name in names:
        row = run_config(name, CONFIGS[name], seeds, args.steps)
        row.update({
            "stage": args.stage,
            "command": "python " + " ".join(sys.argv),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
            "torch": torch.__version__,
        })  # fmt: skip
        s = row["summary"]
        s["late_evals_475_share"] = late_hold_share(row)
        print(
            f"{name}: hold {s['n_hold']}/{s['n_seeds']}, late {s['late_evals_475_share']:.2f}, "
            f"mean {s['final_mean']:.0f} "
            f"{[round(p['final_mean_100']) for p in row['per_seed']]}, max Q median "
            f"{s['max_q_median']:.1f} max {s['max_q_max']:.1f}, solved median "
            f"{s['solved_step_median']}, wall {row['wall_s']:.0f} s",
            flush=True,
        )
        key = (name, tuple(seeds), args.stage, args.steps)
        rows = [
            r for r in load_rows(path)
            if (r["name"], tuple(r["seeds"]), r["stage"], r["steps"]) != key
        ]  # fmt: skip
        rows.append(row)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"rows": rows}, indent=1) + "\n")
        (RESULTS / f"{args.out}.md").write_text(markdown(rows))


if __name__ == "__main__":
    main()
