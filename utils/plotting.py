"""Figures for the lessons. Every function returns a matplotlib Figure and never calls
``plt.show()``; pass ``ax=`` to draw on an existing Axes (the Figure of that Axes is returned).
Without ``ax`` the Figure comes from :func:`new_figure`: it is not managed by pyplot, so a
notebook shows it once, by returning or ``display``-ing it.

Sections: generic curves (learning curves over seeds, rolling means), tabular figures
(Q-table heatmap on a grid map, distance to the optimum). Later lessons add their own below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from utils._checks import check_choice, check_float, check_int
from utils.discretize import BinsSweep

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = [
    "FROZEN_LAKE_ARROWS",
    "animate_frames",
    "diagnostics_table",
    "new_figure",
    "plot_bins_sweep",
    "plot_bug_gallery",
    "plot_diagnostics",
    "plot_distance_to_optimum",
    "plot_frame_strip",
    "plot_greedy_slice",
    "plot_learning_curves",
    "plot_learning_rate_sweep",
    "plot_max_q_vs_bound",
    "plot_one_vs_two",
    "plot_q_scatter",
    "plot_q_table",
    "plot_scaling",
    "plot_sync_sweep",
    "plot_target_drift",
    "plot_target_staircase",
    "random_policy_states",
    "returns_on_steps",
    "rolling_mean",
    "run_summary",
]


def new_figure(ncols: int = 1, *, figsize: tuple[float, float] = (6.4, 3.6)) -> tuple[Figure, list]:
    """Return a Figure with ``ncols`` Axes side by side, already closed in pyplot.

    Figures made here are displayed once, by the notebook cell that returns or displays
    them (pyplot would otherwise show its open figures a second time at the end of the
    cell), and are freed when no longer referenced (a widget redrawing many times does not
    leak them).

    Args:
        ncols: Number of Axes in one row (>= 1).
        figsize: Width and height in inches.

    Returns:
        ``(figure, [ax, ...])``.
    """
    ncols = check_int("ncols", ncols, minimum=1)
    # Made by pyplot so that it gets the notebook's (inline) canvas and displays as an
    # image, then closed at once so pyplot neither shows it again nor keeps it alive.
    fig = plt.figure(figsize=figsize, layout="constrained")
    plt.close(fig)
    axes = [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]
    return fig, axes


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is None:
        fig, (ax,) = new_figure(1, figsize=figsize)
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def _finish_axes(ax: Axes, title: str | None, legend_loc: str | None = "upper left") -> None:
    """End a line plot the course's way: its title (if any), a small legend, a light grid."""
    if title:
        ax.set_title(title)
    if legend_loc is not None:
        ax.legend(loc=legend_loc, fontsize="small")
    ax.grid(alpha=0.3)


# --------------------------------------------------------------------------------------
# Generic curves
# --------------------------------------------------------------------------------------


