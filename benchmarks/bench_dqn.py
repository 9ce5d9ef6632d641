"""Benchmark the two-network DQN on CartPole-v1: does it solve, keep it, and how fast?

Part 1 (``--part single``): 10 seeds trained one after another with :func:`utils.train.train`
at 1 torch thread, updating every step, with ``cartpole_config()``. Training runs until the
greedy policy first averages >= 475 over 20 evaluation episodes (evaluated every 1,000 steps)
or 100,000 steps (``cartpole_config``'s budget). Per seed: the env steps that took, the final
greedy return (the policy at the end of training, on 100 fresh episodes), wall and CPU seconds,
env steps per second. Plus the
raw training speed: 20,000 steps with no evaluation, an update every step.

Part 2 (``--part many``): the same 10 seeds trained at once with :func:`utils.engine.train_many`
for the full 50,000 steps (no early stop), timed against one seed trained alone the same way
in the same run (with ``train``, and for comparison with ``train_many`` on one seed); its
learning (solved share, median steps to first reach 475, and the final policies after 50,000
steps, where late collapse shows) is reported next to part 1's. Then how the cost grows with
the number of agents K (3,000 steps each, an update every step), with the fraction of peak.

Part 3 (``--part hold``): does it keep what it learned? 10 seeds never used to choose the
settings (500-509) trained at once for 100,000 steps with no early stop; the final greedy
policy is evaluated on 100 fresh episodes. Reports how many seeds hold (final mean >= 475), the
mean final return with a percentile-bootstrap 95% interval, and the largest Q predicted during
training against the bound 1 / (1 - gamma).

Usage: ``python benchmarks/bench_dqn.py [--part single|many|hold|all]``. Writes
``benchmarks/results/dqn.json`` (part 1), ``train_many.json`` + ``train_many_scaling.png``
(part 2), ``dqn_hold.json`` (part 3), and ``dqn.md`` summarising them. Exits 1 if a floor
is missed. The machine may be shared: part 2 repeats each timing, interleaved, and keeps the
best.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
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

from utils.dqn import DQNConfig, cartpole_config, impossible_q_bound  # noqa: E402
from utils.engine import auto_threads, train_many  # noqa: E402
from utils.stats import bootstrap_ci  # noqa: E402
from utils.train import train  # noqa: E402

ENV_ID = "CartPole-v1"
SEEDS = list(range(10))
SOLVED = 475.0
# median_steps_to_solve was 30,000 for the Huber + C=200 settings, which solved sooner but kept
# what they learned on 4 of 10 seeds; the slower target that holds (issue 14) solves later.
FLOORS = {"solved_seeds": 9, "median_steps_to_solve": 50_000, "steps_per_second": 1_500,
          "many_vs_one_wall_ratio": 1.5, "agent_steps_per_s_at_k20": 30_000}  # fmt: skip
K_VALUES = (1, 2, 5, 10, 20, 50)
SCALING_STEPS = 3_000
REPEATS = 2  # the machine is shared: each timing is repeated, interleaved, and the best kept
PEAK_GFLOPS = 166.0  # one AVX-512 core's fp32 FMA peak as the issue states it
SPEED_STEPS = 20_000
HOLD_SEEDS = list(range(500, 510))  # never used to choose the settings
HOLD_STEPS = 100_000
HOLD_FLOOR = 9  # seeds of 10 whose final greedy mean is >= 475 after HOLD_STEPS


MANY_STEPS = 50_000  # part 2's budget per seed: the issue's floor is stated for 50,000 steps


def config(**overrides) -> DQNConfig:
    """Lesson 4's config, evaluated every 1,000 steps on 20 episodes."""
    return cartpole_config(eval_every=1_000, eval_episodes=20, solved_return=SOLVED, **overrides)


