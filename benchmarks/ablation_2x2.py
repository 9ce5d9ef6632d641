"""The Nature ablation in miniature: {online, replay} x {one network, two networks} on CartPole.

Mnih et al. (2015), Extended Data Table 3, switched experience replay and the target network
on and off. This script does the same 2 x 2 with the course's settings
(``cartpole_config()``), each arm with its own learning rate and loss:

- ``online``: ``buffer_size=1, batch_size=1, learning_starts=0``, one update per step on the
  transition that just happened (Lesson 3's online learner); ``replay``: the base settings.
- ``one``: ``target_update_period=None`` (the network computes its own targets);
  ``two``: the base settings' target network, refreshed every C steps.

1. Tuning: for each arm, every (learning rate, loss) of the grid on the tuning seeds, at
   ``--steps`` with no early stop; the arm keeps the setting with the best mean final greedy
   return, and among those within ``TIE_TOLERANCE`` of it, the lowest median largest Q.
   The two arms of one family (online or replay) share their shape fields
   (:data:`utils.engine.SHARED_FIELDS`), so each family's whole grid trains as one batch.
2. Comparison: each arm's chosen setting on fresh seeds (never used to choose), same budget.

Per seed: the final greedy return (mean of 100 episodes), the largest Q the online network
predicted on a training minibatch (``History.max_q``; the online learner's minibatch is one
transition, replay's is 64), whether it exceeds ``impossible_q_bound(gamma)``, and, over the
same 100 evaluation episodes, the final network's mean Q(s0, a0) (a0 = its greedy action at
the start state) against the mean discounted return its greedy policy then collected from s0.

Results schema of ``benchmarks/results/ablation_2x2.json`` (the Markdown file is generated from
it; neither is edited by hand). A Q-value that diverged (infinite or NaN) is written as null::

    {
      "command": str, "date": str (ISO), "machine": {...}, "torch": str,
      "steps": int,                 # environment steps per run, no early stop
      "bound": float,               # impossible_q_bound(gamma) = 100 for gamma = 0.99
      "gamma": float,
      "base_config": {...},         # cartpole_config(total_steps=steps).to_dict()
      "eval_episodes": int,         # greedy episodes per final evaluation (100)
      "trace_every": int,           # steps per bin of max_q_trace
      "note": str,                  # what was cut, if anything ("" if nothing)
      "tuning_seeds": [int], "comparison_seeds": [int],
      "tuning_wall_s": {"online": float, "replay": float},
      "tuning": [                   # one row per (arm, learning_rate, loss)
        {"arm": str, "learning_rate": float, "loss": str, "seeds": [int],
         "final_returns": [float], "mean_final": float, "max_q": [float],
         "median_max_q": float, "chosen": bool}, ...],
      "arms": {                     # keys: online_one, online_two, replay_one, replay_two
        "online_one": {
          "replay": bool, "target_network": bool,
          "config": {...},          # overrides of cartpole_config (chosen lr and loss included)
          "seeds": [int],
          "final_returns": [float], # per seed: mean greedy return over eval_episodes
          "max_q": [float],         # per seed: largest Q predicted during training
          "over_bound": [bool],     # per seed: max_q > bound
          "q_s0": [float],          # per seed: mean over eval episodes of Q(s0, a0)
          "return_s0": [float],     # per seed: mean discounted return collected from s0
          "max_q_trace": {"steps": [int],              # end of each bin
                          "per_seed": [[float|null]]}, # per seed: largest Q in the bin
          "iqm": float, "iqm_ci": [lo, hi], "mean": float, "mean_ci": [lo, hi],
          "share_over_bound": float,
          "median_max_q": float, "median_q_s0": float, "median_return_s0": float,
          "wall_s": float           # wall time of the batch this arm trained in
        }, ...
      }
    }

Usage::

    python benchmarks/ablation_2x2.py                      # the full run (defaults below)
    python benchmarks/ablation_2x2.py --steps 3000 --tuning-seeds 300 \\
        --comparison-seeds 400-401 --learning-rates 1e-3 --losses mse   # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_tabular import machine  # noqa: E402
from sweep_hold import parse_seeds  # noqa: E402

from utils.config import LOSSES, DQNConfig, cartpole_config  # noqa: E402
from utils.dqn import impossible_q_bound  # noqa: E402
from utils.engine import StackedQNetwork, evaluate_greedy_many, train_many  # noqa: E402
from utils.runs import DQNRun  # noqa: E402
from utils.seeding import episode_seeds  # noqa: E402
from utils.stats import bootstrap_ci, iqm  # noqa: E402

ENV_ID = "CartPole-v1"
RESULTS = ROOT / "benchmarks" / "results"
ARMS = ("online_one", "online_two", "replay_one", "replay_two")
"""The four arms: {online, replay} x {one network, two networks}."""
ONLINE = {"buffer_size": 1, "batch_size": 1, "learning_starts": 0}
"""Overrides that make the learner online: it learns from the transition that just happened."""
TIE_TOLERANCE = 10.0
"""Tuning: settings whose mean final return is within this of the best count as tied."""
EVAL_SEED_OFFSET = 1_000_003
"""Final evaluation episodes use seed + this, as ``DQNRun.evaluate``'s default (unseen)."""
NATURE_BREAKOUT = {"replay_two": 316.8, "replay_one": 240.7, "online_two": 10.2, "online_one": 3.2}
"""Mnih et al. (2015), Extended Data Table 3, Breakout: both, replay only, target only, neither."""