def rolling_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Return the trailing rolling mean of ``values`` along the last axis.

    Point ``i`` is the mean of the last ``window`` values up to and including ``i``; the
    first ``window - 1`` points average over what is there so far, so the output has the
    same shape as the input and starts at the first value.

    Args:
        values: Array of shape ``(..., n_points)``.
        window: Window length (>= 1); 1 returns a float copy.

    Returns:
        Array of the same shape, float64.
    """
    window = check_int("window", window, minimum=1)
    values = np.asarray(values, dtype=float)
    if values.ndim == 0:
        raise ValueError("values must have at least one axis")
    cumsum = np.cumsum(values, axis=-1)
    out = cumsum.copy()
    if window < values.shape[-1]:
        out[..., window:] = cumsum[..., window:] - cumsum[..., :-window]
    counts = np.minimum(np.arange(1, values.shape[-1] + 1), window)
    return out / counts


def plot_learning_curves(
    curves: Mapping[str, np.ndarray] | np.ndarray,
    x: np.ndarray | None = None,
    *,
    window: int = 1,
    band: str = "minmax",
    ax: Axes | None = None,
    xlabel: str = "episode",
    ylabel: str = "return",
    title: str | None = None,
    reference: Mapping[str, float] | None = None,
    logy: bool = False,
) -> Figure:
    """Plot one or more learning curves, each averaged over seeds with a band around it.

    Each curve is smoothed per seed with a trailing :func:`rolling_mean` of ``window`` points;
    the line is the mean over seeds and the band either the min-max range over seeds
    (``"minmax"``), a 95% confidence interval of the mean (``"ci"``, normal approximation,
    mean +- 1.96 standard errors), or nothing (``"none"``). Works for a Q-table's episode
    returns as well as for DQN variants on one Axes.

    Args:
        curves: ``{label: array}`` with arrays of shape ``(n_seeds, n_points)`` or
            ``(n_points,)`` (one seed); a bare array is drawn without a legend entry.
            Curves may have different ``n_points`` only if ``x`` is None.
        x: x positions, shape ``(n_points,)``; default ``1..n_points``.
        window: Rolling-mean window in points (>= 1).
        band: ``"minmax"``, ``"ci"`` or ``"none"``.
        ax: Axes to draw on; a new Figure if None.
        xlabel, ylabel, title: Axis labels and title.
        reference: ``{label: y}`` horizontal dashed lines, e.g. ``{"optimal": 0.74}``.
        logy: Logarithmic y axis.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if isinstance(curves, Mapping):
        items = list(curves.items())
        show_legend = True
    else:
        items = [("", curves)]
        show_legend = False
    if not items:
        raise ValueError("curves must hold at least one curve")
    window = check_int("window", window, minimum=1)
    band = check_choice("band", band, ("minmax", "ci", "none"))
    arrays = []
    for label, values in items:
        if not isinstance(label, str):
            raise TypeError(f"curves keys must be strings, got {type(label).__name__}")
        array = np.asarray(values, dtype=float)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] == 0:
            raise ValueError(
                f"curves[{label!r}] must have shape (n_seeds, n_points) or (n_points,), "
                f"got {np.shape(values)}"
            )
        arrays.append(array)
    if x is not None:
        x = np.asarray(x, dtype=float)
        for (label, _), array in zip(items, arrays, strict=True):
            if x.shape != (array.shape[1],):
                raise ValueError(
                    f"x must have shape ({array.shape[1]},) to match curves[{label!r}], "
                    f"got {x.shape}"
                )

    fig, ax = _figure_and_axes(ax, (6.4, 3.6))
    for (label, _), array in zip(items, arrays, strict=True):
        xs = x if x is not None else np.arange(1, array.shape[1] + 1)
        smooth = rolling_mean(array, window)
        mean = smooth.mean(axis=0)
        n_seeds = smooth.shape[0]
        shown = label or None
        if n_seeds > 1 and label:
            shown = f"{label} ({n_seeds} seeds)"
        (line,) = ax.plot(xs, mean, label=shown, linewidth=1.5)
        if n_seeds > 1 and band != "none":
            if band == "minmax":
                low, high = smooth.min(axis=0), smooth.max(axis=0)
            else:
                half = 1.96 * smooth.std(axis=0, ddof=1) / np.sqrt(n_seeds)
                low, high = mean - half, mean + half
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    for label, y in (reference or {}).items():
        ax.axhline(float(y), color="0.3", linestyle="--", linewidth=1, label=label)
        show_legend = True
    if logy:
        ax.set_yscale("log")
        # Plain numbers (0.2, 0.5, 1) read better than 2x10^-1 on short log ranges.
        plain = FuncFormatter(lambda y, _: f"{y:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel if window == 1 else f"{ylabel} (rolling mean of {window})")
    _finish_axes(ax, title, "best" if show_legend else None)
    return fig


# --------------------------------------------------------------------------------------
# Tabular figures
# --------------------------------------------------------------------------------------

# FrozenLake's actions: 0 left, 1 down, 2 right, 3 up, as (dx, dy) with y pointing down.
FROZEN_LAKE_ARROWS: dict[int, tuple[float, float]] = {
    0: (-1.0, 0.0),
    1: (0.0, 1.0),
    2: (1.0, 0.0),
    3: (0.0, -1.0),
}


def _grid_rows(grid_map: Sequence[str] | np.ndarray) -> list[str]:
    if isinstance(grid_map, np.ndarray):  # FrozenLake's env.unwrapped.desc: bytes, (nrow, ncol)
        if grid_map.ndim != 2:
            raise ValueError(f"grid_map must be 2-D, got shape {grid_map.shape}")
        return [
            "".join(c.decode() if isinstance(c, bytes) else str(c) for c in row) for row in grid_map
        ]
    if isinstance(grid_map, str) or not isinstance(grid_map, Sequence):
        raise TypeError("grid_map must be a list of strings such as ['SFFF', 'FHFH', ...]")
    rows = [str(row) for row in grid_map]
    if not rows or len({len(row) for row in rows}) != 1 or not rows[0]:
        raise ValueError("grid_map must be non-empty rows of equal length")
    return rows


def plot_q_table(
    q_table: np.ndarray,
    grid_map: Sequence[str] | np.ndarray,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool = True,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "viridis",
) -> Figure:
    """Draw ``max_a Q(s, a)`` as a heatmap on a grid map, with the greedy action as an arrow.

    Cells are laid out like the map (state ``s`` is row ``s // ncol``, column
    ``s % ncol``, as in FrozenLake). Holes (``H``) and the goal (``G``) are terminal: they
    show their letter instead of an arrow. A state whose actions are all tied (an untouched
    row) shows a dot: the table has no preference there yet. Arrows follow FrozenLake's
    actions (0 left, 1 down, 2 right, 3 up), the greedy action taken as in
    :func:`utils.tabular.greedy_policy` (lowest index on ties).

    Args:
        q_table: Shape ``(nrow * ncol, 4)``.
        grid_map: The map: ``env.unwrapped.desc`` or rows of letters such as
            ``["SFFF", "FHFH", "FFFH", "HFFG"]``; any size (4x4, 8x8, ...).
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.
        annotate: Write the value ``max_a Q(s, a)`` in each cell.
        vmin, vmax: Colour scale limits (share them to compare two tables); default: data.
        cmap: Matplotlib colour map name.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: If the table does not match the map (the message says how).
    """
    rows = _grid_rows(grid_map)
    nrow, ncol = len(rows), len(rows[0])
    q = np.asarray(q_table, dtype=float)
    if q.shape != (nrow * ncol, len(FROZEN_LAKE_ARROWS)):
        raise ValueError(
            f"q_table must have shape ({nrow * ncol}, {len(FROZEN_LAKE_ARROWS)}) for a "
            f"{nrow}x{ncol} map, got {q.shape}"
        )
    values = q.max(axis=1).reshape(nrow, ncol)
    actions = np.argmax(q, axis=1)
    tied = np.all(q == q[:, :1], axis=1)

    size = 0.9 * max(nrow, ncol) ** 0.5 + 2.2
    fig, ax = _figure_and_axes(ax, (size + 0.8, size))
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=r"$\max_a Q(s,a)$")
    norm, colormap = image.norm, image.cmap
    small = max(nrow, ncol) > 5
    for s in range(nrow * ncol):
        r, c = divmod(s, ncol)
        letter = rows[r][c]
        # Light text on dark cells, dark text on light cells.
        text_color = "black" if np.mean(colormap(norm(values[r, c]))[:3]) > 0.5 else "white"
        if letter in "HG":
            ax.text(
                c,
                r,
                letter,
                ha="center",
                va="center",
                fontsize=12 if small else 16,
                fontweight="bold",
                color=text_color,
            )
            continue
        if tied[s]:
            ax.plot(c, r, "o", color=text_color, markersize=3)
        else:
            dx, dy = FROZEN_LAKE_ARROWS[int(actions[s])]
            ax.annotate(
                "",
                xy=(c + 0.3 * dx, r + 0.3 * dy),
                xytext=(c - 0.3 * dx, r - 0.3 * dy),
                arrowprops={"arrowstyle": "->", "color": text_color, "lw": 1.5},
            )
        if annotate and not small:
            ax.text(
                c,
                r + 0.38,
                f"{values[r, c]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color=text_color,
            )
        if letter == "S":
            ax.text(c - 0.42, r - 0.32, "S", ha="left", va="center", fontsize=8, color=text_color)
    ax.set_xticks(range(ncol))
    ax.set_yticks(range(nrow))
    ax.set_xticks(np.arange(-0.5, ncol), minor=True)
    ax.set_yticks(np.arange(-0.5, nrow), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="both", length=0, labelsize=7)
    if title:
        ax.set_title(title)
    return fig


def plot_distance_to_optimum(
    distances: Mapping[str, np.ndarray] | np.ndarray,
    x: np.ndarray,
    *,
    ax: Axes | None = None,
    band: str = "minmax",
    title: str | None = None,
    logy: bool = True,
) -> Figure:
    """Plot ``||Q - Q*||_inf`` against training episodes, averaged over seeds with a band.

    Args:
        distances: Shape ``(n_seeds, n_records)`` or ``(n_records,)``, or ``{label: array}``
            (e.g. one entry per environment or per step size).
        x: Episode counts of the records, shape ``(n_records,)``
            (``QLearningResult.distance_episodes``).
        ax: Axes to draw on; a new Figure if None.
        band: ``"minmax"``, ``"ci"`` or ``"none"`` (see :func:`plot_learning_curves`).
        title: Axes title.
        logy: Logarithmic y axis (default): the distance shrinks by orders of magnitude.

    Returns:
        The Figure.
    """
    if x is None:
        raise TypeError("x must be the episode counts of the records, got None")
    return plot_learning_curves(
        distances,
        x,
        window=1,
        band=band,
        ax=ax,
        xlabel="training episodes",
        ylabel=r"$\|Q - Q^*\|_\infty$",
        title=title,
        logy=logy,
    )


