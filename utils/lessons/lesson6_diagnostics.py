"""Lesson 6's diagnostics: five views of any DQN training run (why does my DQN not learn?).

Point them at your own runs: ``plot_diagnostics(train_many(...))`` or
``plot_diagnostics({"mine": my_runs, "reference": other_runs})``.

- :func:`random_policy_states`: a fixed batch of probe states for Q-value histograms.
- :func:`diagnostics_table`: per variant, the numbers the figure shows (medians over seeds).
- :func:`plot_diagnostics`: return, length, loss, largest Q, a Q histogram and the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.figures import block_reduce, draw_band, new_figure
from utils.run_figures import episode_curves, run_groups, step_grid

__all__ = ["diagnostics_table", "plot_diagnostics", "random_policy_states"]

# What the diagnostics need of a run besides its history: its network and environment.
_NEEDS = ("q_network", "env_id")


def random_policy_states(env_id: str, n: int = 512, seed: int = 0) -> np.ndarray:
    """Return ``n`` observations visited by uniformly random actions: a fixed probe batch.

    The states any agent meets early on, the same for every run that shares ``env_id`` and
    ``seed``, so Q-value histograms of different runs are comparable.

    Args:
        env_id: A registered Gymnasium id with a flat Box observation.
        n: Number of states (>= 1).
        seed: Seeds the resets and the random actions.

    Returns:
        Shape ``(n, obs_dim)``, float32.
    """
    import gymnasium as gym

    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string, got {type(env_id).__name__}")
    if env_id not in gym.registry:
        raise ValueError(f"env_id {env_id!r} is not a registered Gymnasium environment")
    n = check_int("n", n, minimum=1)
    seed = check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    env = gym.make(env_id)
    try:
        env.action_space.seed(seed)
        obs, _ = env.reset(seed=seed)
        states = []
        while len(states) < n:
            states.append(np.asarray(obs, dtype=np.float32).reshape(-1))
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                obs, _ = env.reset()
    finally:
        env.close()
    return np.stack(states)


def _probe_q(run: Any, states: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return run.q_network(torch.as_tensor(states, dtype=torch.float32)).numpy()


def diagnostics_table(
    runs: Any,
    *,
    probe_states: np.ndarray | Mapping[str, np.ndarray] | None = None,
    last: int = 10,
    block: int = 500,
) -> dict[str, dict[str, float]]:
    """Return, per variant, the numbers :func:`plot_diagnostics` shows (medians over seeds).

    Args:
        runs: A ``DQNRun``, a list of runs (seeds of one variant) or ``{label: run or [runs]}``.
        probe_states: ``(n, obs_dim)`` states to evaluate Q on (or ``{env_id: states}``);
            default :func:`random_policy_states` of each run's environment.
        last: Training episodes averaged for the final return and length (>= 1).
        block: Updates averaged for the final loss and maximised for the final max Q (>= 1).

    Returns:
        ``{label: {"seeds", "return", "length", "loss", "max_q", "peak_q", "probe_q"}}``:
        the mean return and length of each seed's last ``last`` training episodes, the mean
        TD loss and largest predicted Q of its last ``block`` updates, its largest predicted
        Q over all updates, and the median Q(s, a) over the probe states and actions, each
        the median over seeds (NaN where a run has no episodes or updates).
    """
    groups = run_groups(runs, bare=True, needs=_NEEDS)
    last = check_int("last", last, minimum=1)
    block = check_int("block", block, minimum=1)
    probes = _ProbeCache(probe_states)

    def median(values: list[float]) -> float:
        values = [v for v in values if not np.isnan(v)]
        return float(np.median(values)) if values else float("nan")

    def tail(a: np.ndarray, n: int, how: str = "mean") -> float:
        a = np.asarray(a, dtype=float)[-n:]
        if not len(a):
            return float("nan")
        return float(a.max() if how == "max" else a.mean())

    table = {}
    for label, group in groups.items():
        rows = []
        for run in group:
            h = run.history
            q = _probe_q(run, probes.get(run.env_id))
            rows.append(
                (
                    tail(h.episode_returns, last),
                    tail(h.episode_lengths, last),
                    tail(h.losses, block),
                    tail(h.max_q, block, "max"),
                    tail(h.max_q, len(h.max_q), "max"),
                    float(np.median(q)),
                )
            )
        columns = list(zip(*rows, strict=True))
        names = ("return", "length", "loss", "max_q", "peak_q", "probe_q")
        table[label] = {"seeds": float(len(group))}
        table[label].update({n: median(list(c)) for n, c in zip(names, columns, strict=True)})
    return table


class _ProbeCache:
    """Probe states per environment id: given once, or sampled on first use."""

    def __init__(self, probe_states: np.ndarray | Mapping[str, np.ndarray] | None):
        self.given = probe_states
        self.cache: dict[str, np.ndarray] = {}
        if probe_states is not None and not isinstance(probe_states, Mapping):
            states = np.asarray(probe_states, dtype=np.float32)
            if states.ndim != 2 or len(states) == 0:
                raise ValueError(
                    f"probe_states must have shape (n, obs_dim) with n >= 1, got {states.shape}"
                )
            self.given = states

    def get(self, env_id: str) -> np.ndarray:
        if isinstance(self.given, np.ndarray):
            return self.given
        if isinstance(self.given, Mapping) and env_id in self.given:
            return np.asarray(self.given[env_id], dtype=np.float32)
        if env_id not in self.cache:
            self.cache[env_id] = random_policy_states(env_id)
        return self.cache[env_id]


def _symlog_bins(values: np.ndarray, n: int = 60) -> np.ndarray:
    """Bin edges evenly spaced in sign(v) * log10(1 + |v|): fine near 0, wide far out."""
    lo, hi = float(values.min()), float(values.max())
    u = np.linspace(np.sign(lo) * np.log10(1 + abs(lo)), np.sign(hi) * np.log10(1 + abs(hi)), n + 1)
    return np.sign(u) * (10.0 ** np.abs(u) - 1.0)


def plot_diagnostics(
    runs: Any,
    *,
    probe_states: np.ndarray | Mapping[str, np.ndarray] | None = None,
    bound: float | None = None,
    time_limit: int | None = None,
    grid_step: int = 250,
    last: int = 10,
    block: int = 100,
    title: str | None = None,
    figsize: tuple[float, float] = (12.5, 6.2),
) -> Figure:
    """Draw the five diagnostics of DQN training for one or more variants, side by side.

    Panels: the return and the length of training episodes (mean of each seed's last
    ``last`` episodes against environment steps; line: mean over seeds, band: lowest to
    highest seed); the TD loss (mean per block of ``block`` updates, log scale); the largest
    predicted Q-value (max per block, symlog scale) with ``bound`` dashed; a histogram of
    Q(s, a) over a fixed probe batch of states and all actions, pooled over seeds (on a
    symlog axis once some value exceeds 1000 in size); and a table of the numbers of
    :func:`diagnostics_table`.

    Point it at your own runs: ``plot_diagnostics(train_many(...))`` or
    ``plot_diagnostics({"mine": my_runs, "reference": other_runs})``.

    Args:
        runs: A ``DQNRun``, a list of runs (seeds of one variant) or ``{label: run or [runs]}``.
        probe_states: ``(n, obs_dim)`` states for the histogram (or ``{env_id: states}``);
            default :func:`random_policy_states` of each run's environment.
        bound: The largest possible discounted return, drawn on the Q panel (optional).
        time_limit: The episode time limit, drawn on the length panel (optional).
        grid_step: Environment steps between points of the episode curves (>= 1).
        last: Episodes averaged per point of the episode curves (>= 1).
        block: Updates per point of the loss and Q curves (>= 1).
        title: Figure title.
        figsize: Width and height in inches.

    Returns:
        The Figure (2 rows x 3 Axes; the last holds the table).

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    groups = run_groups(runs, bare=True, needs=_NEEDS)
    grid_step = check_int("grid_step", grid_step, minimum=1)
    last = check_int("last", last, minimum=1)
    block = check_int("block", block, minimum=1)
    if bound is not None:
        bound = check_float("bound", bound)
    if time_limit is not None:
        time_limit = check_int("time_limit", time_limit, minimum=1)
    probes = _ProbeCache(probe_states)
    table = diagnostics_table(groups, probe_states=probe_states, last=last, block=5 * block)

    # 80 dpi: six panels stay readable and the notebook that shows several stays small
    fig, axes = new_figure(3, nrows=2, figsize=figsize, dpi=80)
    ret_ax, len_ax, loss_ax, q_ax, hist_ax, table_ax = axes
    grid = step_grid([r for g in groups.values() for r in g], grid_step)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    hist_values = {}
    for i, (label, group) in enumerate(groups.items()):
        color = colors[i % len(colors)]
        shown = f"{label} ({len(group)} seeds)" if len(group) > 1 else label
        for ax, field in ((ret_ax, "episode_returns"), (len_ax, "episode_lengths")):
            draw_band(ax, grid, episode_curves(group, grid, field, last=last), color=color,
                      label=shown)  # fmt: skip
        with_updates = [r for r in group if len(r.history.losses)]
        if with_updates:
            n = min(len(r.history.losses) for r in with_updates)
            steps = with_updates[0].history.update_steps[:n]
            for ax, field, how in ((loss_ax, "losses", "mean"), (q_ax, "max_q", "max")):
                values = np.array([getattr(r.history, field)[:n] for r in with_updates])
                blocks, ends = block_reduce(values, block, how)
                draw_band(ax, steps[ends], blocks, center="median", color=color, label=shown)
        hist_values[label] = (
            np.concatenate([_probe_q(r, probes.get(r.env_id)).ravel() for r in group]),
            color,
        )

    ret_ax.set_title("return of training episodes")
    ret_ax.set_ylabel(f"mean of the last {last} episodes")
    len_ax.set_title("length of training episodes")
    len_ax.set_ylabel(f"steps (mean of the last {last})")
    if time_limit is not None:
        len_ax.axhline(time_limit, color="0.3", linestyle="--", linewidth=1,
                       label=f"time limit ({time_limit})")  # fmt: skip
    loss_ax.set_title("TD loss (line: median over seeds)")
    loss_ax.set_ylabel(f"mean per {block} updates")
    loss_ax.set_yscale("log")
    q_ax.set_title("largest predicted Q (line: median over seeds)")
    q_ax.set_ylabel(f"max on the minibatches of {block} updates")
    q_ax.set_yscale("symlog", linthresh=1.0)
    if bound is not None:
        q_ax.axhline(bound, color="black", linestyle="--", linewidth=1.2,
                     label=f"largest possible return {bound:.2f}")  # fmt: skip
    for ax in (ret_ax, len_ax, loss_ax, q_ax):
        ax.set_xlabel("environment step")
        ax.grid(alpha=0.3)
    everything = np.concatenate([v for v, _ in hist_values.values()])
    everything = everything[np.isfinite(everything)]
    wide = everything.size > 0 and float(np.abs(everything).max()) > 1000.0
    if wide:  # runaway values: log-spaced bins, so the healthy ones stay visible
        bins = _symlog_bins(everything, 150)
    else:
        bins = np.linspace(everything.min() - 0.5, everything.max() + 0.5, 61)
    for label, (values, color) in hist_values.items():
        weights = np.full(len(values), 1.0 / len(values))
        hist_ax.hist(values, bins=bins, weights=weights, histtype="step", color=color,
                     linewidth=1.5, label=label)  # fmt: skip
    if wide:
        hist_ax.set_xscale("symlog", linthresh=1.0)
    if bound is not None:
        hist_ax.axvline(bound, color="black", linestyle="--", linewidth=1.2)
    hist_ax.set_title("Q(s, a) on a fixed batch of probe states")
    hist_ax.set_xlabel("predicted Q-value (all actions, all seeds)")
    hist_ax.set_ylabel("share of values")
    hist_ax.grid(alpha=0.3)

    table_ax.axis("off")
    header = ["", "return", "length", "loss", "largest Q", "probe Q"]
    cells = [
        [label[:26], f"{t['return']:.0f}", f"{t['length']:.0f}", f"{t['loss']:.3g}",
         f"{t['peak_q']:.3g}", f"{t['probe_q']:.3g}"]
        for label, t in table.items()
    ]  # fmt: skip
    shown_table = table_ax.table(cellText=cells, colLabels=header, loc="upper center",
                                 cellLoc="right")  # fmt: skip
    shown_table.auto_set_font_size(False)
    shown_table.set_fontsize(8)
    shown_table.auto_set_column_width(list(range(len(header))))
    for (row, _), cell in shown_table.get_celld().items():
        if row > 0:
            cell.get_text().set_color(colors[(row - 1) % len(colors)])
    table_ax.set_title(
        f"medians over seeds: return and length of the last {last} episodes,\n"
        f"loss of the last {5 * block} updates, largest Q of all updates",
        fontsize=9,
    )
    handles, labels = ret_ax.get_legend_handles_labels()
    extra_h, extra_l = q_ax.get_legend_handles_labels()
    handles += [h for h, lab in zip(extra_h, extra_l, strict=True) if lab not in labels]
    labels += [lab for lab in extra_l if lab not in labels]
    if time_limit is not None:
        h, lab = len_ax.get_legend_handles_labels()
        handles.append(h[-1])
        labels.append(lab[-1])
    table_ax.legend(handles, labels, loc="lower center", fontsize="small", frameon=False)
    if title:
        fig.suptitle(title)
    return fig
