"""Why does the course's CartPole DQN forget what it learned? Measure it on a few tuning seeds.

Trains ``cartpole_config(total_steps=100_000)`` (no early stop) with :func:`train_many` and
records, per seed:

- the replay buffer every 10,000 steps: share of transitions with ``terminated = 1`` (the only
  ones whose target is pinned to ``r`` with no bootstrap), why those episodes ended (cart past
  |x| = 2.4 or pole past 12 degrees), and the spread of cart position and pole angle stored;
- every 5,000 steps: the largest Q predicted on the minibatches of the last 5,000 updates,
  the greedy policy on 20 episodes (mean return and how each episode ended), the predicted
  ``max_a Q(s0, a)`` at the start states, the action gap ``|Q(s, 0) - Q(s, 1)|`` on the states
  the greedy policy visits, and the value the network predicts for the failure transitions
  stored early in training (state and action that ended an episode at step <= 5,000; their
  true Q is 1).

Usage: ``python benchmarks/diagnose_hold.py [--seeds 100,101,102] [--steps 100000]``.
Writes ``benchmarks/results/hold_diagnosis.json`` and ``hold_diagnosis.md``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
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
X_LIMIT, THETA_LIMIT = 2.4, 12 * 2 * np.pi / 360
BUFFER_EVERY, POLICY_EVERY, PROBE_STEP = 10_000, 5_000, 5_000
X_BINS = ((0.0, 0.5), (0.5, 1.0), (1.0, 1.5), (1.5, 2.0), (2.0, 2.5))
RESULTS = ROOT / "benchmarks" / "results"


def cause(next_obs: np.ndarray) -> np.ndarray:
    """'x' where the cart left the track, 'theta' where the pole fell (``(..., 4)`` states)."""
    return np.where(np.abs(next_obs[..., 0]) > X_LIMIT, "x", "theta")


class Watch:
    """Collects the measurements; ``buffer_class`` records the replay buffer while training."""

    def __init__(self, seeds: list[int]):
        self.seeds = seeds
        self.buffer_rows: list[dict] = []
        self.policy_rows: list[dict] = []
        self.probe: list[tuple[np.ndarray, np.ndarray]] | None = None
        self.max_q_window = np.full(len(seeds), -np.inf)
        self.n_added = 0
        self.buffer = None
        self.value_rows: list[dict] = []

    def buffer_class(self, base: type) -> type:
        watch = self

        class RecordingBuffer(base):
            def add(self, obs, action, reward, next_obs, terminated) -> None:
                super().add(obs, action, reward, next_obs, terminated)
                watch.n_added += 1
                if watch.n_added == PROBE_STEP:
                    watch.keep_probe(self)
                if watch.n_added % BUFFER_EVERY == 0:
                    watch.record_buffer(self)

        return RecordingBuffer

    def keep_probe(self, buffer) -> None:
        """The failure transitions stored so far: their true Q(s, a) is 1 (no future)."""
        n = buffer.size
        term = buffer.terminated[:, :n] > 0.5
        acts = buffer.actions[:, :n]
        self.probe = [
            (buffer.obs[k, :n][term[k]].copy(), acts[k][term[k]]) for k in range(len(term))
        ]

    def record_buffer(self, buffer) -> None:
        self.buffer = buffer
        n = buffer.size
        for k, seed in enumerate(self.seeds):
            obs, nxt = buffer.obs[k, :n], buffer.next_obs[k, :n]
            term = buffer.terminated[k, :n] > 0.5
            causes = cause(nxt[term])
            self.buffer_rows.append({
                "seed": seed, "step": self.n_added, "stored": int(n),
                "terminal_share": float(term.mean()), "n_terminal": int(term.sum()),
                "terminal_by_x": int((causes == "x").sum()),
                "terminal_by_theta": int((causes == "theta").sum()),
                "abs_x_p50": float(np.median(np.abs(obs[:, 0]))),
                "abs_x_p95": float(np.quantile(np.abs(obs[:, 0]), 0.95)),
                "share_abs_x_over_1_5": float((np.abs(obs[:, 0]) > 1.5).mean()),
                "abs_theta_deg_p50": float(np.degrees(np.median(np.abs(obs[:, 2])))),
                "abs_theta_deg_p95": float(np.degrees(np.quantile(np.abs(obs[:, 2]), 0.95))),
            })  # fmt: skip

    def callback(self, step: int, q_network, target_network) -> None:
        del target_network
        # the largest Q of this update's minibatch is in the history; here: policy snapshots
        if step % POLICY_EVERY == 0:
            for k, seed in enumerate(self.seeds):
                self.policy_rows.append(self.inspect(q_network.network(k), seed, step))
        if step % BUFFER_EVERY == 0 and self.buffer is not None:
            for k, seed in enumerate(self.seeds):
                self.value_rows.append(self.values(q_network.network(k), k, seed, step))

    @torch.no_grad()
    def values(self, net, k: int, seed: int, step: int) -> dict:
        """Where in the stored states does the network put its largest values?"""
        n = self.buffer.size
        obs = self.buffer.obs[k, :n]
        v = net(torch.from_numpy(np.ascontiguousarray(obs))).max(1).values.numpy()
        ax = np.abs(obs[:, 0])
        bins = {}
        for lo, hi in X_BINS:
            m = (ax >= lo) & (ax < hi)
            bins[f"{lo}-{hi}"] = float(np.median(v[m])) if m.sum() >= 20 else None
        top = np.argsort(v)[-100:]
        return {
            "seed": seed, "step": step, "v_median": float(np.median(v)),
            "v_max": float(v.max()), "v_by_abs_x": bins,
            "top100_abs_x_median": float(np.median(ax[top])),
            "top100_abs_xdot_median": float(np.median(np.abs(obs[top, 1]))),
            "top100_abs_theta_deg_median": float(np.degrees(np.median(np.abs(obs[top, 2])))),
            "top100_abs_thetadot_median": float(np.median(np.abs(obs[top, 3]))),
            "all_abs_xdot_median": float(np.median(np.abs(obs[:, 1]))),
            "all_abs_thetadot_median": float(np.median(np.abs(obs[:, 3]))),
            "top100_terminal_share": float((self.buffer.terminated[k, :n][top] > 0.5).mean()),
        }  # fmt: skip

    @torch.no_grad()
    def inspect(self, net, seed: int, step: int) -> dict:
        episodes = greedy_episodes(net, seed, 20)
        row = {"seed": seed, "step": step, **episodes}
        if self.probe is not None:
            k = self.seeds.index(seed)
            s, a = self.probe[k]
            q = net(torch.from_numpy(s)).gather(1, torch.from_numpy(a)[:, None]).squeeze(1)
            row["failure_q_median"] = float(q.median()) if len(q) else None
            row["n_failure_probe"] = len(q)
        return row


@torch.no_grad()
def greedy_episodes(net, seed: int, episodes: int) -> dict:
    """Run ``episodes`` greedy episodes side by side; say how they ended and what Q says."""
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    venv = CartPoleVectorEnv(num_envs=episodes, max_episode_steps=500)
    venv.reset(seed=0)
    starts = np.random.default_rng([seed, 7]).uniform(-0.05, 0.05, (episodes, 4))
    venv.state = starts.T.copy()
    obs = starts.astype(np.float32)
    q0 = net(torch.from_numpy(obs)).max(1).values
    returns, alive = np.zeros(episodes), np.ones(episodes, dtype=bool)
    end = np.array(["running"] * episodes, dtype=object)
    gaps, abs_x = [], []
    while alive.any():
        q = net(torch.from_numpy(obs))
        gaps.append((q[:, 0] - q[:, 1]).abs().numpy()[alive])
        abs_x.append(np.abs(obs[alive, 0]))
        obs, reward, terminated, truncated, _ = venv.step(q.argmax(1).numpy())
        returns += reward * alive
        just = alive & (terminated | truncated)
        end[just & truncated] = "truncated"
        end[just & terminated] = cause(obs[just & terminated])
        alive &= ~(terminated | truncated)
    venv.close()
    return {
        "greedy_mean": float(returns.mean()),
        "ended_x": int((end == "x").sum()),
        "ended_theta": int((end == "theta").sum()),
        "ended_500": int((end == "truncated").sum()),
        "q_s0_median": float(q0.median()),
        "action_gap_median": float(np.median(np.concatenate(gaps))),
        "abs_x_visited_p95": float(np.quantile(np.concatenate(abs_x), 0.95)),
    }


def windowed_max_q(history, every: int, steps: int) -> list[float]:
    """Largest Q predicted on the minibatches in each window of ``every`` steps."""
    out = []
    for end in range(every, steps + 1, every):
        mask = (history.update_steps > end - every) & (history.update_steps <= end)
        out.append(float(history.max_q[mask].max()) if mask.any() else float("nan"))
    return out


def markdown(report: dict) -> str:
    lines = [
        "# Why the CartPole DQN forgets: diagnosis on tuning seeds",
        "",
        f"Command: `{report['command']}`  ",
        f"Date: {report['date']}; machine: {report['machine']['cpu']} "
        f"({report['machine']['logical_cores']} cores); torch {report['torch']}; "
        f"wall {report['wall_s']:.0f} s.",
        "",
        f"Config: `cartpole_config(total_steps={report['steps']}, "
        f"**{json.dumps(report['overrides'])})`, no early stop; seeds "
        f"{report['seeds']}. True Q of a failure transition is 1 (reward 1, no future).",
        "",
        "## Replay buffer",
        "",
        "| seed | step | terminal share | terminal: cart out / pole fell | median abs x | "
        "p95 abs x | share abs x > 1.5 | p95 abs theta (deg) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["buffer"]:
        lines.append(
            f"| {r['seed']} | {r['step']} | {r['terminal_share']:.4f} | {r['terminal_by_x']} / "
            f"{r['terminal_by_theta']} | {r['abs_x_p50']:.2f} | {r['abs_x_p95']:.2f} | "
            f"{r['share_abs_x_over_1_5']:.3f} | {r['abs_theta_deg_p95']:.1f} |"
        )
    lines += [
        "",
        "## Greedy policy and values (20 episodes per snapshot)",
        "",
        "| seed | step | greedy mean | ended: cart out / pole fell / 500 | max Q (last 5k updates) "
        "| median max_a Q(s0, a) | median action gap | Q of early failures (median) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["policy"]:
        fq = r.get("failure_q_median")
        lines.append(
            f"| {r['seed']} | {r['step']} | {r['greedy_mean']:.0f} | {r['ended_x']} / "
            f"{r['ended_theta']} / {r['ended_500']} | {r['max_q_window']:.1f} | "
            f"{r['q_s0_median']:.1f} | {r['action_gap_median']:.3f} | "
            f"{'' if fq is None else f'{fq:.1f}'} |"
        )
    lines += [
        "",
        "## Where the values are largest (max_a Q over the stored states, every 10,000 steps)",
        "",
        "| seed | step | median V | max V | median V by abs x: "
        + " / ".join(f"{lo}-{hi}" for lo, hi in X_BINS)
        + " | top-100 V states: median abs x, abs x_dot, abs theta (deg), abs theta_dot "
        "(all states: abs x_dot, abs theta_dot) | top-100 terminal share |",
        "|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in report["values"]:
        by_x = " / ".join("-" if v is None else f"{v:.1f}" for v in r["v_by_abs_x"].values())
        lines.append(
            f"| {r['seed']} | {r['step']} | {r['v_median']:.1f} | {r['v_max']:.1f} | {by_x} | "
            f"{r['top100_abs_x_median']:.2f}, {r['top100_abs_xdot_median']:.2f}, "
            f"{r['top100_abs_theta_deg_median']:.1f}, {r['top100_abs_thetadot_median']:.2f} "
            f"({r['all_abs_xdot_median']:.2f}, {r['all_abs_thetadot_median']:.2f}) | "
            f"{r['top100_terminal_share']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="100,101,102")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--name", default="hold_diagnosis")
    parser.add_argument("--overrides", default="{}", help="JSON overrides of cartpole_config")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    overrides = {
        k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(args.overrides).items()
    }
    config = cartpole_config(**{"total_steps": args.steps, **overrides})
    watch = Watch(seeds)
    # Record the buffer train_many builds: swap in a subclass where its module looks it up.
    module = sys.modules[train_many.__module__]
    base = module.ReplayBuffer
    module.ReplayBuffer = watch.buffer_class(base)
    start = time.perf_counter()
    try:
        runs = train_many(ENV_ID, config, seeds, progress=False, callback=watch.callback)
    finally:
        module.ReplayBuffer = base
    wall = time.perf_counter() - start
    for run in runs:
        windows = windowed_max_q(run.history, POLICY_EVERY, args.steps)
        for row in watch.policy_rows:
            if row["seed"] == run.seed:
                row["max_q_window"] = windows[row["step"] // POLICY_EVERY - 1]
    final = {r.seed: float(r.evaluate(100).mean()) for r in runs}
    report = {
        "command": "python " + " ".join(sys.argv),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "steps": args.steps,
        "overrides": json.loads(args.overrides),
        "seeds": seeds,
        "config": config.to_dict(),
        "wall_s": wall,
        "final_greedy_100": final,
        "buffer": watch.buffer_rows,
        "policy": sorted(watch.policy_rows, key=lambda r: (r["seed"], r["step"])),
        "values": sorted(watch.value_rows, key=lambda r: (r["seed"], r["step"])),
    }
    report["buffer"].sort(key=lambda r: (r["seed"], r["step"]))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=1) + "\n")
    text = markdown(report) + f"\nFinal greedy mean (100 episodes): {final}\n"
    (RESULTS / f"{args.name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
