"""Figure primitives every lesson draws with: figures, bands over seeds, learning curves.

Every plot function returns a matplotlib Figure and never calls ``plt.show()``; pass ``ax=``
to draw on an existing Axes (the Figure of that Axes is returned). Without ``ax`` the Figure
comes from :func:`new_figure`: it is not managed by pyplot, so a notebook shows it once, by
returning or ``display``-ing it.

- :func:`new_figure`, :func:`figure_and_axes`, :func:`finish_axes`: make and finish Axes.
- :func:`rolling_mean`, :func:`block_reduce`: smooth a curve, summarise blocks of updates.
- :func:`seed_band`, :func:`draw_band`: a line over seeds with a band around it (the one
  band helper: mean or median, lowest-to-highest or a 95% interval, NaN-aware).
- :func:`plot_learning_curves`: curves averaged over seeds, for any lesson.
- :func:`plot_q_table`: a FrozenLake Q-table as a heatmap with greedy arrows.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from utils._checks import check_choice, check_int

__all__ = [
    "FROZEN_LAKE_ARROWS",
    "block_reduce",
    "draw_band",
    "figure_and_axes",
    "finish_axes",
    "new_figure",
    "plot_learning_curves",
    "plot_q_table",
    "rolling_mean",
    "seed_band",
]


def new_figure(
    ncols: int = 1,
    *,
    nrows: int = 1,
    figsize: tuple[float, float] = (6.4, 3.6),
    dpi: float | None = None,
    sharex: bool = False,
    sharey: bool = False,
) -> tuple[Figure, list]:
    """Return a Figure with a grid of ``nrows`` x ``ncols`` Axes, already closed in pyplot.

    Figures made here are displayed once, by the notebook cell that returns or displays
    them (pyplot would otherwise show its open figures a second time at the end of the
    cell), and are freed when no longer referenced (a widget redrawing many times does not
    leak them).

    Args:
        ncols: Axes per row (>= 1).
        nrows: Rows of Axes (>= 1).
        figsize: Width and height in inches.
        dpi: Dots per inch; default matplotlib's. Fewer dots keep big figures small.
        sharex, sharey: Share the x (y) axis between all Axes.

    Returns:
        ``(figure, [ax, ...])``, the Axes row by row.
    """
    ncols = check_int("ncols", ncols, minimum=1)
    nrows = check_int("nrows", nrows, minimum=1)
    # Made by pyplot so that it gets the notebook's (inline) canvas and displays as an
    # image, then closed at once so pyplot neither shows it again nor keeps it alive.
    fig = plt.figure(figsize=figsize, dpi=dpi, layout="constrained")
    plt.close(fig)
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False)
    return fig, axes.ravel().tolist()


def figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Return ``(ax.figure, ax)``, or a new one-Axes Figure of ``figsize`` if ``ax`` is None.

    Raises:
        TypeError: If ``ax`` is neither None nor a matplotlib Axes.
    """
    if ax is None:
        fig, (ax,) = new_figure(1, figsize=figsize)
        return fig, ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.figure, ax


def finish_axes(ax: Axes, title: str | None, legend_loc: str | None = "upper left") -> None:
    """End a line plot the course's way: its title (if any), a small legend, a light grid.

    Args:
        ax: The Axes.
        title: Axes title; none if empty or None.
        legend_loc: Where the legend goes (a matplotlib ``loc``); None draws no legend.

    Raises:
        TypeError: If ``ax`` is not a matplotlib Axes.
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    if title:
        ax.set_title(title)
    if legend_loc is not None:
        ax.legend(loc=legend_loc, fontsize="small")
    ax.grid(alpha=0.3)


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


def block_reduce(
    values: np.ndarray, block: int, how: str = "mean"
) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean or max of consecutive blocks of ``block`` values along the last axis.

    The last block may be shorter. Use it to draw one point per block of updates: the max
    keeps a single runaway value visible, the mean smooths a noisy loss.

    Args:
        values: Array of shape ``(..., n)`` with ``n >= 1``.
        block: Values per block (>= 1).
        how: ``"mean"`` or ``"max"``.

    Returns:
        ``(reduced, ends)``: shape ``(..., n_blocks)`` and the index of each block's last
        value, shape ``(n_blocks,)`` (to pick the x position of each point).
    """
    block = check_int("block", block, minimum=1)
    how = check_choice("how", how, ("mean", "max"))
    values = np.asarray(values, dtype=float)
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError(f"values must have shape (..., n) with n >= 1, got {values.shape}")
    n = values.shape[-1]
    starts = np.arange(0, n, block)
    ends = np.minimum(starts + block, n) - 1
    if how == "max":
        return np.maximum.reduceat(values, starts, axis=-1), ends
    return np.add.reduceat(values, starts, axis=-1) / (ends - starts + 1), ends