def arm_overrides(arm: str, base: DQNConfig) -> dict:
    """Return the overrides of ``cartpole_config`` that define ``arm`` (without lr and loss).

    Raises:
        ValueError: If ``arm`` is not one of :data:`ARMS`.
    """
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {ARMS}, got {arm!r}")
    family, networks = arm.split("_")
    overrides = dict(ONLINE) if family == "online" else {}
    if networks == "one":
        overrides["target_update_period"] = None
        if base.double_dqn:
            overrides["double_dqn"] = False
    return overrides


def family_of(arm: str) -> str:
    """``'online_two'`` -> ``'online'``."""
    return arm.split("_")[0]


def _config(steps: int, overrides: dict) -> DQNConfig:
    return cartpole_config(total_steps=steps, eval_every=0, **overrides)


def train_batch(steps: int, jobs: list[tuple[dict, int]]) -> tuple[list[DQNRun], float]:
    """Train every ``(overrides, seed)`` job as one batch; return the runs and the wall time."""
    configs = [_config(steps, overrides) for overrides, _ in jobs]
    start = time.perf_counter()
    runs = train_many(ENV_ID, configs, [seed for _, seed in jobs], progress=False, threads=1)
    return runs, time.perf_counter() - start


def start_states(seed: int, episodes: int) -> np.ndarray:
    """Return the ``(episodes, obs_dim)`` start states of the evaluation with ``seed``.

    The same states ``evaluate_greedy_many`` (and ``utils.runs.evaluate_greedy``) start from.
    """
    with gym.make(ENV_ID) as env:
        return np.stack([env.reset(seed=s)[0] for s in episode_seeds(seed, episodes)])


def discounted_from_length(lengths: np.ndarray, gamma: float) -> np.ndarray:
    """Discounted return of CartPole episodes of ``lengths`` steps (reward 1 every step).

    ``sum_{t < L} gamma^t = (1 - gamma^L) / (1 - gamma)``; 99.34 for a 500-step episode.
    """
    return (1.0 - gamma ** np.asarray(lengths, dtype=np.float64)) / (1.0 - gamma)


def _as_inf(value: float) -> float:
    """A diverged Q (NaN or infinite) as ``inf``: above every bound, and sorted last."""
    value = float(value)
    return value if np.isfinite(value) else float("inf")