def many_config() -> DQNConfig:
    """Part 2's config: ``config()`` for MANY_STEPS steps (the learning rate anneals over them)."""
    return config(total_steps=MANY_STEPS)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def part_single() -> dict:
    warm_up()
    runs = []
    for seed in SEEDS:
        run, wall, cpu = timed(
            lambda seed=seed: train(ENV_ID, config(stop_when_solved=True), seed, progress=False)
        )
        final = run.evaluate(100)
        runs.append({
            "seed": seed,
            "steps_to_solve": run.history.solved_step,
            "env_steps": run.global_step,
            "final_return_100_episodes": float(final.mean()),
            "final_return_min": float(final.min()),
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "env_steps_per_s": round(run.global_step / wall, 1),
        })  # fmt: skip
        print(runs[-1], flush=True)
    _, wall, cpu = timed(
        lambda: train(ENV_ID, cartpole_config(total_steps=SPEED_STEPS), 0, progress=False)
    )
    speed = {"env_steps": SPEED_STEPS, "updates": SPEED_STEPS - 1_000, "wall_s": round(wall, 2),
             "cpu_s": round(cpu, 2), "env_steps_per_s": round(SPEED_STEPS / wall, 1)}  # fmt: skip
    solved = [r["steps_to_solve"] for r in runs if r["steps_to_solve"] is not None]
    kept = [r for r in runs if r["steps_to_solve"] and r["final_return_100_episodes"] >= SOLVED]
    summary = {
        "seeds_solved": len(solved),
        "solved_and_final_at_least_475": len(kept),
        "median_steps_to_solve": float(np.median(solved)) if solved else None,
        "training_speed": speed,
    }
    summary["floors_met"] = {
        "solved_seeds": len(kept) >= FLOORS["solved_seeds"],
        "median_steps_to_solve": bool(solved)
        and summary["median_steps_to_solve"] <= FLOORS["median_steps_to_solve"],
        "steps_per_second": speed["env_steps_per_s"] >= FLOORS["steps_per_second"],
    }
    return {"config": config(stop_when_solved=True).to_dict(), "runs": runs, "summary": summary}


def warm_up() -> None:
    """Pay one-time costs (imports torch.optim pulls in on first use) before anything is timed."""
    tiny = cartpole_config(total_steps=1_100, learning_starts=1_000)
    train(ENV_ID, tiny, 0, progress=False)
    train_many(ENV_ID, tiny, [0, 1], progress=False)


def update_flop(config: DQNConfig, obs_dim: int = 4, n_actions: int = 2) -> float:
    """FLOP of one agent's update: online and target forward passes, and the backward pass."""
    sizes = (obs_dim, *config.hidden_sizes, n_actions)
    forward = 2 * config.batch_size * sum(a * b for a, b in itertools.pairwise(sizes))
    first_input_grad = 2 * config.batch_size * sizes[0] * sizes[1]  # not needed
    return 2 * forward + 2 * forward - first_input_grad


def sgemm_gflops() -> float:
    """The best fp32 GFLOP/s of a 1024 x 1024 product here (a practical peak of the BLAS)."""
    a = torch.randn(1024, 1024)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 1024**3 / best / 1e9


def onednn_gflops() -> float | None:
    """The best fp32 GFLOP/s of a 2048 x 1024 x 1024 product through oneDNN, or None.

    oneDNN (torch's other CPU matrix library, used by its compiler) picks its kernels by the
    instructions the CPU has; MKL, which runs ``torch.bmm`` and the sgemm above, chooses by the
    CPU's maker too. The two side by side tell the BLAS's rate from the CPU's.
    """
    op = getattr(torch.ops.mkldnn, "_linear_pointwise", None)
    if op is None or not torch.backends.mkldnn.is_available():
        return None
    x, w, b = torch.randn(2048, 1024), torch.randn(1024, 1024), torch.zeros(1024)
    best = float("inf")
    try:
        for _ in range(5):
            start = time.perf_counter()
            op(x, w, b, "none", [], "")
            best = min(best, time.perf_counter() - start)
    except RuntimeError:
        return None
    return 2 * 2048 * 1024**2 / best / 1e9


def products_seconds(config: DQNConfig, k: int, obs_dim: int = 4, n_actions: int = 2) -> float:
    """Seconds per update of the batched matrix products alone, for K agents (best of 5).

    The products ``train_many`` runs in one update, with its shapes and layouts: each layer's
    product in the online and the target forward pass, and in the backward pass the input and
    weight gradients (none for the observations). Timed apart from everything else, they are
    the part of a step no trimming of Python or bookkeeping can remove at these sizes.
    """
    sizes = (obs_dim, *config.hidden_sizes, n_actions)
    gen = torch.Generator().manual_seed(0)
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        x = torch.randn(k, config.batch_size, fan_in, generator=gen)
        w = torch.randn(k, fan_out, fan_in, generator=gen)
        b = torch.randn(k, 1, fan_out, generator=gen)
        g = torch.randn(k, config.batch_size, fan_out, generator=gen)
        layers.append((x, w, b, g))

    def update() -> None:
        for _ in range(2):  # online and target forward
            for x, w, b, _ in layers:
                torch.baddbmm(b, x, w.mT)
        for i, (x, w, _, g) in enumerate(layers):
            g.mT.bmm(x)  # weight gradient (the engine's form for the wide layers)
            if i > 0:
                g.bmm(w)  # input gradient

    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(200):
            update()
        best = min(best, (time.process_time() - start) / 200)
    return best


