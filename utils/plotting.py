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

from utils._checks import check_choice, check_int

__all__ = [
    "FROZEN_LAKE_ARROWS",
    "new_figure",
    "plot_distance_to_optimum",
    "plot_learning_curves",
    "plot_q_scatter",
    "plot_q_table",
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

    Points on the diagonal are exact. The entries of the optimal actions (``argmax_a Q*``)
    are drawn in a second colour: they are the ones a good policy keeps trying, so they
    usually end up closer to the diagonal than the rest.

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
    best[np.arange(q.shape[0]), np.argmax(exact, axis=1)] = True
    shown = np.broadcast_to(states[:, None], q.shape)

    fig, ax = _figure_and_axes(ax, (4.4, 4.0))
    rest, optimal = shown & ~best, shown & best
    ax.scatter(exact[rest], q[rest], s=6, alpha=0.4, label="other actions")
    ax.scatter(exact[optimal], q[optimal], s=6, alpha=0.7, label=r"optimal action $\arg\max_a Q^*$")
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
