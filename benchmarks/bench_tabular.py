"""Benchmark tabular Q-learning: does it learn slippery FrozenLake, and how fast?

The claim checked (Lesson 1): trained for 5,000 episodes, the greedy policy succeeds in at
least 70% of 1,000 evaluation episodes, and training takes under 5 s of CPU time. Every seed
is reported, with the exact success probability of its policy (dynamic programming, no
sampling noise) next to the sampled rate. Taxi-v4 is reported too, against its Q*.

Usage: ``python benchmarks/bench_tabular.py [--seeds 5]``. Writes
``benchmarks/results/tabular.json`` and ``tabular.md``; exits 1 if a claim fails.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from utils.envs import make_env  # noqa: E402
from utils.evaluation import evaluate  # noqa: E402
from utils.schedules import LinearSchedule  # noqa: E402
from utils.tabular import (  # noqa: E402
    expected_return,
    greedy_policy,
    optimal_action_fraction,
    q_learning,
    reachable_states,
    success_probability,
    value_iteration,
)

# The settings Lesson 1 uses.
LAKE = {
    "episodes": 5000,
    "alpha": 0.1,
    "gamma": 0.99,
    "epsilon": {"start": 1.0, "end": 0.05, "duration": 2000},
}
TAXI = {
    "episodes": 5000,
    "alpha": 0.5,
    "gamma": 0.99,
    "epsilon": {"start": 1.0, "end": 0.05, "duration": 2000},
}
EVAL_EPISODES = 1000
SUCCESS_TARGET = 0.70
CPU_LIMIT_S = 5.0


def machine() -> dict:
    """Describe where the numbers were measured."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gymnasium": gym.__version__,
    }


def step_cost_us(env: gym.Env, steps: int = 100_000) -> float:
    """Microseconds per bare ``env.step`` with random actions (the floor for any agent)."""
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(env.action_space.n, size=steps).tolist()
    start = time.process_time()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return (time.process_time() - start) / steps * 1e6


def bench_lake(seeds: list[int]) -> dict:
    env = make_env("FrozenLake-v1")
    q_star = value_iteration(env, gamma=LAKE["gamma"])
    optimal = success_probability(env, greedy_policy(q_star))
    schedule = LinearSchedule(**LAKE["epsilon"])
    acting = reachable_states(env)
    runs = []
    for seed in seeds:
        start = time.process_time()
        result = q_learning(
            env,
            episodes=LAKE["episodes"],
            alpha=LAKE["alpha"],
            gamma=LAKE["gamma"],
            epsilon=schedule,
            seed=seed,
        )
        cpu = time.process_time() - start
        policy = greedy_policy(result.q_table)
        evaluation = evaluate(env, policy, episodes=EVAL_EPISODES, seed=10_000 + seed)
        runs.append(
            {
                "seed": seed,
                "train_cpu_s": round(cpu, 3),
                "train_steps": result.total_steps,
                "us_per_step": round(cpu / result.total_steps * 1e6, 2),
                "success_rate_1000_episodes": evaluation.success_rate,
                "exact_success_probability": round(success_probability(env, policy), 4),
                "optimal_action_fraction": round(
                    optimal_action_fraction(policy, q_star, states=acting), 4
                ),
                "q_distance_inf_acting_states": round(
                    float(np.abs(result.q_table - q_star)[acting].max()), 4
                ),
                "passed": bool(evaluation.success_rate >= SUCCESS_TARGET and cpu < CPU_LIMIT_S),
            }
        )
    return {
        "env": "FrozenLake-v1 (4x4, slippery, 100-step limit)",
        "settings": LAKE,
        "optimal_exact_success_probability": round(optimal, 4),
        "bare_env_step_us": round(step_cost_us(env), 2),
        "runs": runs,
    }