def json_safe(value):
    """``value`` with every non-finite float replaced by None (strict JSON has no inf)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def measure(runs: list[DQNRun], episodes: int, trace_every: int) -> list[dict]:
    """Evaluate each run greedily and read its history; return one dict per run.

    Each dict has ``final_return`` (mean over ``episodes``), ``max_q``, ``q_s0`` and
    ``return_s0`` (means over the same episodes' start states) and ``trace`` (largest Q per
    bin of ``trace_every`` steps, None for a bin without updates).
    """
    nets = StackedQNetwork([run.q_network for run in runs])
    eval_seeds = [(run.seed + EVAL_SEED_OFFSET) % 2**32 for run in runs]
    returns = evaluate_greedy_many(ENV_ID, nets, eval_seeds, episodes)  # (K, episodes)
    out = []
    for run, seed, ret in zip(runs, eval_seeds, returns, strict=True):
        gamma = run.config.gamma
        s0 = torch.from_numpy(start_states(seed, episodes).astype(np.float32))
        with torch.no_grad():
            q_s0 = run.q_network(s0).max(dim=-1).values.numpy()  # Q(s0, a0), a0 greedy
        h = run.history
        edges = np.arange(0, run.config.total_steps + 1, trace_every)
        trace = []
        for lo, hi in itertools.pairwise(edges):
            inside = h.max_q[(h.update_steps > lo) & (h.update_steps <= hi)]
            trace.append(round(_as_inf(inside.max()), 3) if inside.size else None)
        out.append({
            "final_return": float(ret.mean()),
            "max_q": _as_inf(h.max_q.max()) if h.max_q.size else 0.0,
            "q_s0": _as_inf(q_s0.mean()),
            "return_s0": float(discounted_from_length(ret, gamma).mean()),
            "trace": trace,
        })  # fmt: skip
    return out


def tune(
    steps: int,
    seeds: list[int],
    learning_rates: Sequence[float],
    losses: Sequence[str],
    episodes: int,
    trace_every: int,
) -> tuple[list[dict], dict[str, float]]:
    """Train every arm's grid on ``seeds``; return the tuning rows and each family's wall time.

    One batch per family (online, replay): its two arms' whole grids train together.
    """
    base = _config(steps, {})
    rows: list[dict] = []
    walls: dict[str, float] = {}
    for family in ("online", "replay"):
        grid = [(arm, lr, loss) for arm in ARMS if family_of(arm) == family
                for lr in learning_rates for loss in losses]  # fmt: skip
        jobs = [({**arm_overrides(arm, base), "learning_rate": lr, "loss": loss}, seed)
                for arm, lr, loss in grid for seed in seeds]  # fmt: skip
        runs, walls[family] = train_batch(steps, jobs)
        results = measure(runs, episodes, trace_every)
        print(f"tuning {family}: {len(runs)} runs in {walls[family]:.0f} s", flush=True)
        for i, (arm, lr, loss) in enumerate(grid):
            part = results[i * len(seeds) : (i + 1) * len(seeds)]
            finals = [r["final_return"] for r in part]
            max_q = [r["max_q"] for r in part]
            rows.append({
                "arm": arm, "learning_rate": lr, "loss": loss, "seeds": seeds,
                "final_returns": finals, "mean_final": float(np.mean(finals)),
                "max_q": max_q, "median_max_q": float(np.median(max_q)), "chosen": False,
            })  # fmt: skip
    for arm in ARMS:
        choice = choose([r for r in rows if r["arm"] == arm])
        choice["chosen"] = True
    return rows, walls


def choose(rows: list[dict]) -> dict:
    """Return the row with the best mean final return; ties (within TIE_TOLERANCE): lowest Q."""
    best = max(r["mean_final"] for r in rows)
    tied = [r for r in rows if r["mean_final"] >= best - TIE_TOLERANCE]
    return min(tied, key=lambda r: r["median_max_q"])


def chosen_overrides(rows: list[dict], arm: str, base: DQNConfig) -> dict:
    """Return ``arm``'s overrides with the learning rate and loss its tuning chose."""
    (row,) = [r for r in rows if r["arm"] == arm and r["chosen"]]
    return {**arm_overrides(arm, base), "learning_rate": row["learning_rate"],
            "loss": row["loss"]}  # fmt: skip


def compare(
    steps: int,
    seeds: list[int],
    tuning: list[dict],
    bound: float,
    episodes: int,
    trace_every: int,
) -> dict[str, dict]:
    """Train each arm's chosen setting on ``seeds`` (one batch per family); return the arms."""
    base = _config(steps, {})
    arms: dict[str, dict] = {}
    for family in ("online", "replay"):
        names = [arm for arm in ARMS if family_of(arm) == family]
        overrides = {arm: chosen_overrides(tuning, arm, base) for arm in names}
        jobs = [(overrides[arm], seed) for arm in names for seed in seeds]
        runs, wall = train_batch(steps, jobs)
        results = measure(runs, episodes, trace_every)
        print(f"comparison {family}: {len(runs)} runs in {wall:.0f} s", flush=True)
        for i, arm in enumerate(names):
            part = results[i * len(seeds) : (i + 1) * len(seeds)]
            arms[arm] = summarize_arm(arm, overrides[arm], seeds, part, bound, trace_every)
            arms[arm]["wall_s"] = round(wall, 1)
    return arms


