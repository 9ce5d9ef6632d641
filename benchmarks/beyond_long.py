"""Lesson 5 at a budget too long for the notebook: target updates, losses and overestimation.

Two parts, each ONE ``train_many`` batch (the arms differ only in loss, C, tau, double_dqn),
100,000 steps, no early stop, fresh seeds 300-309 (never used to choose any setting):

- ``updates``: a 2 x 2 on plain CartPole-v1: hard copy every C = 500 steps or soft update with
  tau = 2 / C (the same mean age of the target, C / 2 steps), squared or Huber loss; every
  other setting is ``cartpole_config()``'s.
- ``noisy``: CartPole with reward noise N(0, 3^2) (``register_noisy_cartpole``), DQN against
  Double DQN, squared loss, C = 500.

Per seed: the final greedy mean over 100 fresh noise-free episodes, the largest Q predicted on
any minibatch, and the overestimation gap: ``max_a Q(s0, a)`` against the discounted return
``G0`` the greedy policy then collects (20 fixed start states, rolled out 1,000 steps, no
noise), plus the mean return of the last 10 training episodes every 2,000 steps. Per arm: how
many seeds hold (final >= 475), IQM and mean with 95% percentile-bootstrap intervals
(``utils.stats``).

Usage::

    python benchmarks/beyond_long.py                 # both parts
    python benchmarks/beyond_long.py --parts updates

Writes ``benchmarks/results/beyond_long.json`` (rows replaced per part) and rewrites
``beyond_long.md`` from all rows.
"""

from __future__ import annotations

import argparse
import dataclasses
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
from utils.lessons.lesson5_overestimation import (  # noqa: E402
    predicted_and_realised,
    register_noisy_cartpole,
)
from utils.run_figures import returns_on_steps  # noqa: E402
from utils.runs import evaluate_greedy  # noqa: E402
from utils.stats import bootstrap_ci, iqm  # noqa: E402

ENV_ID = "CartPole-v1"
SOLVED = 475.0
STEPS = 100_000
SEEDS = list(range(300, 310))
PERIOD = 500
NOISE = 3.0
GRID = np.arange(2_000, STEPS + 1, 2_000)
RESULTS = ROOT / "benchmarks" / "results"

PARTS: dict[str, dict[str, dict]] = {
    "updates": {
        "hard C=500, squared": {"loss": "mse", "target_update_period": PERIOD},
        "soft tau=0.004, squared": {"loss": "mse", "target_update_period": 1, "tau": 2 / PERIOD},
        "hard C=500, Huber": {"loss": "huber", "target_update_period": PERIOD},
        "soft tau=0.004, Huber": {"loss": "huber", "target_update_period": 1, "tau": 2 / PERIOD},
    },
    "noisy": {
        "DQN, reward noise 3": {"loss": "mse", "target_update_period": PERIOD},
        "Double DQN, reward noise 3": {
            "loss": "mse",
            "target_update_period": PERIOD,
            "double_dqn": True,
        },
    },
}
"""Arms per part: overrides of ``cartpole_config(total_steps=100_000)``."""


def interval(values: np.ndarray, statistic: str) -> list[float]:
    return [round(x, 2) for x in bootstrap_ci(values, statistic)]


def run_part(part: str, seeds: list[int]) -> dict:
    """Train every arm of ``part`` on ``seeds`` in one batch; return the part's results."""
    arms = PARTS[part]
    env_id = register_noisy_cartpole(NOISE) if part == "noisy" else ENV_ID
    base = cartpole_config(total_steps=STEPS)
    configs = {name: dataclasses.replace(base, **o).validate() for name, o in arms.items()}
    start = time.perf_counter()
    runs = train_many(env_id, [configs[n] for n in arms for _ in seeds], seeds * len(arms),
                      progress=False)  # fmt: skip
    train_s = time.perf_counter() - start
    predicted, realised = predicted_and_realised(runs, env_id=ENV_ID)
    rows = []
    for i, name in enumerate(arms):
        per_seed = []
        for j, seed in enumerate(seeds):
            k = i * len(seeds) + j
            run, h = runs[k], runs[k].history
            final = evaluate_greedy(ENV_ID, run.q_network, 100, (seed + 10_000) % 2**32)
            curve = returns_on_steps(h.episode_end_steps, h.episode_returns, GRID)
            per_seed.append({
                "seed": seed,
                "final_mean_100": float(final.mean()),
                "max_q": float(h.max_q.max()),
                "predicted_q0": float(predicted[k].mean()),
                "collected_g0": float(realised[k].mean()),
                "gap": float((predicted[k] - realised[k]).mean()),
                "train_return_curve": [round(float(x), 1) for x in curve],
            })  # fmt: skip
        finals = np.array([p["final_mean_100"] for p in per_seed])
        gaps = np.array([p["gap"] for p in per_seed])
        max_q = np.array([p["max_q"] for p in per_seed])
        rows.append({
            "arm": name,
            "overrides": arms[name],
            "config": {k: list(v) if isinstance(v, tuple) else v
                       for k, v in configs[name].to_dict().items()},
            "summary": {
                "n_seeds": len(seeds),
                "n_hold": int((finals >= SOLVED).sum()),
                "final_iqm": iqm(finals), "final_iqm_ci95": interval(finals, "iqm"),
                "final_mean": float(finals.mean()), "final_mean_ci95": interval(finals, "mean"),
                "gap_iqm": iqm(gaps), "gap_iqm_ci95": interval(gaps, "iqm"),
                "max_q_median": float(np.median(max_q)), "max_q_max": float(max_q.max()),
                "q_bound": 1.0 / (1.0 - configs[name].gamma),
            },
            "per_seed": per_seed,
        })  # fmt: skip
    return {
        "part": part,
        "env_id": env_id,
        "reward_noise": NOISE if part == "noisy" else 0.0,
        "seeds": seeds,
        "steps": STEPS,
        "curve_steps": GRID.tolist(),
        "train_s": round(train_s, 1),
        "arms": rows,
    }


