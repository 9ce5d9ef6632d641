"""Lesson 2 (when tables break): its figures, its widget and the bin-index exercise.

- :func:`plot_bins_sweep`, :func:`plot_greedy_slice`: the bin-count sweep of discretised
  CartPole, and where a binned table has a greedy action at all.
- :class:`BinsSweepExplorer` (:func:`bins_sweep_explorer`): pick a bin count from the sweep.
- :func:`check_bin_index`: the exercise, which bin holds a number.

How tables scale (bigger FrozenLakes, their figure, the record of the bin-count sweep
:class:`~utils.lessons.lesson2_scaling.BinsSweep`) is in :mod:`utils.lessons.lesson2_scaling`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from utils._checks import check_int
from utils.exercise import Exercise, Mistake, Verdict
from utils.explorer import Explorer
from utils.figures import draw_band, figure_and_axes, new_figure
from utils.lessons.lesson2_scaling import BinsSweep

__all__ = [
    "BIN_INDEX",
    "BinsSweepExplorer",
    "bins_sweep_explorer",
    "check_bin_index",
    "plot_bins_sweep",
    "plot_greedy_slice",
]

# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_bins_sweep(sweep: BinsSweep, *, highlight: int | None = None) -> Figure:
    """Draw the bin-count sweep: table size, how much of it was visited, and the return.

    Three panels against the bins per dimension ``b``: (1) table entries and, below them,
    the entries visited at least once (log scale); (2) the visited fraction; (3) the return
    of the greedy policy after the step budget, mean over seeds with a min-max band, and,
    if the sweep has them, the return of a good controller copied into the table (what the
    grid can represent). Lines join the means; every seed is a dot.

    Args:
        sweep: The :class:`utils.lessons.lesson2_scaling.BinsSweep` to draw.
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

    draw_band(frac_ax, b, 100 * sweep.visited.T, color="C1", marker="o", dots=True)
    frac_ax.set_ylabel(f"% of entries visited ({seeds} seeds)")
    frac_ax.set_ylim(0, 105)

    draw_band(
        ret_ax, b, sweep.returns.T, color="C2", marker="o", dots=True,
        label=f"learned, {sweep.step_budget:,} steps",
    )  # fmt: skip
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

    fig, ax = figure_and_axes(ax, (4.8, 4.0))
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
# The widget: choose a bin count from a sweep that is already computed
# --------------------------------------------------------------------------------------