def summarize_arm(
    arm: str, overrides: dict, seeds: list[int], part: list[dict], bound: float, trace_every: int
) -> dict:
    """Collect one arm's per-seed numbers and their summaries (IQM, mean, 95% CIs)."""
    finals = np.array([r["final_return"] for r in part])
    max_q = np.array([r["max_q"] for r in part])
    n_bins = len(part[0]["trace"])
    return {
        "replay": family_of(arm) == "replay",
        "target_network": arm.endswith("_two"),
        "config": overrides,
        "seeds": seeds,
        "final_returns": finals.tolist(),
        "max_q": max_q.tolist(),
        "over_bound": [bool(q > bound) for q in max_q],
        "q_s0": [r["q_s0"] for r in part],
        "return_s0": [r["return_s0"] for r in part],
        "max_q_trace": {
            "steps": [trace_every * (i + 1) for i in range(n_bins)],
            "per_seed": [r["trace"] for r in part],
        },
        "iqm": iqm(finals),
        "iqm_ci": list(bootstrap_ci(finals, "iqm")),
        "mean": float(finals.mean()),
        "mean_ci": list(bootstrap_ci(finals, "mean")),
        "share_over_bound": float((max_q > bound).mean()),
        "median_max_q": float(np.median(max_q)),
        "median_q_s0": float(np.median([r["q_s0"] for r in part])),
        "median_return_s0": float(np.median([r["return_s0"] for r in part])),
    }


def run_ablation(
    steps: int = 100_000,
    tuning_seeds: Sequence[int] = (300, 301, 302),
    comparison_seeds: Sequence[int] = tuple(range(400, 410)),
    learning_rates: Sequence[float] = (1e-4, 2.5e-4, 1e-3, 2.5e-3),
    losses: Sequence[str] = LOSSES,
    episodes: int = 100,
    trace_every: int = 1_000,
    tuning: dict | None = None,
    save_tuning: Path | None = None,
    note: str = "",
) -> dict:
    """Tune each arm, compare the four on fresh seeds; return the results (schema above).

    Args:
        steps: Environment steps per run (no early stop).
        tuning_seeds: Seeds that choose each arm's learning rate and loss.
        comparison_seeds: Fresh seeds for the comparison (disjoint from ``tuning_seeds``).
        learning_rates: The tuning grid's start learning rates.
        losses: The tuning grid's losses, from ``utils.config.LOSSES``.
        episodes: Greedy episodes per final evaluation.
        trace_every: Steps per bin of the max-Q trace; must divide ``steps``.
        tuning: ``{"steps", "tuning", "tuning_wall_s"}`` of an earlier run to reuse (skips
            tuning); its ``steps`` must equal ``steps``.
        save_tuning: If given, the tuning is written there (as ``tuning`` reads it) before the
            comparison starts, so a failed comparison need not repeat it.
        note: What was cut or reused, written into the results.

    Raises:
        ValueError: On overlapping seeds, an unknown loss, or ``trace_every`` not dividing
            ``steps``.
    """
    if steps < 1 or trace_every < 1 or steps % trace_every:
        raise ValueError(f"trace_every ({trace_every}) must divide steps ({steps}), both >= 1")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if set(tuning_seeds) & set(comparison_seeds):
        raise ValueError("comparison_seeds must be fresh: they overlap tuning_seeds")
    bad = [loss for loss in losses if loss not in LOSSES]
    if bad or not losses or not learning_rates:
        raise ValueError(f"losses must be a non-empty subset of {LOSSES}, got {list(losses)}")
    base = _config(steps, {})
    bound = impossible_q_bound(base.gamma)
    if tuning is None:
        rows, walls = tune(steps, list(tuning_seeds), learning_rates, losses, episodes,
                           trace_every)  # fmt: skip
        tuning = {"steps": steps, "tuning": rows, "tuning_wall_s": walls}
        if save_tuning is not None:
            Path(save_tuning).write_text(json.dumps(tuning, indent=1) + "\n")  # inf kept
    elif tuning["steps"] != steps:
        raise ValueError(f"tuning was run at {tuning['steps']} steps, not {steps}")
    rows, walls = tuning["tuning"], tuning["tuning_wall_s"]
    arms = compare(steps, list(comparison_seeds), rows, bound, episodes, trace_every)
    return {
        "steps": steps,
        "bound": bound,
        "gamma": base.gamma,
        "base_config": base.to_dict(),
        "eval_episodes": episodes,
        "trace_every": trace_every,
        "note": note,
        "tuning_seeds": rows[0]["seeds"],
        "comparison_seeds": list(comparison_seeds),
        "tuning_wall_s": {k: round(v, 1) for k, v in walls.items()},
        "tuning": rows,
        "arms": arms,
    }


