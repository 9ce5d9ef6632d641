"""Primitives for DQN training runs that several lessons share: checks, summaries, figures.

A *run* is what :func:`utils.engine.train_many` and :func:`utils.train.train` return (a
``utils.dqn.DQNRun``): anything with ``.history``, ``.seed`` and ``.global_step``.

- :func:`run_groups`: the one check for "a group of runs" (``{label: [run, ...]}``).
- :func:`returns_on_steps`, :func:`step_grid`, :func:`episode_curves`: episode numbers of
  seeds that finished different numbers of episodes, read on a common grid of steps.
- :func:`run_summary`: what the lessons report about one run.
- :func:`check_probe_targets`: the one check for TD targets of a fixed probe batch recorded
  after every update (:func:`plot_target_drift`, Lesson 4's ``plot_target_staircase``).
- :func:`plot_max_q_vs_bound`, :func:`plot_target_drift`: the largest predicted Q against
  the largest possible return, and TD targets that move (Lessons 3 and 4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.figures import block_reduce, figure_and_axes, finish_axes

__all__ = [
    "bound_label",
    "check_probe_targets",
    "episode_curves",
    "is_run",
    "plot_max_q_vs_bound",
    "plot_target_drift",
    "returns_on_steps",
    "run_groups",
    "run_summary",
    "step_grid",
]

_RUN_ATTRIBUTES = ("history", "seed", "global_step")


def is_run(x: Any, needs: Sequence[str] = ()) -> bool:
    """Return True if ``x`` looks like a training run (``history``, ``seed``, ``global_step``).

    Args:
        x: Anything.
        needs: Further attributes it must have, e.g. ``("q_network", "env_id")``.
    """
    return all(hasattr(x, name) for name in (*_RUN_ATTRIBUTES, *needs))


def run_groups(
    runs: Any,
    name: str = "runs",
    *,
    bare: bool = False,
    label_type: type | tuple[type, ...] = str,
    needs: Sequence[str] = (),
) -> dict[Any, list]:
    """Check a group of runs and return it as ``{label: [run, ...]}`` (a new dict of lists).

    Accepts ``{label: [run, ...]}`` or ``{label: run}``; with ``bare=True`` also a single run
    or a list of runs (one group labelled ``"run"``). Wrong types raise TypeError, empty
    groups ValueError; the message names ``name`` and the label.

    Args:
        runs: The runs to check.
        name: How messages name the argument (``"runs"``, ``"sweep"``, ...).
        bare: Accept a single run or a list of runs as well as a mapping.
        label_type: The type (or types) every label must have.
        needs: Attributes every run must have besides ``history``, ``seed``, ``global_step``.

    Returns:
        ``{label: [run, ...]}`` in the order given, every list non-empty.

    Raises:
        TypeError: If ``runs``, a label or a run has the wrong type.
        ValueError: If ``runs`` or one of its groups is empty.
    """
    if bare and is_run(runs, needs):
        return {"run": [runs]}
    if isinstance(runs, Mapping):
        items = list(runs.items())
    elif bare and isinstance(runs, Sequence) and not isinstance(runs, (str, bytes)):
        items = [("run", runs)] if len(runs) else []
    else:
        allowed = "a DQNRun, a list of DQNRuns or a mapping" if bare else "a mapping"
        raise TypeError(
            f"{name} must be {allowed} {{label: [DQNRun, ...]}}, got {type(runs).__name__}"
        )
    if not items:
        raise ValueError(f"{name} must not be empty: give at least one group of runs")
    types = label_type if isinstance(label_type, tuple) else (label_type,)
    kinds = " or ".join("strings" if t is str else t.__name__ for t in types)
    what = "DQNRun objects" + (f" (with {', '.join(needs)})" if needs else "")
    groups = {}
    for label, group in items:
        if not isinstance(label, label_type):
            raise TypeError(f"{name} keys must be {kinds}, got {type(label).__name__} {label!r}")
        if is_run(group, needs):
            group = [group]
        if isinstance(group, (str, bytes)) or not isinstance(group, Sequence):
            raise TypeError(f"{name}[{label!r}] must be a list of runs, got {type(group).__name__}")
        if not group:
            raise ValueError(f"{name}[{label!r}] must not be empty: give at least one run")
        for run in group:
            if not is_run(run, needs):
                raise TypeError(f"{name}[{label!r}] must hold {what}, got {type(run).__name__}")
        groups[label] = list(group)
    return groups


def _check_group(runs: Any, name: str = "runs") -> None:
    """Raise unless ``runs`` is a non-empty list of runs (one group, no labels)."""
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence):
        raise TypeError(f"{name} must be a list of runs, got {type(runs).__name__}")
    if not runs:
        raise ValueError(f"{name} must not be empty: give at least one run")
    for run in runs:
        if not is_run(run):
            raise TypeError(f"{name} must hold DQNRun objects, got {type(run).__name__}")


def returns_on_steps(
    end_steps: np.ndarray, returns: np.ndarray, steps: np.ndarray, *, last: int = 10
) -> np.ndarray:
    """Return, at each of ``steps``, the mean return of the last ``last`` episodes ended by then.

    Seeds finish different numbers of episodes, so their returns cannot be stacked episode by
    episode; read on a common grid of environment steps they can (then pass the stacked rows
    to :func:`utils.figures.plot_learning_curves` with ``x=steps``).

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


