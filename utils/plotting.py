"""Figures for the lessons. Every function returns a matplotlib Figure and never calls
``plt.show()``; pass ``ax=`` to draw on an existing Axes (the Figure of that Axes is returned).
Without ``ax`` the Figure comes from :func:`new_figure`: it is not managed by pyplot, so a
notebook shows it once, by returning or ``display``-ing it.

Sections: generic curves (learning curves over seeds, rolling means), tabular figures
(Q-table heatmap on a grid map, distance to the optimum). Later lessons add their own below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from utils._checks import check_choice, check_float, check_int
from utils.discretize import BinsSweep

__all__ = [
    "FROZEN_LAKE_ARROWS",
    "new_figure",
    "plot_bins_sweep",
    "plot_distance_to_optimum",
    "plot_greedy_slice",
    "plot_learning_curves",
    "plot_max_q_vs_bound",
    "plot_q_scatter",
    "plot_q_table",
    "plot_scaling",
    "plot_target_drift",
    "returns_on_steps",
    "rolling_mean",
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
    if title:
        ax.set_title(title)
    if show_legend:
        ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
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
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
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
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
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
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return fig
