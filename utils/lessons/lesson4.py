"""Lesson 4 (two networks): its figures and its widget.

- :func:`plot_target_staircase`: a frozen target's TD target moves only at syncs;
  :func:`sync_limit` and :func:`draw_sync_limit`: how high k syncs can lift a value.
- :func:`plot_one_vs_two`: variants trained on the same seeds, greedy return, share solved
  and largest Q side by side.
- :func:`plot_sync_sweep`, :class:`SyncSweepExplorer` (:func:`sync_sweep_explorer`): a sweep
  over the sync period C and the learning rate.

The exercise (hard and soft sync) is in :mod:`utils.lessons.lesson4_exercise`; the figures
shared with Lesson 3 are primitives in :mod:`utils.run_figures`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.explorer import Explorer
from utils.figures import figure_and_axes, finish_axes, new_figure, plot_learning_curves
from utils.run_figures import (
    bound_label,
    check_probe_targets,
    episode_curves,
    plot_max_q_vs_bound,
    run_groups,
    run_summary,
    step_grid,
)

__all__ = [
    "SyncSweepExplorer",
    "draw_sync_limit",
    "plot_one_vs_two",
    "plot_sync_sweep",
    "plot_target_staircase",
    "sync_limit",
    "sync_sweep_explorer",
]

# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def sync_limit(
    steps: np.ndarray, period: int, gamma: float, *, first_update: int = 1
) -> np.ndarray:
    """Return how high the TD targets can be after the syncs so far: fitted Q-iteration.

    Between two syncs the online network regresses onto fixed labels, so each sync is at most
    one Bellman backup. Starting from a network near 0, labels from a target synced ``m``
    times since the first update are at most ``1 + gamma + ... + gamma**m`` (reward at most
    1 per step), plus what generalisation adds. ``m`` counts the multiples of ``period`` in
    ``[first_update, t)`` (a sync at step ``t`` comes after the update of step ``t``).

    Args:
        steps: ``(n,)`` steps ``t`` (integers >= 1).
        period: The sync period C (>= 1).
        gamma: The discount, in [0, 1).
        first_update: The step of the first gradient update (``learning_starts + 1``).

    Returns:
        ``(n,)`` the limit at each step.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    t = np.asarray(steps)
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.number):
        raise ValueError(f"steps must be a 1-D array of step numbers, got shape {t.shape}")
    period = check_int("period", period, minimum=1)
    gamma = check_float("gamma", gamma, low=0.0, high=1.0, high_inclusive=False)
    first_update = check_int("first_update", first_update, minimum=1)
    syncs = np.maximum((t - 1) // period - (first_update - 1) // period, 0)
    return (1 - gamma ** (syncs + 1)) / (1 - gamma)


def draw_sync_limit(ax: Axes, steps: np.ndarray, limit: np.ndarray, **kwargs: Any) -> None:
    """Draw a :func:`sync_limit` curve on ``ax`` as a dotted staircase (legend included).

    Raises:
        ValueError: If ``steps`` and ``limit`` differ in shape.
    """
    steps, limit = np.asarray(steps), np.asarray(limit)
    if steps.shape != limit.shape:
        raise ValueError(f"limit must have the shape of steps {steps.shape}, got {limit.shape}")
    label = "per-sync limit: $1 + \\gamma + \\dots + \\gamma^{m}$ after m syncs"
    style = dict(color="tab:green", linestyle=":", linewidth=1.8, drawstyle="steps-post",
                 label=label)  # fmt: skip
    style.update(kwargs)
    ax.plot(steps, limit, **style)
    ax.legend(loc="best", fontsize="small")


def plot_target_staircase(
    update_steps: np.ndarray,
    frozen_targets: np.ndarray,
    moving_targets: np.ndarray | None = None,
    *,
    sync_period: int | None = None,
    probe: int = 0,
    window: tuple[int, int] | None = None,
    limit: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Plot one probe transition's TD target from the frozen network: a staircase.

    The target network changes only when it is synced, so the target ``y`` it computes for a
    fixed transition is flat between syncs and jumps at each one. For contrast, the target
    the *online* network would give for the same transition (what a single network chases)
    can be drawn too: it moves after every update.

    Args:
        update_steps: Environment step of each recorded update, shape ``(n_updates,)``.
        frozen_targets: ``y`` of every probe transition computed by the target network
            after every update, shape ``(n_updates, n_probe)``.
        moving_targets: Optional: the same computed by the online network, same shape.
        sync_period: C; if given, the syncs inside the window are marked with faint lines.
        probe: Which probe transition to draw (column index).
        window: ``(first_step, last_step)`` of environment steps to show; default all.
        limit: Optional ``(n_updates,)`` :func:`sync_limit` at each update, drawn dotted.
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    steps, frozen, moving = check_probe_targets(
        update_steps, frozen_targets, moving_targets, names=("frozen_targets", "moving_targets")
    )
    probe = check_int("probe", probe, minimum=0, maximum=frozen.shape[1] - 1)
    if sync_period is not None:
        sync_period = check_int("sync_period", sync_period, minimum=1)
    if window is None:
        keep = np.ones(len(steps), dtype=bool)
    else:
        if not isinstance(window, tuple) or len(window) != 2:
            raise TypeError(f"window must be a tuple (first_step, last_step), got {window!r}")
        first, last = (check_int(f"window[{i}]", w, minimum=0) for i, w in enumerate(window))
        keep = (steps >= first) & (steps <= last)
        if last <= first or not keep.any():
            raise ValueError(f"window must hold some update steps, got {window}")

    if limit is not None and np.shape(limit) != steps.shape:
        raise ValueError(f"limit must have shape {steps.shape}, got {np.shape(limit)}")
    fig, ax = figure_and_axes(ax, (6.4, 3.6))
    xs = steps[keep]
    if moving is not None:
        ax.plot(
            xs, moving[keep, probe], color="tab:red", linewidth=1.0, alpha=0.8,
            label=r"computed by the online network $\theta$ (moves at every update)",
        )  # fmt: skip
    ax.plot(
        xs, frozen[keep, probe], color="black", linewidth=2.0, drawstyle="steps-post",
        label=r"computed by the target network $\bar\theta$ (moves at syncs only)",
    )  # fmt: skip
    if sync_period is not None:
        syncs = np.arange(np.ceil(xs[0] / sync_period), np.floor(xs[-1] / sync_period) + 1)
        for i, s in enumerate(syncs * sync_period):
            ax.axvline(
                s, color="0.5", linewidth=0.6, linestyle=":",
                label=f"sync every C = {sync_period} steps" if i == 0 else None,
            )  # fmt: skip
    if limit is not None:
        draw_sync_limit(ax, xs, np.asarray(limit)[keep])
    ax.set_xlabel("environment step")
    ax.set_ylabel(f"TD target $y$ of probe transition {probe}")
    finish_axes(ax, title, "best")
    return fig


def _same_grid(arrays: Sequence[np.ndarray], what: str, label: Any) -> np.ndarray:
    first = np.asarray(arrays[0])
    for a in arrays[1:]:
        if np.shape(a) != first.shape or not np.array_equal(a, first):
            raise ValueError(
                f"runs[{label!r}]: every run must have the same {what} (train them together "
                "with train_many, without stop_when_solved)"
            )
    return first


def plot_one_vs_two(
    runs: Mapping[str, Sequence],
    bound: float,
    *,
    solved_return: float,
    block: int = 100,
    figsize: tuple[float, float] = (13.0, 3.9),
) -> Figure:
    """Compare variants trained on the same seeds: greedy return, share solved, largest Q.

    Left: the mean greedy evaluation return against environment steps (band: lowest to
    highest seed), with ``solved_return`` dashed. Middle: the share of seeds whose greedy
    policy has reached ``solved_return`` at some evaluation by then. Right: the largest
    predicted Q-value per block of ``block`` updates, one line per seed, against ``bound``
    (:func:`plot_max_q_vs_bound`).

    Args:
        runs: ``{label: [DQNRun, ...]}``, each group trained together with ``train_many``
            and evaluated during training (``eval_every > 0``), so its runs share the
            evaluation and update steps.
        bound: ``impossible_q_bound(gamma)``: no Q-value can honestly exceed it.
        solved_return: The mean greedy return that counts as solved.
        block: Updates per point of the Q curves (>= 1).
        figsize: Width and height in inches.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    groups = run_groups(runs)
    bound = check_float("bound", bound)
    solved_return = check_float("solved_return", solved_return)
    block = check_int("block", block, minimum=1)
    prepared = {}
    for label, group in groups.items():
        eval_steps = _same_grid([r.history.eval_steps for r in group], "eval_steps", label)
        update_steps = _same_grid([r.history.update_steps for r in group], "update_steps", label)
        if len(eval_steps) == 0:
            raise ValueError(f"runs[{label!r}] has no evaluations: train with eval_every > 0")
        returns = np.array([r.history.eval_returns for r in group])
        max_q = np.array([r.history.max_q for r in group])
        solved = np.array([r.history.solved_step or np.inf for r in group], dtype=float)
        prepared[label] = (eval_steps, returns, update_steps, max_q, solved)

    fig, (ret_ax, solved_ax, q_ax) = new_figure(3, figsize=figsize)
    for label, (eval_steps, returns, *_) in prepared.items():
        plot_learning_curves(
            {label: returns}, x=eval_steps, ax=ret_ax, xlabel="environment step",
            ylabel="greedy return (mean of the evaluation episodes)",
        )  # fmt: skip
    ret_ax.axhline(
        solved_return, color="0.3", linestyle="--", linewidth=1,
        label=f"solved ({solved_return:g})",
    )  # fmt: skip
    ret_ax.legend(loc="best", fontsize="small")
    ret_ax.set_title("greedy evaluation return")
    for label, (eval_steps, _, _, _, solved) in prepared.items():
        share = (solved[None, :] <= eval_steps[:, None]).mean(axis=1)
        solved_ax.step(eval_steps, share, where="post", linewidth=1.5, label=label)
    solved_ax.set_ylim(-0.03, 1.03)
    solved_ax.set_xlabel("environment step")
    solved_ax.set_ylabel(f"share of seeds solved (>= {solved_return:g})")
    solved_ax.set_title("seeds that have reached solved")
    solved_ax.legend(loc="best", fontsize="small")
    solved_ax.grid(alpha=0.3)
    plot_max_q_vs_bound(
        {label: (p[2], p[3]) for label, p in prepared.items()},
        bound,
        block=block,
        ax=q_ax,
        title="largest predicted Q",
    )
    return fig


def _check_sweep(sweep: Mapping) -> tuple[list[int], list[float], dict]:
    """Check ``{(C, learning_rate): [run, ...]}`` over a full grid; return its axes and groups."""
    groups = run_groups(sweep, "sweep", label_type=tuple)
    for key in groups:
        if len(key) != 2:
            raise TypeError(f"sweep keys must be tuples (C, learning_rate), got {key!r}")
        check_int("sweep key C", key[0], minimum=1)
        check_float("sweep key learning_rate", key[1], low=0.0, low_inclusive=False)
    periods = sorted({int(c) for c, _ in groups})
    rates = sorted({float(lr) for _, lr in groups})
    missing = [(c, lr) for c in periods for lr in rates if (c, lr) not in groups]
    if missing:
        raise ValueError(f"sweep must hold every (C, learning_rate) pair; missing {missing}")
    return periods, rates, groups


def plot_sync_sweep(
    sweep: Mapping[tuple[int, float], Sequence],
    bound: float,
    *,
    highlight: tuple[int, float] | None = None,
    last: int = 10,
    figsize: tuple[float, float] = (13.0, 3.7),
) -> Figure:
    """Summarise a sweep over the sync period C and the learning rate in three panels.

    Against C (one line per learning rate, the mean over seeds, each seed a dot): the mean
    return of the last ``last`` training episodes; the share of updates whose largest
    predicted Q-value is above ``bound``; the largest predicted Q-value (log scale above 1).

    Args:
        sweep: ``{(C, learning_rate): [DQNRun, ...]}`` over a full grid of C and rates.
        bound: ``impossible_q_bound(gamma)``: no Q-value can honestly exceed it.
        highlight: One ``(C, learning_rate)`` of the sweep to ring in every panel.
        last: Training episodes averaged for the final return (>= 1).
        figsize: Width and height in inches.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    periods, rates, groups = _check_sweep(sweep)
    bound = check_float("bound", bound)
    if highlight is not None and highlight not in groups:
        raise ValueError(
            f"highlight must be one of the swept pairs {sorted(groups)}, got {highlight}"
        )
    stats = {
        key: [run_summary(r, bound, last=last) for r in group] for key, group in groups.items()
    }
    panels = (
        ("final_return", f"return (mean of last {last} training episodes)"),
        ("share_above", f"share of updates with a Q above {bound:.4g}"),
        ("max_q", "largest predicted Q"),
    )
    fig, axes = new_figure(3, figsize=figsize)
    xs = np.arange(len(periods))
    for ax, (name, ylabel) in zip(axes, panels, strict=True):
        for j, lr in enumerate(rates):
            values = [[s[name] for s in stats[(c, lr)]] for c in periods]
            (line,) = ax.plot(
                xs, [np.mean(v) for v in values], marker="o", label=f"learning rate {lr:g}"
            )
            for x, v in zip(xs, values, strict=True):
                offset = (j - (len(rates) - 1) / 2) * 0.08
                ax.scatter(np.full(len(v), x + offset), v, s=10, color=line.get_color(), alpha=0.5)
        if highlight is not None:
            values = [s[name] for s in stats[highlight]]
            ax.scatter(
                [periods.index(highlight[0])], [np.mean(values)], s=220, facecolors="none",
                edgecolors="black", linewidths=1.5, zorder=5,
            )  # fmt: skip
        ax.set_xticks(xs)
        ax.set_xticklabels([str(c) for c in periods])
        ax.set_xlabel("sync period C (steps)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[1].set_ylim(-0.03, 1.03)
    axes[2].set_yscale("symlog", linthresh=1.0)
    axes[2].set_ylim(bottom=min(0.0, min(s["max_q"] for rows in stats.values() for s in rows)))
    axes[2].axhline(bound, color="black", linestyle="--", linewidth=1.2, label=bound_label(bound))
    axes[0].legend(loc="best", fontsize="small")
    axes[2].legend(loc="best", fontsize="small")
    return fig


# --------------------------------------------------------------------------------------
# The widget: browse a computed sweep over the sync period C and the learning rate
# --------------------------------------------------------------------------------------


class SyncSweepExplorer(Explorer):
    """Pick the sync period C and the learning rate; that setting's runs are redrawn at once.

    Nothing is trained when a control moves: the sweep was computed beforehand and the widget
    only selects from it. The picture: left, the training return of each seed (mean of its
    last 10 episodes, against environment steps; line: mean over seeds, band: lowest to
    highest); right, the largest Q-value predicted at each update against ``bound``, one line
    per seed. The title sums it up with :func:`utils.run_figures.run_summary`.

    Attributes:
        sweep: ``{(C, learning_rate): [run, ...]}`` as given.
        bound: ``impossible_q_bound(gamma)``: no Q-value can honestly exceed it.
        widget: The ``ipywidgets.VBox`` to display (controls above the picture).
        controls: ``{"C", "learning_rate"}`` -> control widget.
        last_seconds: Wall time of the last redraw, in seconds.
    """

    def __init__(
        self,
        sweep: Mapping[tuple[int, float], Sequence[Any]],
        bound: float,
        *,
        start: tuple[int, float] | None = None,
        grid_step: int = 100,
        block: int = 50,
        dpi: int = 72,
    ) -> None:
        self.periods, self.rates, self.sweep = _check_sweep(sweep)
        self.bound = check_float("bound", bound)
        self.grid_step = check_int("grid_step", grid_step, minimum=1)
        self.block = check_int("block", block, minimum=1)
        self.dpi = check_int("dpi", dpi, minimum=10)
        if start is None:
            start = (self.periods[len(self.periods) // 2], self.rates[-1])
        self._group(*start)  # raises ValueError naming the swept values
        style = {"description_width": "110px"}
        self.controls = {
            "C": widgets.SelectionSlider(
                options=[(str(c), c) for c in self.periods], value=int(start[0]),
                description="sync period C", continuous_update=True, style=style,
                layout=widgets.Layout(width="420px"),
            ),
            "learning_rate": widgets.ToggleButtons(
                options=[(f"{lr:g}", lr) for lr in self.rates], value=float(start[1]),
                description="learning rate", style=style,
            ),
        }  # fmt: skip
        self._start()

    def _group(self, C: int, learning_rate: float) -> list[Any]:
        key = (C, learning_rate)
        if key not in self.sweep:
            raise ValueError(
                f"(C, learning_rate) must be one of the swept pairs: C in {self.periods}, "
                f"learning_rate in {self.rates}; got {key}"
            )
        return self.sweep[key]

    def _check_move(self, values: Mapping[str, Any]) -> None:
        target = {name: control.value for name, control in self.controls.items()}
        target.update(values)
        self._group(target["C"], target["learning_rate"])

    def figure(self, C: int, learning_rate: float) -> Figure:
        """Return the picture the widget shows for one swept ``(C, learning_rate)``.

        Raises:
            ValueError: If the pair was not swept.
        """
        group = self._group(C, learning_rate)
        grid = step_grid(group, self.grid_step)
        curves = episode_curves(group, grid)
        fig, (left, right) = new_figure(2, figsize=(11, 3.8))
        fig.set_dpi(self.dpi)  # fewer pixels to encode: the redraw stays well under a second
        plot_learning_curves(
            {f"C={C}, lr={learning_rate:g}": curves}, x=grid, ax=left, xlabel="environment step",
            ylabel="return (mean of the last 10 episodes)", title="training return",
        )  # fmt: skip
        for row in curves:
            left.plot(grid, row, color="0.4", linewidth=0.6, alpha=0.7)
        left.set_ylim(0, 510)
        update_steps = group[0].history.update_steps
        if all(np.array_equal(r.history.update_steps, update_steps) for r in group):
            plot_max_q_vs_bound(
                {f"C={C}": (update_steps, np.array([r.history.max_q for r in group]))},
                self.bound, block=self.block, ax=right, title="largest predicted Q",
            )  # fmt: skip
        stats = [run_summary(r, self.bound) for r in group]
        fig.suptitle(
            f"C = {C}, learning rate {learning_rate:g}, {len(group)} seeds: final return "
            f"{np.mean([s['final_return'] for s in stats]):.0f} (mean of the last 10 episodes); "
            f"{np.mean([s['share_above'] for s in stats]):.0%} of updates predicted a Q above "
            f"{self.bound:.4g} (largest {max(s['max_q'] for s in stats):.3g})",
            fontsize=10,
        )
        return fig


def sync_sweep_explorer(
    sweep: Mapping[tuple[int, float], Sequence[Any]], bound: float, **kwargs: Any
) -> SyncSweepExplorer:
    """Build the Lesson 4 widget: choose C and the learning rate among runs already trained.

    Args:
        sweep: ``{(C, learning_rate): [DQNRun, ...]}`` over a full grid of C and rates.
        bound: ``impossible_q_bound(gamma)``: no Q-value can honestly exceed it.
        **kwargs: ``start`` (the pair shown first), ``grid_step`` (env steps between curve
            points), ``block`` (updates per point of the Q curve), ``dpi``.

    Returns:
        The :class:`SyncSweepExplorer`; display it (or its ``.widget``).

    Raises:
        TypeError, ValueError: On a bad sweep or start pair (the message names it).
    """
    return SyncSweepExplorer(sweep, bound, **kwargs)