def machine_text(info: dict | str) -> str:
    """``{'cpu': 'AMD EPYC', 'logical_cores': 2, ...}`` -> ``'AMD EPYC, 2 logical cores'``."""
    if isinstance(info, dict):
        return f"{info.get('cpu', '?')}, {info.get('logical_cores', '?')} logical cores"
    return str(info)


def markdown(parts: list[dict]) -> str:
    lines = [
        "# Lesson 5 at 100,000 steps: target updates, losses, overestimation",
        "",
        "Produced by `benchmarks/beyond_long.py` (command, date and machine per part below). "
        "Each part is one `train_many` batch; arms are overrides of "
        "`cartpole_config(total_steps=100000)` (full configs in `beyond_long.json`). 'hold' = "
        "final greedy mean over 100 fresh noise-free episodes >= 475; gap = max_a Q(s0, a) - "
        "G0, the discounted return the greedy policy collects from 20 fixed start states "
        "(noise-free, rolled out 1,000 steps), mean over the states; intervals: 95% percentile "
        "bootstrap over seeds (`utils.stats`). Seeds 300-309 were used to choose nothing.",
    ]
    for p in parts:
        lines += [
            "",
            f"## Part `{p['part']}` on `{p['env_id']}` (reward noise sd {p['reward_noise']:g})",
            "",
            f"Command: `{p['command']}`  ",
            f"Date: {p['date']}; machine: {machine_text(p['machine'])}; torch {p['torch']}; "
            f"training {p['train_s']:.0f} s.",
            "",
            "| arm | hold | final IQM [95% CI] | final mean [95% CI] | gap IQM [95% CI] "
            "| max Q median / max (bound) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for a in p["arms"]:
            s = a["summary"]
            lines.append(
                f"| {a['arm']} | {s['n_hold']}/{s['n_seeds']} | {s['final_iqm']:.0f} "
                f"[{s['final_iqm_ci95'][0]:.0f}, {s['final_iqm_ci95'][1]:.0f}] | "
                f"{s['final_mean']:.0f} [{s['final_mean_ci95'][0]:.0f}, "
                f"{s['final_mean_ci95'][1]:.0f}] | {s['gap_iqm']:+.1f} "
                f"[{s['gap_iqm_ci95'][0]:+.1f}, {s['gap_iqm_ci95'][1]:+.1f}] | "
                f"{s['max_q_median']:.1f} / {s['max_q_max']:.1f} ({s['q_bound']:.0f}) |"
            )
        lines += ["", "Per seed: final greedy mean (largest Q, gap):", ""]
        for a in p["arms"]:
            cells = ", ".join(
                f"{q['seed']}: {q['final_mean_100']:.0f} ({q['max_q']:.0f}, {q['gap']:+.1f})"
                for q in a["per_seed"]
            )
            lines.append(f"- {a['arm']}: {cells}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="updates,noisy", help=f"from {list(PARTS)}")
    parser.add_argument(
        "--markdown-only", action="store_true", help="rewrite beyond_long.md from the json"
    )
    args = parser.parse_args()
    path = RESULTS / "beyond_long.json"
    if args.markdown_only:
        (RESULTS / "beyond_long.md").write_text(markdown(json.loads(path.read_text())["parts"]))
        return
    names = args.parts.split(",")
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; known: {list(PARTS)}")
    torch.set_num_threads(1)
    for name in names:
        part = run_part(name, SEEDS)
        part.update({
            "command": "python " + " ".join(sys.argv),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": machine(),
            "torch": torch.__version__,
        })  # fmt: skip
        for a in part["arms"]:
            s = a["summary"]
            print(
                f"{name} / {a['arm']}: hold {s['n_hold']}/{s['n_seeds']}, final IQM "
                f"{s['final_iqm']:.0f} {s['final_iqm_ci95']}, gap IQM {s['gap_iqm']:+.1f} "
                f"{s['gap_iqm_ci95']}, max Q median {s['max_q_median']:.1f}",
                flush=True,
            )
        old = json.loads(path.read_text())["parts"] if path.exists() else []
        parts = [p for p in old if p["part"] != name] + [part]
        parts.sort(key=lambda p: list(PARTS).index(p["part"]))
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"parts": parts}, indent=1) + "\n")
        (RESULTS / "beyond_long.md").write_text(markdown(parts))


if __name__ == "__main__":
    main()