def bench_taxi(seeds: list[int]) -> dict:
    env = make_env("Taxi-v4")
    q_star = value_iteration(env, gamma=TAXI["gamma"])
    optimal = greedy_policy(q_star)
    settings = dict(TAXI, epsilon=LinearSchedule(**TAXI["epsilon"]))
    acting = reachable_states(env)
    runs = []
    for seed in seeds:
        start = time.process_time()
        result = q_learning(env, seed=seed, **settings)
        cpu = time.process_time() - start
        policy = greedy_policy(result.q_table)
        evaluation = evaluate(env, policy, episodes=EVAL_EPISODES, seed=20_000)
        runs.append(
            {
                "seed": seed,
                "train_cpu_s": round(cpu, 3),
                "train_steps": result.total_steps,
                "success_rate_1000_episodes": evaluation.success_rate,
                "exact_expected_return": round(expected_return(env, policy), 4),
                "optimal_action_fraction": round(
                    optimal_action_fraction(policy, q_star, states=acting), 4
                ),
            }
        )
    return {
        "env": "Taxi-v4 (200-step limit)",
        "settings": TAXI,
        "optimal_exact_expected_return": round(expected_return(env, optimal), 4),
        "runs": runs,
    }


def markdown(report: dict) -> str:
    lake, taxi = report["frozen_lake"], report["taxi"]
    lines = [
        "# Tabular Q-learning benchmark",
        "",
        f"Command: `{report['command']}`  ",
        f"Date: {report['date']}  ",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in report["machine"].items()),
        "",
        "'optimal action': fraction of the states the agent acts in (not holes, goal or "
        "unreachable states) where the learned greedy action is optimal under Q* (ties "
        "count); ‖Q−Q*‖∞ over those states' rows. CPU time is `time.process_time()` "
        "around `q_learning` alone.",
        "",
        f"## {lake['env']}",
        "",
        f"Settings: {json.dumps(lake['settings'])}. Claim: success >= {SUCCESS_TARGET} over "
        f"{EVAL_EPISODES} evaluation episodes with training under {CPU_LIMIT_S} s CPU.",
        f"Optimal policy (value iteration, gamma 0.99), exact success within 100 steps: "
        f"**{lake['optimal_exact_success_probability']:.4f}**. "
        f"Bare `env.step`: {lake['bare_env_step_us']} µs.",
        "",
        "| seed | train CPU s | steps | µs/step | success (1000 ep.) | exact success "
        "| optimal action | ‖Q−Q*‖∞ | passed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in lake["runs"]:
        lines.append(
            f"| {r['seed']} | {r['train_cpu_s']:.2f} | {r['train_steps']} | {r['us_per_step']} "
            f"| {r['success_rate_1000_episodes']:.3f} | {r['exact_success_probability']:.4f} "
            f"| {r['optimal_action_fraction']:.3f} | {r['q_distance_inf_acting_states']:.3f} "
            f"| {'yes' if r['passed'] else 'NO'} |"
        )
    lines += [
        "",
        f"## {taxi['env']}",
        "",
        f"Settings: {json.dumps(taxi['settings'])}. Optimal policy (value iteration, "
        f"gamma 0.99), exact expected return within 200 steps: "
        f"**{taxi['optimal_exact_expected_return']:.4f}**.",
        "",
        "| seed | train CPU s | steps | success (1000 ep.) | exact expected return "
        "| optimal action |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in taxi["runs"]:
        lines.append(
            f"| {r['seed']} | {r['train_cpu_s']:.2f} | {r['train_steps']} "
            f"| {r['success_rate_1000_episodes']:.3f} | {r['exact_expected_return']:.4f} "
            f"| {r['optimal_action_fraction']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (0, 1, ...)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    report = {
        "command": "python benchmarks/bench_tabular.py"
        + (f" --seeds {args.seeds}" if args.seeds != 5 else ""),
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "frozen_lake": bench_lake(seeds),
        "taxi": bench_taxi(seeds),
    }
    report["all_passed"] = all(r["passed"] for r in report["frozen_lake"]["runs"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tabular.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.out / "tabular.md").write_text(markdown(report))
    print(markdown(report))
    return 0 if report["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