def part_many() -> dict:
    warm_up()
    alone_walls, many_walls, batched_walls, default_walls = [], [], [], []
    for _ in range(REPEATS):  # interleaved: one seed alone, ten together, one through train_many
        (alone,), wall, _ = timed(lambda: [train(ENV_ID, many_config(), SEEDS[0], progress=False)])
        alone_walls.append(wall)
        runs, wall, _ = timed(
            lambda: train_many(ENV_ID, many_config(), SEEDS, progress=False, threads=1)
        )
        many_walls.append(wall)
        _, wall, _ = timed(
            lambda: train_many(ENV_ID, many_config(), SEEDS[:1], progress=False, threads=1)
        )
        batched_walls.append(wall)
        _, wall, _ = timed(lambda: train_many(ENV_ID, many_config(), SEEDS, progress=False))
        default_walls.append(wall)
        print({"alone": alone_walls[-1], "ten": many_walls[-1], "one_many": batched_walls[-1],
               "ten_default_threads": default_walls[-1]})  # fmt: skip
    alone_wall, many_wall, batched_wall = min(alone_walls), min(many_walls), min(batched_walls)
    infos = []
    for run in runs:
        final = run.evaluate(100)
        infos.append({"seed": run.seed, "steps_to_solve": run.history.solved_step,
                      "final_return_100_episodes_after_50k": float(final.mean())})  # fmt: skip
    same = runs[0].history.episode_returns[:50]
    solved = [r["steps_to_solve"] for r in infos if r["steps_to_solve"] is not None]
    scaling = []
    cfg = cartpole_config(total_steps=SCALING_STEPS, learning_starts=0)  # an update every step
    flop, peak, onednn = update_flop(cfg), sgemm_gflops(), onednn_gflops()
    for k in K_VALUES:
        walls = []
        for _ in range(REPEATS):
            _, wall, _ = timed(
                lambda k=k: train_many(ENV_ID, cfg, list(range(k)), progress=False, threads=1)
            )
            walls.append(wall)
        rate = k * SCALING_STEPS / min(walls)
        gflops = rate * flop / 1e9
        products = products_seconds(cfg, k)
        row = {
            "K": k,
            "wall_s": round(min(walls), 2),
            "agent_steps_per_s": round(rate, 1),
            "gflops": round(gflops, 1),
            "fraction_of_166_gflops": round(gflops / PEAK_GFLOPS, 3),
            "fraction_of_measured_sgemm": round(gflops / peak, 3),
            "fraction_of_measured_onednn": round(gflops / onednn, 3) if onednn else None,
            "products_alone_us_per_step": round(products * 1e6, 1),
            "products_share_of_step": round(products / (min(walls) / SCALING_STEPS), 3),
        }
        if auto_threads(k) > 1:  # what a lesson gets by default, beside the floor's 1 thread
            walls = [
                timed(lambda k=k: train_many(ENV_ID, cfg, list(range(k)), progress=False))[1]
                for _ in range(REPEATS)
            ]
            row["default_threads"] = auto_threads(k)
            row["agent_steps_per_s_default_threads"] = round(k * SCALING_STEPS / min(walls), 1)
        scaling.append(row)
        print(scaling[-1], flush=True)
    ratio = many_wall / alone_wall
    k20 = next(row["agent_steps_per_s"] for row in scaling if row["K"] == 20)
    return {
        "config": many_config().to_dict(),
        "repeats": REPEATS,
        "one_seed_alone_wall_s": round(alone_wall, 2),
        "ten_seeds_together_wall_s": round(many_wall, 2),
        "wall_ratio": round(ratio, 2),
        "all_walls_s": {
            "alone": [round(w, 2) for w in alone_walls],
            "ten": [round(w, 2) for w in many_walls],
            "one_through_train_many": [round(w, 2) for w in batched_walls],
            "ten_default_threads": [round(w, 2) for w in default_walls],
        },
        "ten_default_threads": auto_threads(len(SEEDS)),
        "ten_seeds_default_threads_wall_s": round(min(default_walls), 2),
        "wall_ratio_default_threads": round(min(default_walls) / alone_wall, 2),
        "one_seed_alone_with_train_many_wall_s": round(batched_wall, 2),
        "wall_ratio_vs_train_many_one_seed": round(many_wall / batched_wall, 2),
        "seed0_first_50_episodes_identical_to_train": bool(
            np.array_equal(same, alone.history.episode_returns[:50])
        ),
        "runs": infos,
        "summary": {
            "seeds_solved": len(solved),
            "median_steps_to_solve": float(np.median(solved)) if solved else None,
            "final_at_least_475_after_50k": sum(
                r["final_return_100_episodes_after_50k"] >= SOLVED for r in infos
            ),
            "floors_met": {
                "many_vs_one_wall_ratio": ratio <= FLOORS["many_vs_one_wall_ratio"],
                "agent_steps_per_s_at_k20": k20 >= FLOORS["agent_steps_per_s_at_k20"],
            },
        },
        "update_mflop_per_agent": round(flop / 1e6, 3),
        "measured_sgemm_1024_gflops": round(peak, 1),
        "measured_onednn_2048_gflops": round(onednn, 1) if onednn else None,
        "scaling_steps_per_agent": SCALING_STEPS,
        "scaling": scaling,
    }