def _ci(values: Sequence[float]) -> str:
    return f"[{values[0]:.0f}, {values[1]:.0f}]"


def reading(result: dict) -> list[str]:
    """Return the generated reading of the comparison: which arms are competitive."""
    arms = result["arms"]
    best = max(ARMS, key=lambda a: arms[a]["iqm"])
    lines = [f"- Best IQM: `{best}` ({arms[best]['iqm']:.0f}, 95% CI {_ci(arms[best]['iqm_ci'])})."]
    overlap = [a for a in ARMS if a != best and arms[a]["iqm_ci"][1] >= arms[best]["iqm_ci"][0]]
    lines.append(
        "- Arms whose IQM interval reaches the best arm's interval (not separated from it by "
        f"these seeds): {', '.join(f'`{a}`' for a in overlap) if overlap else 'none'}."
    )
    for family in ("online", "replay"):
        one, two = arms[f"{family}_one"], arms[f"{family}_two"]
        if one["iqm_ci"][1] >= two["iqm_ci"][0]:
            verdict = (
                "one network is competitive here: its IQM interval reaches the two-network one"
            )
        else:
            verdict = "two networks are better here: the intervals do not overlap"
        lines.append(
            f"- {family}: one network IQM {one['iqm']:.0f} {_ci(one['iqm_ci'])}, two networks "
            f"{two['iqm']:.0f} {_ci(two['iqm_ci'])}: {verdict}."
        )
    for arm in ARMS:
        a = arms[arm]
        lines.append(
            f"- `{arm}`: {a['share_over_bound']:.0%} of seeds predicted above the bound "
            f"{result['bound']:.0f} during training (median largest Q {a['median_max_q']:.1f}); "
            f"at the end, median Q(s0, a0) {a['median_q_s0']:.1f} against a median discounted "
            f"return from s0 of {a['median_return_s0']:.1f}."
        )
    order = sorted(ARMS, key=lambda a: -arms[a]["iqm"])
    nature = sorted(ARMS, key=lambda a: -NATURE_BREAKOUT[a])
    lines.append(
        f"- Ranking by IQM here: {' > '.join(order)}; Nature's Breakout ranking: "
        f"{' > '.join(nature)} ({'the same' if order == nature else 'different'})."
    )
    return lines


