"""Lesson 2 (when tables break): its figures, its widget and the bin-index exercise.

- :func:`plot_bins_sweep`, :func:`plot_greedy_slice`: the bin-count sweep of discretised
  CartPole, and where a binned table has a greedy action at all.
- :class:`GridExplorer` (:func:`grid_explorer`): choose the bins of each dimension; it
  retrains a few tables at a small budget and shows what they learned.
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
from utils.discretize import CARTPOLE_HIGH, CARTPOLE_LOW
from utils.exercise import Exercise, Mistake, Verdict
from utils.explorer import Explorer
from utils.figures import draw_band, figure_and_axes, new_figure
from utils.lessons.lesson2_batch import TableBatch, train_tables, uniform_edges
from utils.lessons.lesson2_grids import draw_iqm_bars
from utils.lessons.lesson2_scaling import BinsSweep
from utils.stats import iqm

__all__ = [
    "BIN_INDEX",
    "GridExplorer",
    "check_bin_index",
    "grid_explorer",
    "plot_bins_sweep",
    "plot_greedy_slice",
]

_SLICE_NAMES = (
    "cart position (m)", "cart velocity (m/s)", "pole angle (rad)", "pole velocity (rad/s)"
)  # fmt: skip

# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_bins_sweep(sweep: BinsSweep, *, highlight: int | None = None) -> Figure:
    """Draw the bin-count sweep: table size, how much of it was visited, and the return.

    Three panels against the bins per dimension ``b``: (1) table entries and, below them,
    the entries visited at least once (log scale); (2) the visited fraction; (3) the return
    of the greedy policy after the step budget, IQM over seeds with a bootstrap 95% CI, and,
    if the sweep has them, the return of a good controller copied into the table (what the
    grid can represent). Every seed is a dot.

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

    draw_iqm_bars(ret_ax, b, sweep.returns, color="C2",
                  label=f"learned, {sweep.step_budget:,} steps (IQM, 95% CI)")  # fmt: skip
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
    dim_names: Sequence[str] = _SLICE_NAMES,
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
# The widget: choose the bins of each dimension, retrain, see what the table learned
# --------------------------------------------------------------------------------------

_DIM_LABELS = ("cart pos.", "cart vel.", "pole angle", "pole vel.")


class GridExplorer(Explorer):
    """Choose CartPole's bins per dimension; the widget retrains tables and redraws.

    Every move trains ``n_seeds`` fresh tables (zero start, alpha 0.2, gamma 0.99,
    epsilon 0.05) on the chosen equal-width grid for ``step_budget`` steps, side by side
    (:func:`utils.lessons.lesson2_batch.train_tables`), then draws two panels: the training
    return of every seed over the budget, and the greedy action of seed 0's table over
    (pole angle, pole velocity) (:func:`plot_greedy_slice`). The title gives the table size,
    the share of entries visited and the greedy return (IQM over the seeds). The sliders
    retrain once released (``continuous_update=False``).

    Attributes:
        widget: The ``ipywidgets.VBox`` to display (sliders above the picture).
        sliders: One ``IntSlider`` per dimension (also ``controls``), keyed by its label.
        last_seconds: Wall time of the last retrain-and-redraw, in seconds.
    """

    noun = "slider"

    def __init__(
        self,
        bins: Sequence[int] = (3, 3, 6, 3),
        *,
        step_budget: int = 20_000,
        n_seeds: int = 5,
        max_bins: int = 12,
        eval_episodes: int = 10,
    ) -> None:
        self.max_bins = check_int("max_bins", max_bins, minimum=2, maximum=30)
        if len(bins) != 4:
            raise ValueError(f"bins must have 4 entries (one per dimension), got {bins!r}")
        start = [check_int(f"bins[{d}]", b, minimum=1, maximum=self.max_bins)
                 for d, b in enumerate(bins)]  # fmt: skip
        self.step_budget = check_int("step_budget", step_budget, minimum=1000)
        self.n_seeds = check_int("n_seeds", n_seeds, minimum=1, maximum=20)
        self.eval_episodes = check_int("eval_episodes", eval_episodes, minimum=1)
        self.sliders = {
            label: widgets.IntSlider(
                value=b, min=1, max=self.max_bins, description=label, continuous_update=False,
                style={"description_width": "70px"}, layout=widgets.Layout(width="300px"),
            )
            for label, b in zip(_DIM_LABELS, start, strict=True)
        }  # fmt: skip
        self.controls = self.sliders
        s = list(self.sliders.values())
        self._start(widgets.HBox([widgets.VBox(s[:2]), widgets.VBox(s[2:])]))

    def train(self, *bins: int) -> TableBatch:
        """Train ``n_seeds`` tables on the equal-width grid with ``bins`` (4 ints)."""
        grid = uniform_edges(bins)
        return train_tables(
            [grid] * self.n_seeds, list(range(self.n_seeds)), step_budget=self.step_budget,
            eval_episodes=self.eval_episodes,
        )  # fmt: skip

    def figure(self, *bins: int) -> Figure:
        """Retrain with ``bins`` per dimension (4 ints, each >= 1) and return the picture."""
        bins = tuple(check_int(f"bins[{d}]", b, minimum=1) for d, b in enumerate(bins))
        batch = self.train(*bins)
        window = max(self.step_budget // 20, 1)
        fig, (curve_ax, slice_ax) = new_figure(2, figsize=(11.0, 3.8))
        x = window * np.arange(1, self.step_budget // window + 1)
        for k in range(self.n_seeds):
            curve_ax.plot(x, batch.window_returns(k, window), color="C0", alpha=0.35)
        curve_ax.set_xlabel("environment steps")
        curve_ax.set_ylabel(f"training return ({self.n_seeds} seeds)")
        curve_ax.set_ylim(0, 510)
        curve_ax.grid(alpha=0.3)
        plot_greedy_slice(
            batch.q_tables[0], batch.visit_counts[0], bins, CARTPOLE_LOW, CARTPOLE_HIGH,
            ax=slice_ax, title="seed 0: greedy action (white: never visited)",
            dim_names=_SLICE_NAMES,
        )  # fmt: skip
        entries = 2 * int(np.prod(bins))
        fig.suptitle(
            f"bins {bins}: {entries:,} entries, {100 * batch.visited.mean():.0f}% visited in "
            f"{self.step_budget:,} steps; greedy return IQM {iqm(batch.returns):.0f} "
            f"(seeds {batch.returns.min():.0f} to {batch.returns.max():.0f})",
            fontsize=10,
        )
        return fig

    def _check_move(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            check_int(name, value, minimum=1, maximum=self.max_bins)


def grid_explorer(bins: Sequence[int] = (3, 3, 6, 3), **kwargs: Any) -> GridExplorer:
    """Build the Lesson 2 widget: one slider of bins per CartPole dimension, retraining.

    Args:
        bins: The bins per dimension shown first (4 ints in [1, max_bins]).
        **kwargs: ``step_budget`` (20,000), ``n_seeds`` (5), ``max_bins`` (12),
            ``eval_episodes`` (10); see :class:`GridExplorer`.

    Returns:
        The :class:`GridExplorer`; display it (or its ``.widget``).
    """
    return GridExplorer(bins, **kwargs)


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

    Args:
        fn: The learner's ``bin_index(value, low, high, bins)``; it must return an int in
            ``[0, bins - 1]``, values outside ``[low, high]`` clipped into the end bins (as
            :func:`utils.discretize.bin_index`).

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return BIN_INDEX.check(fn)