def onednn_text(r: dict) -> str:
    """The oneDNN rate for the report, and what it says of MKL's, or why it is missing."""
    onednn = r.get("measured_onednn_2048_gflops")
    if onednn is None:
        return "not available in this torch build"
    ratio = onednn / r["measured_sgemm_1024_gflops"]
    return (
        f"{onednn} GFLOP/s, {ratio:.1f}x MKL's on the same core; the products `train_many` runs "
        "go through MKL, at its rate"
    )


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


def part_hold() -> dict:
    """Train HOLD_SEEDS for HOLD_STEPS with no early stop; report who keeps >= 475."""
    cfg = config(total_steps=HOLD_STEPS)
    runs, wall, _ = timed(lambda: train_many(ENV_ID, cfg, HOLD_SEEDS, progress=False, threads=1))
    bound = impossible_q_bound(cfg.gamma)
    infos = []
    for run in runs:
        final = run.evaluate(100)
        infos.append({
            "seed": run.seed,
            "final_return_100_episodes": float(final.mean()),
            "final_return_min": float(final.min()),
            "largest_q": float(np.max(run.history.max_q)),
            "first_step_at_475": run.history.solved_step,
        })  # fmt: skip
        print(infos[-1], flush=True)
    finals = np.array([r["final_return_100_episodes"] for r in infos])
    largest = np.array([r["largest_q"] for r in infos])
    low, high = bootstrap_ci(finals, "mean", seed=0)
    held = int((finals >= SOLVED).sum())
    return {
        "config": cfg.to_dict(),
        "seeds": HOLD_SEEDS,
        "wall_s": round(wall, 1),
        "bound": bound,
        "runs": infos,
        "summary": {
            "held": held,
            "mean_final": float(finals.mean()),
            "mean_final_ci95": [float(low), float(high)],
            "lowest_final": float(finals.min()),
            "largest_q_median": float(np.median(largest)),
            "largest_q_max": float(largest.max()),
            "seeds_with_q_over_bound": int((largest > bound).sum()),
            "floors_met": {"holds_at_100k": held >= HOLD_FLOOR},
        },
    }