def markdown(result: dict) -> str:
    """Render the results as the Markdown file (tuning table, comparison, reading)."""
    base = result["base_config"]
    lines = [
        "# The Nature ablation in miniature: {online, replay} x {one, two networks} on CartPole",
        "",
        f"Produced by `{result['command']}` on {result['date']} "
        f"({result['machine']['cpu']}, {result['machine']['logical_cores']} logical cores, "
        f"torch {result['torch']}); numbers in the JSON file of the same name. "
        "Never edited by hand.",
        "",
        f"Every run: {result['steps']:,} environment steps, no early stop, base settings "
        f"`cartpole_config()` (learning rate annealed linearly to {base['learning_rate_end']}, "
        f"C = {base['target_update_period']}, batch {base['batch_size']}, buffer "
        f"{base['buffer_size']:,}, hidden {tuple(base['hidden_sizes'])}, gamma {base['gamma']}). "
        f"Online = `{json.dumps(ONLINE)}`; one network = `target_update_period=None`. Final "
        f"return = mean greedy return over {result['eval_episodes']} fresh episodes. Largest Q = "
        "the largest Q the online network predicted on a training minibatch (online: one "
        "transition per update; replay: the batch). Bound = impossible_q_bound(gamma) = "
        f"{result['bound']:.0f}. Q(s0, a0): the final network at the evaluation episodes' start "
        "states, against the discounted return its greedy policy collected from them (at most "
        "99.34 within CartPole's 500 steps).",
        "",
    ]
    if result["note"]:
        lines += [f"**Note:** {result['note']}", ""]
    walls = result["tuning_wall_s"]
    lines += [
        f"## Tuning (seeds {result['tuning_seeds']}; choose by mean final return, ties within "
        f"{TIE_TOLERANCE:.0f} broken by the lower median largest Q)",
        "",
        "Wall time: " + (", ".join(f"{k} {v:.0f} s" for k, v in walls.items()) or "reused"),
        "",
        "| arm | learning rate | loss | final returns | mean final | median largest Q | chosen |",
        "|---|---:|---|---|---:|---:|:-:|",
    ]
    for r in result["tuning"]:
        finals = ", ".join(f"{x:.0f}" for x in r["final_returns"])
        lines.append(
            f"| {r['arm']} | {r['learning_rate']:g} | {r['loss']} | {finals} | "
            f"{r['mean_final']:.0f} | {r['median_max_q']:.1f} | {'yes' if r['chosen'] else ''} |"
        )
    arms = result["arms"]
    lines += [
        "",
        f"## Comparison (fresh seeds {result['comparison_seeds'][0]}-"
        f"{result['comparison_seeds'][-1]}, {len(result['comparison_seeds'])} per arm)",
        "",
        "| arm | replay | target network | chosen lr, loss | IQM final [95% CI] "
        "| mean final [95% CI] | seeds with Q > bound | median largest Q "
        "| median Q(s0, a0) | median discounted return from s0 | Nature Breakout | wall s |",
        "|---|:-:|:-:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for arm in ARMS:
        a = arms[arm]
        lines.append(
            f"| {arm} | {'yes' if a['replay'] else 'no'} | "
            f"{'yes' if a['target_network'] else 'no'} | "
            f"{a['config']['learning_rate']:g}, {a['config']['loss']} | "
            f"{a['iqm']:.0f} {_ci(a['iqm_ci'])} | {a['mean']:.0f} {_ci(a['mean_ci'])} | "
            f"{sum(a['over_bound'])}/{len(a['seeds'])} | {a['median_max_q']:.1f} | "
            f"{a['median_q_s0']:.1f} | {a['median_return_s0']:.1f} | "
            f"{NATURE_BREAKOUT[arm]} | {a['wall_s']:.0f} |"
        )
    lines += ["", "Per seed: final return (largest Q; Q(s0, a0) / discounted return from s0):", ""]
    for arm in ARMS:
        a = arms[arm]
        cells = ", ".join(
            f"{s}: {f:.0f} ({q:.0f}; {q0:.1f} / {r0:.1f})"
            for s, f, q, q0, r0 in zip(
                a["seeds"], a["final_returns"], a["max_q"], a["q_s0"], a["return_s0"], strict=True
            )
        )
        lines.append(f"- `{arm}`: {cells}")
    lines += [
        "",
        "## For context: Mnih et al. (2015), Extended Data Table 3",
        "",
        "Breakout scores with replay and target network: 316.8 with both, 240.7 replay only, "
        "10.2 target network only, 3.2 neither (Atari, 10M frames, their own tuning). A "
        "different game and budget: only the direction compares.",
        "",
        "## Reading (generated from the numbers above)",
        "",
        *reading(result),
        "",
        "`max_q_trace` in the JSON holds each seed's largest Q per "
        f"{result['trace_every']:,} steps, for a figure of the slow climb.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--tuning-seeds", default="300-302")
    parser.add_argument("--comparison-seeds", default="400-409")
    parser.add_argument("--learning-rates", default="1e-4,2.5e-4,1e-3,2.5e-3")
    parser.add_argument("--losses", default=",".join(LOSSES))
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--trace-every", type=int, default=1_000)
    parser.add_argument(
        "--reuse-tuning",
        type=Path,
        help="a JSON file with the tuning of an earlier run (same steps)",
    )
    parser.add_argument("--save-tuning", type=Path, help="write the tuning here when it is done")
    parser.add_argument("--note", default="", help="what was cut, written into the results")
    parser.add_argument("--out", default="ablation_2x2", help="results file stem")
    args = parser.parse_args()
    path = RESULTS / f"{args.out}.json"
    tuning = json.loads(args.reuse_tuning.read_text()) if args.reuse_tuning else None
    torch.set_num_threads(1)
    start = time.perf_counter()
    result = {
        "command": "python " + shlex.join(sys.argv),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "torch": torch.__version__,
        **run_ablation(
            steps=args.steps,
            tuning_seeds=parse_seeds(args.tuning_seeds),
            comparison_seeds=parse_seeds(args.comparison_seeds),
            learning_rates=[float(x) for x in args.learning_rates.split(",")],
            losses=args.losses.split(","),
            episodes=args.episodes,
            trace_every=args.trace_every,
            tuning=tuning,
            save_tuning=args.save_tuning,
            note=args.note,
        ),
    }
    result["total_wall_s"] = round(time.perf_counter() - start, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json_safe(result), indent=1, allow_nan=False) + "\n")
    (RESULTS / f"{args.out}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