def plot_q_scatter(
    q_table: np.ndarray,
    q_star: np.ndarray,
    *,
    states: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Scatter every learned ``Q(s, a)`` against its exact ``Q*(s, a)``.

    Points on the diagonal are exact. The entries of the learned greedy actions
    (``argmax_a Q``, the ones the agent keeps choosing and so keeps updating) are drawn in a
    second colour; the others are tried only while exploring.

    Args:
        q_table: Learned table, shape ``(n_states, n_actions)``.
        q_star: Exact table, same shape.
        states: Optional boolean mask ``(n_states,)`` of the states to show (e.g.
            :func:`utils.tabular.reachable_states`); default all.
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        ValueError: If the shapes do not match.
    """
    q = np.asarray(q_table, dtype=float)
    exact = np.asarray(q_star, dtype=float)
    if q.ndim != 2 or q.shape != exact.shape:
        raise ValueError(
            f"q_table and q_star must be 2-D with the same shape, got {q.shape} and {exact.shape}"
        )
    if states is None:
        states = np.ones(q.shape[0], dtype=bool)
    states = np.asarray(states)
    if states.shape != (q.shape[0],) or states.dtype != bool:
        raise ValueError(f"states must be a boolean mask of shape ({q.shape[0]},)")
    best = np.zeros_like(q, dtype=bool)
    best[np.arange(q.shape[0]), np.argmax(q, axis=1)] = True
    shown = np.broadcast_to(states[:, None], q.shape)

    fig, ax = _figure_and_axes(ax, (4.4, 4.0))
    rest, greedy = shown & ~best, shown & best
    ax.scatter(exact[rest], q[rest], s=6, alpha=0.4, label="other actions")
    ax.scatter(exact[greedy], q[greedy], s=6, alpha=0.7, label="greedy action of learned Q")
    low = float(min(exact[shown].min(), q[shown].min()))
    high = float(max(exact[shown].max(), q[shown].max()))
    ax.plot([low, high], [low, high], color="0.3", linestyle="--", linewidth=1, label="exact")
    ax.set_xlabel(r"$Q^*(s, a)$ (value iteration)")
    ax.set_ylabel(r"learned $Q(s, a)$")
    _finish_axes(ax, title, "upper left")
    return fig


# --------------------------------------------------------------------------------------
# Lesson 2: how tables scale, and discretised CartPole
# --------------------------------------------------------------------------------------


def plot_scaling(
    entries: Sequence[int] | np.ndarray,
    costs: Mapping[str, np.ndarray],
    *,
    groups: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    reached: np.ndarray | None = None,
) -> Figure:
    """Plot what a table costs to learn against its size, one log-log panel per cost.

    Each panel shows every seed as a small dot and the mean over seeds as a larger marker;
    means of points in the same group (e.g. FrozenLake maps of growing size) are joined by a
    line, and each group gets its own colour and marker.

    Args:
        entries: Table entries ``n_states * n_actions`` of each environment, shape
            ``(n_points,)``, each >= 1.
        costs: ``{name: array}``, e.g. ``{"episodes": ..., "seconds": ...}``, each of shape
            ``(n_points, n_seeds)`` with positive values.
        groups: Group name of each point, shape ``(n_points,)``; default one group.
        labels: Text written next to each point (e.g. ``"8x8"``), shape ``(n_points,)``.
        reached: Optional boolean ``(n_points, n_seeds)``: False marks a run that never got
            there within its budget; its dot is drawn hollow (the cost is only a lower bound).

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    x = np.asarray(entries, dtype=float)
    if x.ndim != 1 or x.size == 0 or np.any(x < 1):
        raise ValueError(f"entries must be a non-empty 1-D array of counts >= 1, got {entries!r}")
    n = x.size
    if not isinstance(costs, Mapping) or not costs:
        raise TypeError("costs must be a non-empty mapping {name: array (n_points, n_seeds)}")
    arrays = {}
    for name, values in costs.items():
        array = np.asarray(values, dtype=float)
        if array.ndim != 2 or array.shape[0] != n or array.shape[1] < 1:
            raise ValueError(
                f"costs[{name!r}] must have shape ({n}, n_seeds), got {np.shape(values)}"
            )
        if np.any(array <= 0) or np.isnan(array).any():
            raise ValueError(f"costs[{name!r}] must be positive (log axes)")
        arrays[name] = array
    groups = list(groups) if groups is not None else [""] * n
    if len(groups) != n:
        raise ValueError(f"groups must have {n} entries, got {len(groups)}")
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels must have {n} entries, got {len(labels)}")
    shape = next(iter(arrays.values())).shape
    done = np.ones(shape, dtype=bool) if reached is None else np.asarray(reached, dtype=bool)
    if done.shape != shape:
        raise ValueError(f"reached must have shape {shape}, got {done.shape}")

    fig, axes = new_figure(len(arrays), figsize=(4.0 * len(arrays), 3.6))
    markers = "osD^v<>"
    names = list(dict.fromkeys(groups))
    for ax, (name, array) in zip(axes, arrays.items(), strict=True):
        for g, group in enumerate(names):
            idx = np.array([i for i in range(n) if groups[i] == group])
            order = idx[np.argsort(x[idx])]
            color = f"C{g}"
            means = array[order].mean(axis=1)
            ax.plot(
                x[order],
                means,
                marker=markers[g % len(markers)],
                color=color,
                label=group or None,
                linewidth=1.2,
                markersize=6,
            )
            for i in order:
                xs = np.full(array.shape[1], x[i])
                ax.scatter(xs[done[i]], array[i, done[i]], s=10, color=color, alpha=0.5)
                ax.scatter(
                    xs[~done[i]], array[i, ~done[i]], s=14, facecolors="none", edgecolors=color
                )
                if labels is not None:
                    ax.annotate(
                        str(labels[i]),
                        (x[i], array[i].mean()),
                        textcoords="offset points",
                        xytext=(5, -10),
                        fontsize=7,
                    )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"table entries $|\mathcal{S}|\,|\mathcal{A}|$")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3, which="both")
    if len(names) > 1 or (not done.all()):
        if not done.all():
            axes[0].scatter([], [], s=14, facecolors="none", edgecolors="0.3", label="not reached")
        axes[0].legend(loc="upper left", fontsize="small")
    return fig