def step_grid(runs: Sequence[Any], grid_step: int) -> np.ndarray:
    """Return ``grid_step, 2 * grid_step, ...`` up to the last step of the longest run.

    Args:
        runs: Runs (each with ``.global_step``), at least one.
        grid_step: Environment steps between grid points (>= 1).

    Returns:
        Shape ``(n_points,)``, int, with at least one point.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    grid_step = check_int("grid_step", grid_step, minimum=1)
    _check_group(runs)
    last_step = max(int(r.global_step) for r in runs)
    return np.arange(grid_step, max(last_step, grid_step) + 1, grid_step)


def episode_curves(
    group: Sequence[Any], grid: np.ndarray, field: str = "episode_returns", *, last: int = 10
) -> np.ndarray:
    """Return each run's mean ``field`` over its last ``last`` episodes at each grid step.

    Args:
        group: Runs (seeds of one variant).
        grid: Environment steps, shape ``(n_points,)`` (e.g. :func:`step_grid`).
        field: ``"episode_returns"`` or ``"episode_lengths"``.
        last: Episodes averaged per point (>= 1).

    Returns:
        Shape ``(len(group), n_points)``; NaN before a run's first episode ended.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if field not in ("episode_returns", "episode_lengths"):
        raise ValueError(f"field must be 'episode_returns' or 'episode_lengths', got {field!r}")
    _check_group(group)
    return np.array(
        [
            returns_on_steps(r.history.episode_end_steps, getattr(r.history, field), grid,
                             last=last)
            for r in group
        ]
    )  # fmt: skip


def run_summary(run: Any, bound: float | None, *, last: int = 10) -> dict[str, float | int | None]:
    """Return what the lessons report about one training run.

    Args:
        run: A ``utils.dqn.DQNRun`` (anything with ``.history``, ``.seed``, ``.global_step``).
        bound: The largest possible discounted return (``impossible_q_bound``), or None.
        last: Training episodes averaged for ``final_return`` (>= 1).

    Returns:
        ``{"seed", "final_return", "share_above", "max_q", "solved_step"}``: the mean return
        of the last ``last`` training episodes (NaN if none ended), the share of updates whose
        largest predicted Q-value is above ``bound`` (0 if there were no updates, NaN without
        a bound), the largest predicted Q-value (NaN if none) and ``history.solved_step``.
    """
    if not is_run(run):
        raise TypeError(f"run must be a DQNRun, got {type(run).__name__}")
    if bound is not None:
        bound = check_float("bound", bound)
    last = check_int("last", last, minimum=1)
    h = run.history
    returns = np.asarray(h.episode_returns, dtype=float)
    max_q = np.asarray(h.max_q, dtype=float)
    if bound is None:
        share_above = float("nan")
    else:
        share_above = float(np.mean(max_q > bound)) if len(max_q) else 0.0
    return {
        "seed": int(run.seed),
        "final_return": float(returns[-last:].mean()) if len(returns) else float("nan"),
        "share_above": share_above,
        "max_q": float(max_q.max()) if len(max_q) else float("nan"),
        "solved_step": h.solved_step,
    }