class BinsSweepExplorer(Explorer):
    """Pick CartPole's bins per dimension from a computed sweep; the picture updates at once.

    Nothing is trained when the slider moves: the sweep (one Q-table per bin count and seed)
    was computed beforehand, and the widget only selects from it. The picture is
    :func:`plot_bins_sweep` with the chosen count marked, titled with
    :meth:`BinsSweep.summary` (table size, share visited, return).

    Attributes:
        sweep: The :class:`~utils.lessons.lesson2_scaling.BinsSweep` shown.
        widget: The ``ipywidgets.VBox`` to display (slider above the picture).
        slider: The ``SelectionSlider`` over the swept bin counts (``controls["bins"]``).
        last_seconds: Wall time of the last redraw, in seconds.
    """

    def __init__(self, sweep: BinsSweep, bins: int | None = None) -> None:
        if not isinstance(sweep, BinsSweep):
            raise TypeError(f"sweep must be a BinsSweep, got {type(sweep).__name__}")
        self.sweep = sweep
        start = int(sweep.bins[len(sweep.bins) // 2]) if bins is None else bins
        sweep.index(start)  # raises ValueError naming the swept counts
        self.slider = widgets.SelectionSlider(
            options=[(str(int(b)), int(b)) for b in sweep.bins],
            value=start,
            description="bins b",
            continuous_update=True,  # no training: cheap enough to follow the drag
            style={"description_width": "70px"},
            layout=widgets.Layout(width="420px"),
        )
        self.controls = {"bins": self.slider}
        self._start(self.slider)

    def figure(self, bins: int) -> Figure:
        """Return the sweep's picture with ``bins`` marked and summarised in the title.

        Args:
            bins: One of the swept bin counts.

        Returns:
            The Figure.

        Raises:
            ValueError: If ``bins`` was not swept.
        """
        fig = plot_bins_sweep(self.sweep, highlight=bins)
        fig.suptitle(self.sweep.summary(bins), fontsize=10)
        return fig

    def _check_move(self, values: Mapping[str, Any]) -> None:
        if "bins" in values:
            self.sweep.index(values["bins"])

    def move(self, bins: int) -> float:  # type: ignore[override]
        """Set the slider as a learner would and return the seconds until the redraw is done.

        Raises:
            ValueError: If ``bins`` was not swept.
        """
        return super().move(bins=bins)


def bins_sweep_explorer(sweep: BinsSweep, bins: int | None = None) -> BinsSweepExplorer:
    """Build the Lesson 2 widget: a slider over the swept bin counts of CartPole.

    Args:
        sweep: The computed :class:`~utils.lessons.lesson2_scaling.BinsSweep`.
        bins: The count shown first; default the middle of the swept counts.

    Returns:
        The :class:`BinsSweepExplorer`; display it (or its ``.widget``).

    Raises:
        TypeError: If ``sweep`` is not a ``BinsSweep``.
        ValueError: If ``bins`` is not one of the swept counts.
    """
    return BinsSweepExplorer(sweep, bins)


# --------------------------------------------------------------------------------------
# The exercise: the bin of one number
# --------------------------------------------------------------------------------------
# Signature the learner fills in:
#   bin_index(value, low, high, bins) -> int
# Equal-width bins over [low, high]; values outside are clipped into the end bins.


def _bin_reference(value, low, high, bins):
    width = (high - low) / bins
    i = int(np.floor((value - low) / width))
    return min(max(i, 0), bins - 1)


def _bin_no_clip(value, low, high, bins):
    return int(np.floor((value - low) / ((high - low) / bins)))


def _bin_no_top_clip(value, low, high, bins):
    return max(int(np.floor((value - low) / ((high - low) / bins))), 0)


def _bin_no_bottom_clip(value, low, high, bins):
    return min(int(np.floor((value - low) / ((high - low) / bins))), bins - 1)


def _bin_round(value, low, high, bins):
    i = int(np.round((value - low) / ((high - low) / bins)))
    return min(max(i, 0), bins - 1)


def _bin_edges_as_bins(value, low, high, bins):
    width = (high - low) / max(bins - 1, 1)  # bins - 1 gaps between bins edges: one bin short
    i = int(np.floor((value - low) / width))
    return min(max(i, 0), bins - 1)


def _bin_no_offset(value, low, high, bins):
    i = int(np.floor(value / ((high - low) / bins)))
    return min(max(i, 0), bins - 1)


def _bin_as_float(value, low, high, bins):
    return float(_bin_reference(value, low, high, bins))


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def _bin_same(got: Any, expected: Any) -> bool:
    # An index must be an int (a float cannot index a table row), so the type counts too.
    try:
        return _is_int(got) == _is_int(expected) and bool(got == expected)
    except (TypeError, ValueError):
        return False


_BIN_SOLUTION = """\
def bin_index(value, low, high, bins):
    width = (high - low) / bins
    i = math.floor((value - low) / width)  # which slice of width `width`, counted from low
    return min(max(i, 0), bins - 1)  # clip: outside values go to the end bins"""

# Cases that tell the catalogued mistakes apart: inside, exactly on edges, far outside on
# both sides, one bin, CartPole's angle bounds, a negative range that does not start at 0.
_BIN_CASES = (
    (0.0, -1.0, 1.0, 4),
    (0.49, -1.0, 1.0, 4),
    (-0.99, -1.0, 1.0, 4),
    (1.0, -1.0, 1.0, 4),
    (5.0, -1.0, 1.0, 4),
    (-7.0, -1.0, 1.0, 4),
    (0.3, 0.0, 3.0, 1),
    (2.9, -2.4, 2.4, 6),
    (0.1, -0.2095, 0.2095, 3),
    (-0.5, -3.0, 3.0, 10),
    (-3.5, -3.5, 3.5, 7),
)

BIN_INDEX = Exercise(
    name="bin_index",
    reference=_bin_reference,
    cases=_BIN_CASES,
    mistakes=(
        Mistake(
            "did not clip values outside [low, high]",
            "a velocity can be faster than the bound: such values belong to the end bins, "
            "so clip the index into [0, bins - 1].",
            _bin_no_clip,
        ),
        Mistake(
            "clipped at the bottom but not at the top",
            "value == high (or above) gives index `bins`, one past the last bin: clip with "
            "min(..., bins - 1) as well.",
            _bin_no_top_clip,
        ),
        Mistake(
            "clipped at the top but not at the bottom",
            "values below low give a negative index: clip with max(..., 0) as well.",
            _bin_no_bottom_clip,
        ),
        Mistake(
            "rounded instead of rounding down",
            "bin i covers [low + i*width, low + (i+1)*width): take the floor, not round().",
            _bin_round,
        ),
        Mistake(
            "divided the range into bins - 1 widths",
            "`bins` bins over [low, high] each have width (high - low) / bins.",
            _bin_edges_as_bins,
        ),
        Mistake(
            "forgot to subtract low",
            "count widths from the lower edge: (value - low) / width.",
            _bin_no_offset,
        ),
        Mistake(
            "returned a float",
            "the bin is a table index: return an int (`int(...)` or `math.floor`, which gives "
            "an int), not a float such as 2.0.",
            _bin_as_float,
        ),
    ),
    hint="width = (high - low) / bins; index = floor((value - low) / width), then clip it "
    "into [0, bins - 1]; return a Python int.",
    solution=_BIN_SOLUTION,
    compare=_bin_same,
)


def check_bin_index(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 2 exercise: which of ``bins`` equal-width bins holds a number.

    ``fn(value, low, high, bins)`` must return an int in ``[0, bins - 1]``: the bin of
    ``value`` among ``bins`` equal-width bins over ``[low, high]``, with values outside
    clipped into the end bins (as :func:`utils.discretize.bin_index`). Prints a friendly
    verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return BIN_INDEX.check(fn)