def plot_bins_sweep(sweep: BinsSweep, *, highlight: int | None = None) -> Figure:
    """Draw the bin-count sweep: table size, how much of it was visited, and the return.

    Three panels against the bins per dimension ``b``: (1) table entries and, below them,
    the entries visited at least once (log scale); (2) the visited fraction; (3) the return
    of the greedy policy after the step budget, mean over seeds with a min-max band, and,
    if the sweep has them, the return of a good controller copied into the table (what the
    grid can represent). Lines join the means; every seed is a dot.

    Args:
        sweep: The :class:`utils.discretize.BinsSweep` to draw.
        highlight: Optional swept bin count to mark with a vertical line (the widget's choice).

    Returns:
        The Figure.

    Raises:
        TypeError: If ``sweep`` is not a ``BinsSweep``.
        ValueError: If ``highlight`` is not one of the swept counts.
    """
    if not isinstance(sweep, BinsSweep):
        raise TypeError(f"sweep must be a BinsSweep, got {type(sweep).__name__}")
    if highlight is not None:
        sweep.index(highlight)  # raises ValueError naming the swept counts
    b = sweep.bins
    seeds = sweep.n_seeds
    visited_entries = sweep.visited * sweep.entries[:, None]

    fig, (size_ax, frac_ax, ret_ax) = new_figure(3, figsize=(12.0, 3.6))
    size_ax.plot(b, sweep.entries, marker="o", label="table entries")
    size_ax.plot(b, visited_entries.mean(axis=1), marker="s", label="entries visited")
    size_ax.set_yscale("log")
    size_ax.set_ylabel("entries")
    size_ax.legend(loc="upper left", fontsize="small")

    _mean_band(frac_ax, b, 100 * sweep.visited, "C1")
    frac_ax.set_ylabel(f"% of entries visited ({seeds} seeds)")
    frac_ax.set_ylim(0, 105)

    _mean_band(ret_ax, b, sweep.returns, "C2", label=f"learned, {sweep.step_budget:,} steps")
    if sweep.copied_returns is not None:
        ret_ax.plot(
            b, sweep.copied_returns, marker="^", color="C3", label="good controller copied in"
        )
    ret_ax.axhline(sweep.max_return, color="0.3", linestyle="--", linewidth=1, label="maximum")
    ret_ax.set_ylabel("return of the greedy policy")
    ret_ax.set_ylim(0, 1.08 * sweep.max_return)
    ret_ax.legend(loc="lower right", fontsize="small")

    for ax in (size_ax, frac_ax, ret_ax):
        ax.set_xscale("log")
        ax.set_xticks(b)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.set_xlabel("bins per dimension $b$")
        ax.grid(alpha=0.3)
        if highlight is not None:
            ax.axvline(highlight, color="0.2", linewidth=2, alpha=0.35)
    return fig


def _mean_band(ax: Axes, x: np.ndarray, values: np.ndarray, color: str, label: str | None = None):
    ax.plot(x, values.mean(axis=1), marker="o", color=color, label=label)
    if values.shape[1] > 1:
        ax.fill_between(x, values.min(axis=1), values.max(axis=1), color=color, alpha=0.2)
    for j in range(values.shape[1]):
        ax.scatter(x, values[:, j], s=8, color=color, alpha=0.5)