def hold_markdown(r: dict) -> list[str]:
    """The 'holds at 100k' section of dqn.md."""
    s = r["summary"]
    low, high = s["mean_final_ci95"]
    finals = ", ".join(
        f"{x['seed']}: {x['final_return_100_episodes']:.0f} (Q {x['largest_q']:.0f})"
        for x in r["runs"]
    )
    return [
        "## Holds at 100k: does it keep what it learned?",
        "",
        f"Command: `{r['command']}` ({r['date']}; {r['machine']['cpu']}, torch {r['torch']} at "
        f"1 thread; {r['wall_s']} s). Seeds {r['seeds'][0]}-{r['seeds'][-1]} were never used "
        f"to choose the settings; {r['config']['total_steps']:,} steps, no early stop, final "
        "greedy policy on 100 fresh episodes.",
        "",
        f"- Holds (final mean >= 475): **{s['held']}/10** (floor {HOLD_FLOOR}); mean final "
        f"return **{s['mean_final']:.0f}** [95% CI {low:.0f}, {high:.0f}], lowest "
        f"{s['lowest_final']:.0f}.",
        f"- Largest Q predicted during training: median {s['largest_q_median']:.1f}, max "
        f"{s['largest_q_max']:.1f}; bound 1/(1 - gamma) = {r['bound']:.0f}; "
        f"{s['seeds_with_q_over_bound']}/10 seeds went above it at some point.",
        f"- Per seed (final return, largest Q): {finals}.",
        "",
    ]