def check_probe_targets(
    update_steps: np.ndarray,
    targets: np.ndarray,
    companion: np.ndarray | None = None,
    *,
    names: tuple[str, str] = ("targets", "predictions"),
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check the TD targets of a fixed probe batch recorded after every update; return floats.

    Args:
        update_steps: Environment step of each recorded update, shape ``(n_updates,)``.
        targets: ``y`` of every probe transition after every update, shape
            ``(n_updates, n_probe)``, ``n_updates >= 1``.
        companion: Optional second array of the same shape (the predictions ``Q(s_i, a_i)``,
            or the targets another network computes).
        names: How messages name ``targets`` and ``companion`` (the caller's parameter names).

    Returns:
        ``(steps, targets, companion)`` as float64 arrays (``companion`` None if not given).

    Raises:
        TypeError: If ``names`` is not a tuple of two strings.
        ValueError: If a shape is wrong (the message names the array).
    """
    if not (
        isinstance(names, tuple) and len(names) == 2 and all(isinstance(n, str) for n in names)
    ):
        raise TypeError(f"names must be a tuple of two strings, got {names!r}")
    steps = np.asarray(update_steps, dtype=float)
    y = np.asarray(targets, dtype=float)
    if steps.ndim != 1 or y.ndim != 2 or y.shape[0] != steps.shape[0] or y.shape[0] == 0:
        raise ValueError(
            f"{names[0]} must have shape (n_updates, n_probe) with n_updates = {steps.shape[0]} "
            f"(len(update_steps)) > 0, got {y.shape}"
        )
    if companion is None:
        return steps, y, None
    other = np.asarray(companion, dtype=float)
    if other.shape != y.shape:
        raise ValueError(
            f"{names[1]} must have the shape of {names[0]} {y.shape}, got {other.shape}"
        )
    return steps, y, other


def bound_label(bound: float) -> str:
    """Return the legend text of the course's bound line: ``"impossible above 100"``.

    Every figure that draws :func:`utils.dqn.impossible_q_bound` names it this way, so the
    line reads as what it is (no Q-value above it is possible), not as a target.

    Raises:
        TypeError, ValueError: If ``bound`` is not a finite number.
    """
    bound = check_float("bound", bound, finite=True)
    return f"impossible above {bound:.4g}"


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

    fig, ax = figure_and_axes(ax, (6.4, 3.6))
    top = bound
    for label, steps, values in prepared:
        maxima, ends = block_reduce(values, block, "max")
        shown = f"{label} ({len(maxima)} seeds)" if len(maxima) > 1 else label
        color = None
        for i, row in enumerate(maxima):
            (line,) = ax.plot(steps[ends], row, color=color, linewidth=1.0, alpha=0.8,
                              label=shown if i == 0 else None)  # fmt: skip
            color = line.get_color()
        top = max(top, float(np.nanmax(maxima)))
    ax.axhline(bound, color="black", linestyle="--", linewidth=1.2, label=bound_label(bound))
    ax.set_yscale("symlog", linthresh=1.0)
    ax.axhspan(bound, top * 3, color="tab:red", alpha=0.08, linewidth=0)
    ax.set_ylim(top=top * 3)
    ax.set_xlabel("environment step")
    ax.set_ylabel(r"largest predicted $Q$ (max per block)")
    finish_axes(ax, title, "upper left")
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
    ``Q(s_i, a_i)`` that chases it dotted in the same colour.

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
    steps, y, q = check_probe_targets(update_steps, targets, predictions)
    if isinstance(show, (str, bytes)) or not isinstance(show, Sequence):
        raise TypeError(f"show must be a sequence of probe indices, got {show!r}")
    show = [check_int("show[i]", i, minimum=0, maximum=y.shape[1] - 1) for i in show]
    if bound is not None:
        bound = check_float("bound", bound)

    fig, ax = figure_and_axes(ax, (6.4, 3.6))
    ax.fill_between(steps, y.min(axis=1), y.max(axis=1), color="0.6", alpha=0.25, linewidth=0)
    ax.plot(steps, y.mean(axis=1), color="black", linewidth=2, label="mean target (band: range)")
    for i in show:
        (line,) = ax.plot(steps, y[:, i], linewidth=1.2, label=f"$y$ of transition {i}")
        if q is not None:
            ax.plot(steps, q[:, i], linewidth=1.0, linestyle=":", color=line.get_color())
    if q is not None and show:
        ax.plot([], [], color="0.3", linestyle=":", label="its prediction $Q(s,a)$")
    if bound is not None:
        ax.axhline(bound, color="tab:red", linestyle="--", linewidth=1.2, label=bound_label(bound))
    ax.set_xlabel("environment step")
    ax.set_ylabel("TD target $y$")
    finish_axes(ax, title, "upper left")
    return fig