def plot_greedy_slice(
    q_table: np.ndarray,
    visit_counts: np.ndarray,
    bins: Sequence[int],
    low: Sequence[float],
    high: Sequence[float],
    *,
    dims: tuple[int, int] = (2, 3),
    dim_names: Sequence[str] = ("cart position", "cart velocity", "pole angle", "pole velocity"),
    action_names: tuple[str, str] = ("left", "right"),
    boundary: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Show a binned table's greedy action over two state dimensions, and where it is empty.

    For each pair of bins of ``dims`` the colour is the share of visits to those cells (all
    bins of the other dimensions pooled) whose greedy action is ``action_names[1]``; cells
    never visited are left white. Works for two actions.

    Args:
        q_table: Shape ``(prod(bins), 2)``, rows numbered as in
            :class:`utils.discretize.DiscretizeObservation`.
        visit_counts: Updates per entry, same shape (``QLearningResult.visit_counts``).
        bins: Bins per dimension, shape ``(D,)``.
        low, high: Clipping bounds per dimension, shape ``(D,)`` (for the axis ticks).
        dims: The two dimensions to show (x axis, y axis).
        dim_names: Name of every dimension, shape ``(D,)``.
        action_names: Names of actions 0 and 1.
        boundary: Optional weights ``w`` of shape ``(D,)``: draws the line where
            ``w[dims[0]] * x + w[dims[1]] * y = 0`` (a linear controller's switch, the other
            dimensions at 0).
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        ValueError: If shapes disagree or ``dims`` is not two different dimensions.
    """
    bins = tuple(check_int(f"bins[{d}]", b, minimum=1) for d, b in enumerate(bins))
    n_dims = len(bins)
    q = np.asarray(q_table, dtype=float)
    visits = np.asarray(visit_counts, dtype=float)
    if q.shape != (int(np.prod(bins)), 2) or visits.shape != q.shape:
        raise ValueError(
            f"q_table and visit_counts must have shape ({int(np.prod(bins))}, 2), got "
            f"{q.shape} and {visits.shape}"
        )
    if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < n_dims for d in dims):
        raise ValueError(f"dims must be two different dimensions in [0, {n_dims - 1}], got {dims}")
    if len(low) != n_dims or len(high) != n_dims or len(dim_names) != n_dims:
        raise ValueError(f"low, high and dim_names must have {n_dims} entries")

    right = (q[:, 1] > q[:, 0]).reshape(bins)
    weight = visits.sum(axis=1).reshape(bins)
    others = tuple(d for d in range(n_dims) if d not in dims)
    total = weight.sum(axis=others)
    share = (weight * right).sum(axis=others)
    if dims[0] > dims[1]:  # sum keeps dimensions in increasing order
        total, share = total.T, share.T
    with np.errstate(invalid="ignore", divide="ignore"):
        picture = np.where(total > 0, share / total, np.nan)  # (bins[dims[0]], bins[dims[1]])

    fig, ax = _figure_and_axes(ax, (4.8, 4.0))
    extent = (low[dims[0]], high[dims[0]], low[dims[1]], high[dims[1]])
    image = ax.imshow(
        picture.T,
        origin="lower",
        extent=extent,
        aspect="auto",
        cmap="coolwarm",
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
    )
    fig.colorbar(image, ax=ax, label=f"share of visits where greedy = {action_names[1]}")
    if boundary is not None:
        w = np.asarray(boundary, dtype=float)
        if w.shape != (n_dims,) or w[dims[1]] == 0:
            raise ValueError(f"boundary must have shape ({n_dims},) with w[{dims[1]}] != 0")
        xs = np.linspace(low[dims[0]], high[dims[0]], 50)
        ys = -w[dims[0]] * xs / w[dims[1]]
        keep = (ys >= low[dims[1]]) & (ys <= high[dims[1]])
        ax.plot(xs[keep], ys[keep], color="black", linewidth=1.5, label="controller's switch")
        ax.legend(loc="upper right", fontsize="small")
    ax.set_xlabel(dim_names[dims[0]])
    ax.set_ylabel(dim_names[dims[1]])
    ax.set_title(title or "greedy action of the table (white: never visited)", fontsize=10)
    return fig


# --------------------------------------------------------------------------------------
# Lesson 3: one network chasing its own target
# --------------------------------------------------------------------------------------


def returns_on_steps(
    end_steps: np.ndarray, returns: np.ndarray, steps: np.ndarray, *, last: int = 10
) -> np.ndarray:
    """Return, at each of ``steps``, the mean return of the last ``last`` episodes ended by then.

    Seeds finish different numbers of episodes, so their returns cannot be stacked episode by
    episode; read on a common grid of environment steps they can (then pass the stacked rows
    to :func:`plot_learning_curves` with ``x=steps``).

    Args:
        end_steps: Global step at which each episode ended, shape ``(n_episodes,)``,
            non-decreasing (``History.episode_end_steps``).
        returns: Return of each episode, shape ``(n_episodes,)``.
        steps: Grid of environment steps, shape ``(n_points,)``.
        last: How many of the most recent finished episodes to average (>= 1).

    Returns:
        Shape ``(n_points,)``, float64; NaN where no episode has ended yet.

    Raises:
        ValueError: If shapes disagree or ``end_steps`` decreases.
    """
    last = check_int("last", last, minimum=1)
    end_steps = np.asarray(end_steps, dtype=float)
    returns = np.asarray(returns, dtype=float)
    steps = np.asarray(steps, dtype=float)
    if end_steps.ndim != 1 or end_steps.shape != returns.shape:
        raise ValueError(
            f"end_steps and returns must be 1-D of the same length, got {end_steps.shape} "
            f"and {returns.shape}"
        )
    if steps.ndim != 1:
        raise ValueError(f"steps must be 1-D, got shape {steps.shape}")
    if np.any(np.diff(end_steps) < 0):
        raise ValueError("end_steps must be non-decreasing")
    finished = np.searchsorted(end_steps, steps, side="right")  # episodes ended by each step
    total = np.concatenate([[0.0], np.cumsum(returns)])
    first = np.maximum(finished - last, 0)
    count = finished - first
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (total[finished] - total[first]) / count, np.nan)


def _block_max(values: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Maxima of consecutive blocks along the last axis, and the index of each block's end."""
    n = values.shape[-1]
    starts = np.arange(0, n, block)
    return np.maximum.reduceat(values, starts, axis=-1), np.minimum(starts + block, n) - 1


def plot_max_q_vs_bound(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    bound: float,
    *,
    block: int = 100,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Plot the largest predicted Q-value during training against the largest possible return.

    One thin line per seed, one colour per variant. Each point is the maximum over a block
    of ``block`` consecutive updates, so a single update above the bound stays visible. The
    y axis is logarithmic above 1 (``symlog``): runaway values span orders of magnitude.

    Args:
        curves: ``{label: (update_steps, max_q)}`` with ``update_steps`` of shape
            ``(n_updates,)`` (the environment step of each update) and ``max_q`` of shape
            ``(n_seeds, n_updates)`` or ``(n_updates,)`` (``History.max_q`` stacked).
        bound: The largest discounted return any policy can collect
            (:func:`utils.dqn.impossible_q_bound`); the region above it is shaded.
        block: Updates per plotted point (>= 1).
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError("curves must be a non-empty mapping {label: (update_steps, max_q)}")
    block = check_int("block", block, minimum=1)
    bound = check_float("bound", bound)
    prepared = []
    for label, pair in curves.items():
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"curves[{label!r}] must be a tuple (update_steps, max_q)")
        steps = np.asarray(pair[0], dtype=float)
        values = np.asarray(pair[1], dtype=float)
        if values.ndim == 1:
            values = values[None, :]
        if steps.ndim != 1 or values.ndim != 2 or values.shape[1] != steps.shape[0]:
            raise ValueError(
                f"curves[{label!r}]: max_q must have shape (n_seeds, {steps.shape[0]}) to match "
                f"update_steps {steps.shape}, got {np.shape(pair[1])}"
            )
        if steps.shape[0] == 0:
            raise ValueError(f"curves[{label!r}] has no updates")
        prepared.append((label, steps, values))

    fig, ax = _figure_and_axes(ax, (6.4, 3.6))
    top = bound
    for label, steps, values in prepared:
        maxima, ends = _block_max(values, block)
        shown = f"{label} ({len(maxima)} seeds)" if len(maxima) > 1 else label
        color = None
        for i, row in enumerate(maxima):
            (line,) = ax.plot(
                steps[ends],
                row,
                color=color,
                linewidth=1.0,
                alpha=0.8,
                label=shown if i == 0 else None,
            )
            color = line.get_color()
        top = max(top, float(np.nanmax(maxima)))
    ax.axhline(bound, color="black", linestyle="--", linewidth=1.2, label=f"bound {bound:.2f}")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.axhspan(bound, top * 3, color="tab:red", alpha=0.08, linewidth=0)
    ax.set_ylim(top=top * 3)
    ax.set_xlabel("environment step")
    ax.set_ylabel(r"largest predicted $Q$ (max per block)")
    _finish_axes(ax, title, "upper left")
    return fig


def plot_target_drift(
    update_steps: np.ndarray,
    targets: np.ndarray,
    *,
    predictions: np.ndarray | None = None,
    show: Sequence[int] = (0,),
    bound: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Plot how the TD targets of a fixed batch of transitions move as the network trains.

    With fixed labels (supervised learning) every target would be a flat line. The thick
    line is the mean target over the batch and the band its range; for the transitions in
    ``show`` the target ``y_i`` is drawn solid and, if given, the prediction
    ``Q(s_i, a_i)`` that chases it dashed in the same colour.

    Args:
        update_steps: Environment step of each recorded update, shape ``(n_updates,)``.
        targets: ``y`` of every probe transition after every update, shape
            ``(n_updates, n_probe)``.
        predictions: Optional ``Q(s_i, a_i)`` after every update, same shape.
        show: Indices of probe transitions to draw individually (may be empty).
        bound: Optional largest possible return, drawn as a dashed line.
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    steps = np.asarray(update_steps, dtype=float)
    y = np.asarray(targets, dtype=float)
    if steps.ndim != 1 or y.ndim != 2 or y.shape[0] != steps.shape[0] or y.shape[0] == 0:
        raise ValueError(
            f"targets must have shape (n_updates, n_probe) with n_updates = {steps.shape[0]} "
            f"(len(update_steps)) > 0, got {y.shape}"
        )
    q = None
    if predictions is not None:
        q = np.asarray(predictions, dtype=float)
        if q.shape != y.shape:
            raise ValueError(f"predictions must have the shape of targets {y.shape}, got {q.shape}")
    if isinstance(show, (str, bytes)) or not isinstance(show, Sequence):
        raise TypeError(f"show must be a sequence of probe indices, got {show!r}")
    show = [check_int("show[i]", i, minimum=0, maximum=y.shape[1] - 1) for i in show]
    if bound is not None:
        bound = check_float("bound", bound)

    fig, ax = _figure_and_axes(ax, (6.4, 3.6))
    ax.fill_between(steps, y.min(axis=1), y.max(axis=1), color="0.6", alpha=0.25, linewidth=0)
    ax.plot(steps, y.mean(axis=1), color="black", linewidth=2, label="mean target (band: range)")
    for i in show:
        (line,) = ax.plot(steps, y[:, i], linewidth=1.2, label=f"$y$ of transition {i}")
        if q is not None:
            ax.plot(steps, q[:, i], linewidth=1.0, linestyle=":", color=line.get_color())
    if q is not None and show:
        ax.plot([], [], color="0.3", linestyle=":", label="its prediction $Q(s,a)$")
    if bound is not None:
        ax.axhline(
            bound, color="tab:red", linestyle="--", linewidth=1.2, label=f"bound {bound:.2f}"
        )
    ax.set_xlabel("environment step")
    ax.set_ylabel("TD target $y$")
    _finish_axes(ax, title, "upper left")
    return fig


# --------------------------------------------------------------------------------------
# Lesson 4: two networks (a frozen target), the one-vs-two comparison, the sync sweep
# --------------------------------------------------------------------------------------


def plot_target_staircase(
    update_steps: np.ndarray,
    frozen_targets: np.ndarray,
    moving_targets: np.ndarray | None = None,
    *,
    sync_period: int | None = None,
    probe: int = 0,
    window: tuple[int, int] | None = None,
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
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    steps = np.asarray(update_steps, dtype=float)
    frozen = np.asarray(frozen_targets, dtype=float)
    if steps.ndim != 1 or frozen.ndim != 2 or frozen.shape[0] != steps.shape[0] or not len(steps):
        raise ValueError(
            f"frozen_targets must have shape (n_updates, n_probe) with n_updates = "
            f"{steps.shape[0]} (len(update_steps)) > 0, got {frozen.shape}"
        )
    moving = None
    if moving_targets is not None:
        moving = np.asarray(moving_targets, dtype=float)
        if moving.shape != frozen.shape:
            raise ValueError(
                f"moving_targets must have the shape of frozen_targets {frozen.shape}, "
                f"got {moving.shape}"
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

    fig, ax = _figure_and_axes(ax, (6.4, 3.6))
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
    ax.set_xlabel("environment step")
    ax.set_ylabel(f"TD target $y$ of probe transition {probe}")
    _finish_axes(ax, title, "best")
    return fig


def _check_run_groups(runs: Mapping[str, Sequence], name: str = "runs") -> dict[str, list]:
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"{name} must be a non-empty mapping {{label: [DQNRun, ...]}}")
    groups = {}
    for label, group in runs.items():
        if isinstance(group, (str, bytes)) or not isinstance(group, Sequence) or not group:
            raise TypeError(f"{name}[{label!r}] must be a non-empty list of runs")
        for run in group:
            if not hasattr(run, "history") or not hasattr(run, "seed"):
                raise TypeError(
                    f"{name}[{label!r}] must hold DQNRun objects, got {type(run).__name__}"
                )
        groups[label] = list(group)
    return groups


def _same_grid(arrays: Sequence[np.ndarray], what: str, label: Any) -> np.ndarray:
    first = np.asarray(arrays[0])
    for a in arrays[1:]:
        if np.shape(a) != first.shape or not np.array_equal(a, first):
            raise ValueError(
                f"runs[{label!r}]: every run must have the same {what} (train them together "
                "with train_many, without stop_when_solved)"
            )
    return first


def run_summary(run: Any, bound: float, *, last: int = 10) -> dict[str, float | int | None]:
    """Return what the lessons report about one training run.

    Args:
        run: A ``utils.dqn.DQNRun`` (anything with ``.history`` and ``.seed``).
        bound: The largest possible discounted return (``impossible_q_bound``).
        last: Training episodes averaged for ``final_return`` (>= 1).

    Returns:
        ``{"seed", "final_return", "share_above", "max_q", "solved_step"}``: the mean return
        of the last ``last`` training episodes (NaN if none ended), the share of updates whose
        largest predicted Q-value is above ``bound`` (0 if there were no updates), the largest
        predicted Q-value (NaN if none) and ``history.solved_step``.
    """
    if not hasattr(run, "history") or not hasattr(run, "seed"):
        raise TypeError(f"run must be a DQNRun, got {type(run).__name__}")
    bound = check_float("bound", bound)
    last = check_int("last", last, minimum=1)
    h = run.history
    returns = np.asarray(h.episode_returns, dtype=float)
    max_q = np.asarray(h.max_q, dtype=float)
    return {
        "seed": int(run.seed),
        "final_return": float(returns[-last:].mean()) if len(returns) else float("nan"),
        "share_above": float(np.mean(max_q > bound)) if len(max_q) else 0.0,
        "max_q": float(max_q.max()) if len(max_q) else float("nan"),
        "solved_step": h.solved_step,
    }


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
        bound: The largest possible discounted return.
        solved_return: The mean greedy return that counts as solved.
        block: Updates per point of the Q curves (>= 1).
        figsize: Width and height in inches.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    groups = _check_run_groups(runs)
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
    """Validate ``{(C, learning_rate): [run, ...]}`` over a full grid; return its axes."""
    if not isinstance(sweep, Mapping) or not sweep:
        raise TypeError("sweep must be a non-empty mapping {(C, learning_rate): [DQNRun, ...]}")
    for key in sweep:
        if not isinstance(key, tuple) or len(key) != 2:
            raise TypeError(f"sweep keys must be tuples (C, learning_rate), got {key!r}")
        check_int("sweep key C", key[0], minimum=1)
        check_float("sweep key learning_rate", key[1], low=0.0, low_inclusive=False)
    groups = _check_run_groups(sweep, "sweep")
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
        bound: The largest possible discounted return.
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
        ("share_above", f"share of updates with a Q above {bound:.2f}"),
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
    axes[2].axhline(bound, color="black", linestyle="--", linewidth=1.2, label=f"bound {bound:.2f}")
    axes[0].legend(loc="best", fontsize="small")
    axes[2].legend(loc="best", fontsize="small")
    return fig


def _check_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(frames, np.ndarray) and frames.ndim == 4:
        frames = list(frames)
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence) or not frames:
        raise TypeError("frames must be a non-empty list of (H, W, 3) uint8 arrays")
    shape = np.shape(frames[0])
    if len(shape) != 3 or shape[2] not in (3, 4):
        raise ValueError(f"frames must be (H, W, 3) images, got shape {shape}")
    if any(np.shape(f) != shape for f in frames):
        raise ValueError("frames must all have the same shape")
    return [np.asarray(f) for f in frames]


def plot_frame_strip(
    frames: Sequence[np.ndarray],
    n: int = 6,
    *,
    shrink: int = 2,
    width: float = 12.0,
    title: str | None = None,
) -> Figure:
    """Show ``n`` evenly spaced frames of an episode side by side (a still of an animation).

    Args:
        frames: ``(H, W, 3)`` uint8 images, e.g. from :func:`utils.envs.record_episode`.
        n: Number of frames shown (>= 1; fewer if the episode is shorter).
        shrink: Keep every ``shrink``-th pixel row and column (>= 1): smaller output.
        width: Figure width in inches.
        title: Figure title.

    Returns:
        The Figure.
    """
    frames = _check_frames(frames)
    n = min(check_int("n", n, minimum=1), len(frames))
    shrink = check_int("shrink", shrink, minimum=1)
    width = check_float("width", width, low=0.0, low_inclusive=False)
    picks = np.linspace(0, len(frames) - 1, n).round().astype(int)
    h, w = frames[0].shape[:2]
    fig, axes = new_figure(n, figsize=(width, width / n * h / w + (0.5 if title else 0.3)))
    for ax, i in zip(axes, picks, strict=True):
        ax.imshow(frames[i][::shrink, ::shrink])
        ax.set_title(f"step {i}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("0.75")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def animate_frames(
    frames: Sequence[np.ndarray],
    *,
    every: int = 4,
    shrink: int = 2,
    fps: float | None = None,
    width: float = 3.0,
    dpi: int = 72,
) -> HTML:
    """Turn an episode's frames into an HTML/JavaScript animation (no display needed).

    The result plays in Jupyter and Colab with play/pause/step buttons; the frames are
    embedded as PNG images, so its size is roughly ``len(frames) / every`` small PNGs. Keep
    ``every`` and ``shrink`` up to keep notebooks small.

    Args:
        frames: ``(H, W, 3)`` uint8 images, e.g. from :func:`utils.envs.record_episode`.
        every: Keep every ``every``-th frame (>= 1); the last frame is always kept.
        shrink: Keep every ``shrink``-th pixel row and column (>= 1).
        fps: Frames per second of the animation; default ``50 / every`` (CartPole's real
            time: its physics step is 0.02 s).
        width: Width of the picture in inches.
        dpi: Dots per inch of the embedded frames.

    Returns:
        An ``IPython.display.HTML`` holding the animation (``.data`` is the HTML text).
    """
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    frames = _check_frames(frames)
    every = check_int("every", every, minimum=1)
    shrink = check_int("shrink", shrink, minimum=1)
    fps = 50.0 / every if fps is None else check_float("fps", fps, low=0.0, low_inclusive=False)
    width = check_float("width", width, low=0.0, low_inclusive=False)
    dpi = check_int("dpi", dpi, minimum=10)
    picks = list(range(0, len(frames), every))
    if picks[-1] != len(frames) - 1:
        picks.append(len(frames) - 1)
    images = [frames[i][::shrink, ::shrink] for i in picks]
    h, w = images[0].shape[:2]
    fig = plt.figure(figsize=(width, width * h / w), dpi=dpi)
    plt.close(fig)  # not managed by pyplot: only the HTML is shown
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.axis("off")
    image = ax.imshow(images[0])
    label = ax.text(0.02, 0.95, "", transform=ax.transAxes, fontsize=8, va="top")

    def draw(k: int) -> list:
        image.set_data(images[k])
        label.set_text(f"step {picks[k]}")
        return [image, label]

    animation = FuncAnimation(fig, draw, frames=len(images), interval=1000.0 / fps, blit=False)
    return HTML(animation.to_jshtml(fps=fps, default_mode="once"))


# --------------------------------------------------------------------------------------
# Lesson 5: diagnostics to point at any run (why does my DQN not learn?)
# --------------------------------------------------------------------------------------


def _diagnostic_groups(runs: Any) -> dict[str, list]:
    """Accept a run, a list of runs (seeds of one variant) or ``{label: run or [runs]}``."""

    def is_run(x: Any) -> bool:
        return hasattr(x, "history") and hasattr(x, "q_network") and hasattr(x, "global_step")

    if is_run(runs):
        return {"run": [runs]}
    if isinstance(runs, Mapping):
        if not runs:
            raise ValueError("runs must not be empty")
        items = list(runs.items())
    elif isinstance(runs, Sequence) and not isinstance(runs, (str, bytes)):
        if not runs:
            raise ValueError("runs must not be empty")
        items = [("run", runs)]
    else:
        raise TypeError(
            "runs must be a DQNRun, a list of DQNRuns or a mapping {label: run or [runs]}, "
            f"got {type(runs).__name__}"
        )
    groups = {}
    for label, group in items:
        if not isinstance(label, str):
            raise TypeError(f"runs keys must be strings, got {type(label).__name__}")
        group = [group] if is_run(group) else group
        if isinstance(group, (str, bytes)) or not isinstance(group, Sequence) or not group:
            raise TypeError(f"runs[{label!r}] must be a DQNRun or a non-empty list of them")
        for run in group:
            if not is_run(run):
                raise TypeError(
                    f"runs[{label!r}] must hold DQNRun objects, got {type(run).__name__}"
                )
        groups[label] = list(group)
    return groups


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


def _block_reduce(values: np.ndarray, block: int, how: str) -> np.ndarray:
    """Mean or max of consecutive blocks of ``block`` along the last axis."""
    starts = np.arange(0, values.shape[-1], block)
    total = np.add.reduceat(values, starts, axis=-1)
    if how == "max":
        return np.maximum.reduceat(values, starts, axis=-1)
    counts = np.diff(np.append(starts, values.shape[-1]))
    return total / counts


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
    groups = _diagnostic_groups(runs)
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


def _nan_band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, min and max over seeds (axis 0), ignoring NaN; NaN where every seed is NaN."""
    seen = ~np.isnan(curves)
    count = seen.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.where(seen, curves, 0.0).sum(axis=0) / count, np.nan)
    low = np.where(count > 0, np.where(seen, curves, np.inf).min(axis=0), np.nan)
    high = np.where(count > 0, np.where(seen, curves, -np.inf).max(axis=0), np.nan)
    return mean, low, high


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
    groups = _diagnostic_groups(runs)
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
    fig = plt.figure(figsize=figsize, dpi=80, layout="constrained")
    plt.close(fig)  # shown once by the cell that returns it (see new_figure)
    axes = fig.subplots(2, 3)
    ret_ax, len_ax, loss_ax, q_ax, hist_ax, table_ax = axes.ravel()
    last_step = max(int(r.global_step) for g in groups.values() for r in g)
    grid = np.arange(grid_step, max(last_step, grid_step) + 1, grid_step)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    hist_values = {}
    for i, (label, group) in enumerate(groups.items()):
        color = colors[i % len(colors)]
        shown = f"{label} ({len(group)} seeds)" if len(group) > 1 else label
        for ax, field in ((ret_ax, "episode_returns"), (len_ax, "episode_lengths")):
            curves = np.array(
                [
                    returns_on_steps(
                        r.history.episode_end_steps, getattr(r.history, field), grid, last=last
                    )
                    for r in group
                ]
            )
            mean, low, high = _nan_band(curves)
            ax.plot(grid, mean, color=color, label=shown)
            if len(group) > 1:
                ax.fill_between(grid, low, high, color=color, alpha=0.2, linewidth=0)
        with_updates = [r for r in group if len(r.history.losses)]
        if with_updates:
            n = min(len(r.history.losses) for r in with_updates)
            steps = with_updates[0].history.update_steps[:n]
            ends = np.minimum(np.arange(0, n, block) + block, n) - 1
            losses = np.array(
                [_block_reduce(r.history.losses[:n], block, "mean") for r in with_updates]
            )
            max_q = np.array(
                [_block_reduce(r.history.max_q[:n], block, "max") for r in with_updates]
            )
            for ax, values in ((loss_ax, losses), (q_ax, max_q)):
                ax.plot(steps[ends], np.median(values, axis=0), color=color, label=shown)
                if len(with_updates) > 1:
                    ax.fill_between(
                        steps[ends], values.min(axis=0), values.max(axis=0),
                        color=color, alpha=0.2, linewidth=0,
                    )  # fmt: skip
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


def _episode_curves(group: Sequence[Any], grid: np.ndarray, field: str, last: int) -> np.ndarray:
    """``(n_seeds, len(grid))``: each seed's mean ``field`` over its last ``last`` episodes."""
    return np.array(
        [
            returns_on_steps(
                r.history.episode_end_steps, getattr(r.history, field), grid, last=last
            )
            for r in group
        ]
    )


def plot_bug_gallery(
    runs: Mapping[str, Sequence[Any]],
    reference: str,
    *,
    grid_step: int = 250,
    last: int = 10,
    ncols: int = 4,
) -> Figure:
    """Draw one small panel per variant: its training return against the reference's.

    Each panel shows the mean over seeds of the return of the last ``last`` training
    episodes against environment steps (band: lowest to highest seed), in colour, over the
    ``reference`` variant in grey. All panels share the y axis.

    Args:
        runs: ``{variant: [DQNRun, ...]}`` holding ``reference`` and at least one other.
        reference: The variant drawn in grey in every panel (e.g. the correct agent).
        grid_step: Environment steps between curve points (>= 1).
        last: Episodes averaged per point (>= 1).
        ncols: Panels per row (>= 1).

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(runs, Mapping):
        raise TypeError(
            f"runs must be a mapping {{variant: [DQNRun, ...]}}, got {type(runs).__name__}"
        )
    groups = _diagnostic_groups(runs)
    if reference not in groups:
        raise ValueError(f"reference must be one of {tuple(groups)}, got {reference!r}")
    others = [name for name in groups if name != reference]
    if not others:
        raise ValueError("runs must hold at least one variant besides the reference")
    grid_step = check_int("grid_step", grid_step, minimum=1)
    last = check_int("last", last, minimum=1)
    ncols = min(check_int("ncols", ncols, minimum=1), len(others))
    nrows = -(-len(others) // ncols)
    last_step = max(int(r.global_step) for g in groups.values() for r in g)
    grid = np.arange(grid_step, max(last_step, grid_step) + 1, grid_step)
    ref_mean, ref_low, ref_high = _nan_band(
        _episode_curves(groups[reference], grid, "episode_returns", last)
    )

    fig = plt.figure(figsize=(3.3 * ncols, 2.5 * nrows + 0.4), dpi=80, layout="constrained")
    plt.close(fig)  # shown once by the cell that returns it (see new_figure)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True)).ravel()
    for ax, name in zip(axes, others, strict=False):
        ax.plot(grid, ref_mean, color="0.45", linewidth=1.2, label=reference)
        ax.fill_between(grid, ref_low, ref_high, color="0.6", alpha=0.25, linewidth=0)
        mean, low, high = _nan_band(_episode_curves(groups[name], grid, "episode_returns", last))
        ax.plot(grid, mean, color="tab:red", linewidth=1.5, label=name)
        ax.fill_between(grid, low, high, color="tab:red", alpha=0.2, linewidth=0)
        ax.set_title(f"{name} ({len(groups[name])} seeds)", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[len(others) :]:
        ax.axis("off")
    for ax in axes[::ncols]:
        ax.set_ylabel(f"return (last {last})")
    for ax in axes[-ncols:]:
        ax.set_xlabel("environment step")
    axes[0].legend(loc="upper left", fontsize="x-small")
    fig.suptitle(
        f"training return of each variant (red) against {reference!r} (grey); "
        "line: mean over seeds, band: range",
        fontsize=10,
    )
    return fig


def plot_learning_rate_sweep(
    sweep: Mapping[str, Mapping[float, Sequence[Any]]],
    *,
    bound: float | None = None,
    last: int = 10,
    figsize: tuple[float, float] = (11.0, 3.8),
) -> Figure:
    """Compare how variants tolerate the learning rate: final return and largest Q per rate.

    Left: the mean return of each seed's last ``last`` training episodes against the
    learning rate (log axis; line: mean over seeds, dots: seeds). Right: the largest Q-value
    each seed predicted during training (symlog axis), with ``bound`` dashed.

    Args:
        sweep: ``{variant: {learning_rate: [DQNRun, ...]}}``, e.g.
            ``{"two networks": {1e-3: runs, ...}, "one network": {...}}``.
        bound: The largest possible discounted return (optional).
        last: Training episodes averaged for the final return (>= 1).
        figsize: Width and height in inches.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(sweep, Mapping) or not sweep:
        raise TypeError("sweep must be a non-empty mapping {variant: {learning_rate: [runs]}}")
    last = check_int("last", last, minimum=1)
    if bound is not None:
        bound = check_float("bound", bound)
    prepared = {}
    for label, by_rate in sweep.items():
        if not isinstance(by_rate, Mapping) or not by_rate:
            raise TypeError(
                f"sweep[{label!r}] must be a non-empty mapping {{learning_rate: [runs]}}"
            )
        rates = sorted(by_rate)
        for lr in rates:
            check_float(f"sweep[{label!r}] learning rate", lr, low=0.0, low_inclusive=False)
        groups = _diagnostic_groups({f"{lr:g}": by_rate[lr] for lr in rates})
        returns = [
            [float(np.mean(r.history.episode_returns[-last:])) if len(r.history.episode_returns)
             else float("nan") for r in g]
            for g in groups.values()
        ]  # fmt: skip
        peaks = [
            [float(np.max(r.history.max_q)) if len(r.history.max_q) else float("nan") for r in g]
            for g in groups.values()
        ]
        prepared[label] = (np.array(rates, dtype=float), returns, peaks)

    fig, (ret_ax, q_ax) = new_figure(2, figsize=figsize)
    for label, (rates, returns, peaks) in prepared.items():
        n = max(len(v) for v in returns)
        for ax, values in ((ret_ax, returns), (q_ax, peaks)):
            (line,) = ax.plot(
                rates, [np.nanmean(v) for v in values], marker="o", label=f"{label} ({n} seeds)"
            )
            for lr, v in zip(rates, values, strict=True):
                ax.scatter(np.full(len(v), lr), v, s=10, color=line.get_color(), alpha=0.5)
    for ax in (ret_ax, q_ax):
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.grid(alpha=0.3)
    ret_ax.set_ylabel(f"return (mean of the last {last} training episodes)")
    ret_ax.set_title("does it learn?")
    q_ax.set_yscale("symlog", linthresh=1.0)
    q_ax.set_ylim(bottom=0.0)
    q_ax.set_ylabel("largest predicted Q during training")
    q_ax.set_title("do its values stay possible?")
    if bound is not None:
        q_ax.axhline(bound, color="black", linestyle="--", linewidth=1.2,
                     label=f"largest possible return {bound:.2f}")  # fmt: skip
    ret_ax.legend(loc="best", fontsize="small")
    q_ax.legend(loc="best", fontsize="small")
    return fig