def markdown(out: Path) -> str:
    """Summarise whichever result files exist as a page a reader can check the floors on."""
    lines = ["# DQN on CartPole-v1: learning and speed", ""]
    single_path, many_path = out / "dqn.json", out / "train_many.json"
    if single_path.exists():
        r = json.loads(single_path.read_text())
        s = r["summary"]
        lines += [
            f"Command: `{r['command']}` ({r['date']}; {r['machine']['cpu']}, "
            f"{r['machine']['logical_cores']} cores, torch {r['torch']} at "
            f"{r['torch_threads']} thread).",
            "",
            "Training stops at the first evaluation (every 1,000 steps, 20 episodes) whose mean "
            "greedy return reaches 475, or at 100,000 steps; the final policy is that last one, "
            "re-evaluated on 100 fresh episodes.",
            "",
            "| seed | steps to solve | final return (100 ep.) | min | wall s | CPU s | steps/s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for run in r["runs"]:
            lines.append(
                f"| {run['seed']} | {run['steps_to_solve']} | "
                f"{run['final_return_100_episodes']:.1f} | {run['final_return_min']:.0f} | "
                f"{run['wall_s']} | {run['cpu_s']} | {run['env_steps_per_s']} |"
            )
        speed = s["training_speed"]
        lines += [
            "",
            f"- Solved and still >= 475 at the end: **{s['solved_and_final_at_least_475']}/10** "
            f"(floor {FLOORS['solved_seeds']}); median steps to solve: "
            f"**{s['median_steps_to_solve']:.0f}** (floor {FLOORS['median_steps_to_solve']}).",
            f"- Training speed, an update every step, no evaluation: "
            f"**{speed['env_steps_per_s']:.0f} env steps/s** ({speed['env_steps']} steps in "
            f"{speed['wall_s']} s wall, {speed['cpu_s']} s CPU; floor "
            f"{FLOORS['steps_per_second']}).",
            f"- Floors met: {s['floors_met']}.",
            "",
        ]
    if many_path.exists():
        r = json.loads(many_path.read_text())
        s = r["summary"]
        lines += [
            "## Ten seeds at once (`train_many`)",
            "",
            f"Command: `{r['command']}` ({r['date']}; {r['machine']['cpu']}, "
            f"{r['machine']['logical_cores']} cores (other jobs may share them), torch "
            f"{r['torch']} at 1 thread). Each timing was repeated {r['repeats']} times, "
            f"interleaved, and the best kept (all: {r['all_walls_s']}). `train_many` runs on "
            "the CPU; a GPU is opt-in (`device=` or `$DQN_COURSE_DEVICE`), and none was "
            "measured here.",
            "",
            f"- 10 seeds x 50,000 steps together: **{r['ten_seeds_together_wall_s']} s**; one "
            f"seed alone, same settings: {r['one_seed_alone_wall_s']} s; ratio "
            f"**{r['wall_ratio']}** (floor {FLOORS['many_vs_one_wall_ratio']}; the baseline is "
            "`train`, the trainer a learner runs for one seed).",
            f"- For comparison, one seed through `train_many` itself (NumPy CartPole, wrapper-free "
            f"fused Adam, fast evaluation): {r['one_seed_alone_with_train_many_wall_s']} s; ten "
            f"seeds cost "
            f"{r['wall_ratio_vs_train_many_one_seed']}x that.",
            f"- As a lesson runs them (`train_many`'s default, {r['ten_default_threads']} torch "
            f"threads for 10 agents; `train`'s default is 1): ten seeds "
            f"{r['ten_seeds_default_threads_wall_s']} s, ratio {r['wall_ratio_default_threads']} "
            "to the same one seed alone. The floor is stated for 1 thread.",
            f"- Seed 0's first 50 episodes identical to `train`'s: "
            f"{r['seed0_first_50_episodes_identical_to_train']}.",
            f"- Learning (no early stop): {s['seeds_solved']}/10 reached 475, median "
            f"{s['median_steps_to_solve']} steps; after the full 50,000 steps "
            f"{s['final_at_least_475_after_50k']}/10 final policies score >= 475. This part "
            "measures speed: its 50,000 steps are half the budget the settings were chosen for "
            "(the learning rate anneals to 0 twice as fast); see 'Holds at 100k' below.",
            "",
            f"Cost of K agents: {r['scaling_steps_per_agent']:,} steps each, an update every step "
            f"(learning_starts=0), best of {r['repeats']}. One agent's update is "
            f"{r['update_mflop_per_agent']} MFLOP (online and target forward, backward); the "
            f"fractions are of the issue's 166 GFLOP/s (one AVX-512 core's fp32 peak), of "
            f"this machine's measured 1024 x 1024 sgemm through MKL, the library `torch.bmm` "
            f"runs here ({r['measured_sgemm_1024_gflops']} GFLOP/s), and of a 2048 x 1024 x 1024 "
            f"product through oneDNN ({onednn_text(r)}). Floor at K = 20: "
            f"{FLOORS['agent_steps_per_s_at_k20']:,} agent-steps/s, 1 thread "
            f"(met: {s['floors_met']['agent_steps_per_s_at_k20']}). The last column is the "
            "default a lesson gets (`threads=None`: two torch threads from 10 agents on).",
            "",
            "| K agents | wall s | agent-steps/s | GFLOP/s | of 166 | of MKL sgemm "
            "| of oneDNN | agent-steps/s, default threads |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in r["scaling"]:
            of_onednn = row.get("fraction_of_measured_onednn")
            lines.append(
                f"| {row['K']} | {row['wall_s']} | {row['agent_steps_per_s']} | {row['gflops']} "
                f"| {row['fraction_of_166_gflops']:.0%} | {row['fraction_of_measured_sgemm']:.0%} "
                f"| {'-' if of_onednn is None else f'{of_onednn:.0%}'} "
                f"| {row.get('agent_steps_per_s_default_threads', '-')} |"
            )
        shares = [row for row in r["scaling"] if "products_share_of_step" in row]
        if shares:
            lines += [
                "",
                "The update's matrix products alone (online and target forward, backward), timed "
                "apart with the same shapes (CPU time), against the step (wall time): "
                + "; ".join(
                    f"K = {row['K']}: {row['products_alone_us_per_step']:.0f} us, "
                    f"{row['products_share_of_step']:.0%}"
                    for row in shares
                )
                + ". What is left of a step is Python, the other operations and memory traffic.",
            ]
        lines += ["", "![cost of K agents](train_many_scaling.png)", ""]
    hold_path = out / "dqn_hold.json"
    if hold_path.exists():
        lines += hold_markdown(json.loads(hold_path.read_text()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["single", "many", "hold", "all"], default="all")
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
        report = {"command": "python benchmarks/bench_dqn.py --part single", **meta,
                  **part_single()}  # fmt: skip
        (args.out / "dqn.json").write_text(json.dumps(report, indent=2) + "\n")
        ok &= all(report["summary"]["floors_met"].values())
    if args.part in ("many", "all"):
        report = {"command": "python benchmarks/bench_dqn.py --part many", **meta, **part_many()}
        (args.out / "train_many.json").write_text(json.dumps(report, indent=2) + "\n")
        plot_scaling(report["scaling"], args.out / "train_many_scaling.png")
        ok &= all(report["summary"]["floors_met"].values())
    if args.part in ("hold", "all"):
        report = {"command": "python benchmarks/bench_dqn.py --part hold", **meta, **part_hold()}
        (args.out / "dqn_hold.json").write_text(json.dumps(report, indent=2) + "\n")
        ok &= all(report["summary"]["floors_met"].values())
    text = markdown(args.out)
    (args.out / "dqn.md").write_text(text)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