def seed_band(
    curves: np.ndarray, *, center: str = "mean", band: str = "minmax"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Summarise curves over seeds (axis 0): a central line and a band, ignoring NaN.

    Args:
        curves: Shape ``(n_seeds, n_points)``; NaN where a seed has no value yet.
        center: ``"mean"`` or ``"median"`` over the seeds.
        band: ``"minmax"`` (lowest to highest seed) or ``"ci"`` (a 95% interval of the
            mean, normal approximation: mean +- 1.96 standard errors).

    Returns:
        ``(center, low, high)``, each of shape ``(n_points,)``; NaN where every seed is NaN
        (and, for ``"ci"``, where fewer than two seeds have a value).
    """
    center = check_choice("center", center, ("mean", "median"))
    band = check_choice("band", band, ("minmax", "ci"))
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2 or curves.shape[0] == 0:
        raise ValueError(f"curves must have shape (n_seeds, n_points), got {curves.shape}")
    with warnings.catch_warnings():  # all-NaN columns give NaN, which is what we want
        warnings.simplefilter("ignore", RuntimeWarning)
        middle = np.nanmedian(curves, axis=0) if center == "median" else np.nanmean(curves, 0)
        if band == "minmax":
            return middle, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
        count = np.sum(~np.isnan(curves), axis=0)
        half = 1.96 * np.nanstd(curves, axis=0, ddof=1) / np.sqrt(count)
    return middle, middle - half, middle + half


def draw_band(
    ax: Axes,
    x: np.ndarray,
    curves: np.ndarray,
    *,
    center: str = "mean",
    band: str | None = "minmax",
    color: Any = None,
    band_color: Any = None,
    label: str | None = None,
    dots: bool = False,
    alpha: float = 0.2,
    **line_kwargs: Any,
) -> Line2D:
    """Draw curves over seeds as one line with a band around it (a band needs two seeds).

    Args:
        ax: The Axes to draw on.
        x: x positions, shape ``(n_points,)``.
        curves: Shape ``(n_seeds, n_points)``; NaN points are left out (see :func:`seed_band`).
        center: ``"mean"`` or ``"median"``.
        band: ``"minmax"``, ``"ci"`` or None (no band).
        color: Line colour; default the Axes' next colour.
        band_color: Band colour; default the line's.
        label: Legend label of the line.
        dots: Also draw every seed's value as a small dot.
        alpha: Opacity of the band.
        **line_kwargs: Passed to ``ax.plot`` (``marker``, ``linewidth``, ...).

    Returns:
        The line.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    if band is not None:
        check_choice("band", band, ("minmax", "ci"))
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    x = np.asarray(x)
    if curves.ndim != 2 or x.shape != (curves.shape[1],):
        raise ValueError(
            f"x must have shape (n_points,) and curves (n_seeds, n_points), got {x.shape} "
            f"and {curves.shape}"
        )
    middle, low, high = seed_band(curves, center=center, band=band or "minmax")
    (line,) = ax.plot(x, middle, color=color, label=label, **line_kwargs)
    color = line.get_color()
    if band is not None and curves.shape[0] > 1:
        ax.fill_between(x, low, high, color=band_color or color, alpha=alpha, linewidth=0)
    if dots:
        for row in curves:
            ax.scatter(x, row, s=8, color=color, alpha=0.5)
    return line


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

    fig, ax = figure_and_axes(ax, (6.4, 3.6))
    for (label, _), array in zip(items, arrays, strict=True):
        xs = x if x is not None else np.arange(1, array.shape[1] + 1)
        n_seeds = array.shape[0]
        shown = f"{label} ({n_seeds} seeds)" if n_seeds > 1 and label else label or None
        draw_band(
            ax, xs, rolling_mean(array, window), band=None if band == "none" else band,
            label=shown, linewidth=1.5,
        )  # fmt: skip
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
    finish_axes(ax, title, "best" if show_legend else None)
    return fig


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
    fig, ax = figure_and_axes(ax, (size + 0.8, size))
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
            ax.text(c, r, letter, ha="center", va="center", fontsize=12 if small else 16,
                    fontweight="bold", color=text_color)  # fmt: skip
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
            ax.text(c, r + 0.38, f"{values[r, c]:.2f}", ha="center", va="center", fontsize=7,
                    color=text_color)  # fmt: skip
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
