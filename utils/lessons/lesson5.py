"""Lesson 5 (beyond the fixed target): committed long-run results, and figures comparing arms.

- :func:`load_result` (from :mod:`utils.results`, re-exported for the notebook): a committed
  results file of ``benchmarks/results``.
- :func:`sweep_arm`, :func:`long_arm`: one arm's per-seed numbers from the hold sweeps and from
  ``benchmarks/beyond_long.py``, as arrays.
- :func:`describe_arm`: one printed line per arm, with IQM and 95% bootstrap intervals.
- :func:`plot_arms`: final return and largest Q, one dot per seed, for several arms, drawn with
  :func:`draw_seed_dots` (one column: dots and the IQM with its interval).
- :func:`diagnosis_summary`: what ``benchmarks/diagnose_hold.py`` saw late in training;
  :func:`diagnosis_at`: what it saw per seed at one step.
- :func:`terminal_pull`: how much of a minibatch's gradient the rare terminal targets carry
  under the squared and the Huber loss.

The tabular maximisation bias is in :mod:`utils.lessons.lesson5_tabular`, the overestimation
measurement in :mod:`utils.lessons.lesson5_overestimation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_str
from utils.figures import new_figure
from utils.results import RESULTS_URL, load_result, results_dir
from utils.stats import bootstrap_ci, iqm

__all__ = [
    "RESULTS_URL",
    "describe_arm",
    "diagnosis_at",
    "diagnosis_summary",
    "draw_seed_dots",
    "load_result",
    "long_arm",
    "plot_arms",
    "results_dir",
    "sweep_arm",
    "terminal_pull",
]


def _arm(per_seed: list[dict], extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "seeds": np.array([p["seed"] for p in per_seed]),
        "final": np.array([p["final_mean_100"] for p in per_seed], dtype=np.float64),
        "max_q": np.array([p["max_q"] for p in per_seed], dtype=np.float64),
        **extra,
    }


def sweep_arm(sweep: Mapping[str, Any], name: str, seeds: tuple[int, int] | None = None) -> dict:
    """Return one config's per-seed results from a ``benchmarks/sweep_hold.py`` file.

    Args:
        sweep: The loaded file (``{"rows": [...]}``).
        name: The config's name, e.g. ``'base'`` or ``'mse_c_500'``.
        seeds: ``(first, last)`` seed of the row wanted; default the row with most seeds.

    Returns:
        ``{"seeds", "final", "max_q"}`` arrays ``(n_seeds,)`` (``final``: the greedy return
        over 100 episodes) plus the row's ``command``, ``date``, ``steps``, ``stage``,
        ``overrides``, ``wall_s`` (training seconds) and ``summary`` (e.g. ``n_solved``: seeds
        with some evaluation of 20 greedy episodes averaging 475 or more).

    Raises:
        ValueError: If no row matches.
    """
    rows = [r for r in sweep.get("rows", []) if r["name"] == name]
    if seeds is not None:
        rows = [r for r in rows if (r["seeds"][0], r["seeds"][-1]) == tuple(seeds)]
    if not rows:
        known = sorted({r["name"] for r in sweep.get("rows", [])})
        raise ValueError(f"no row {name!r} with seeds {seeds} in the sweep; configs: {known}")
    row = max(rows, key=lambda r: len(r["seeds"]))
    keep = ("command", "date", "steps", "stage", "overrides", "wall_s", "summary")
    return _arm(row["per_seed"], {k: row.get(k) for k in keep})


def long_arm(results: Mapping[str, Any], part: str, arm: str) -> dict:
    """Return one arm's per-seed results from ``benchmarks/results/beyond_long.json``.

    Returns:
        ``{"seeds", "final", "max_q", "gap", "q0", "g0", "curves"}``: per seed the final
        greedy return, the largest Q during training, the predicted ``max_a Q(s0, a)`` (``q0``)
        and the discounted return collected from there (``g0``, mean over the start states),
        ``gap = q0 - g0``, and the training curve (``(n_seeds, n_points)`` on ``curve_steps``);
        plus the part's ``command``, ``date``, ``steps`` and ``machine``.

    Raises:
        ValueError: If the part or arm is missing (the message lists what there is).
    """
    parts = {p["part"]: p for p in results.get("parts", [])}
    if part not in parts:
        raise ValueError(f"part must be one of {sorted(parts)}, got {part!r}")
    arms = {a["arm"]: a for a in parts[part]["arms"]}
    if arm not in arms:
        raise ValueError(f"arm must be one of {sorted(arms)}, got {arm!r}")
    per_seed = arms[arm]["per_seed"]
    p = parts[part]
    return _arm(per_seed, {
        "gap": np.array([s["gap"] for s in per_seed], dtype=np.float64),
        "q0": np.array([s["predicted_q0"] for s in per_seed], dtype=np.float64),
        "g0": np.array([s["collected_g0"] for s in per_seed], dtype=np.float64),
        "curves": np.array([s["train_return_curve"] for s in per_seed], dtype=np.float64),
        "curve_steps": np.array(p["curve_steps"]),
        "command": p["command"], "date": p["date"], "steps": p["steps"],
        "machine": p["machine"].get("cpu", "?") if isinstance(p["machine"], dict) else p["machine"],
    })  # fmt: skip


def _interval(values: np.ndarray, digits: int) -> str:
    low, high = bootstrap_ci(values)
    return f"{iqm(values):.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def describe_arm(
    name: str, arm: Mapping[str, Any], *, solved: float = 475.0, episodes: int | None = None
) -> str:
    """Return one line: seeds holding (final >= ``solved``), IQM final return and largest Q
    with 95% bootstrap intervals, and the gap ``Q(s0) - G0`` where the arm has one.

    Args:
        name: The arm's label.
        arm: ``{"final": (n,), "max_q": (n,)}``, optionally ``"gap": (n,)``.
        solved: The final return that counts as holding.
        episodes: Greedy episodes each final return averages (>= 1); stated in the line when
            given. Omit it for the committed files' 100 episodes, where "hold" is defined.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    check_str("name", name)
    solved = check_float("solved", solved)
    over = ""
    if episodes is not None:
        over = f", greedy over {check_int('episodes', episodes, minimum=1)} episodes"
    final, max_q = np.asarray(arm["final"]), np.asarray(arm["max_q"])
    line = (
        f"{name}: {int((final >= solved).sum())}/{final.size} seeds hold (>= {solved:g}{over}); "
        f"final IQM {_interval(final, 0)}; largest Q IQM {_interval(max_q, 1)}"
    )
    if "gap" in arm:
        line += f"; gap Q(s0) - G0 IQM {_interval(np.asarray(arm['gap']), 1)}"
    return line


def draw_seed_dots(
    ax: Axes, position: float, values: Sequence[float] | np.ndarray, *, name: str = "values"
) -> None:
    """Draw one column: a dot per seed, and beside it the IQM with its 95% bootstrap interval.

    The figures of this lesson (:func:`plot_arms`, and ``plot_gaps`` of
    :mod:`utils.lessons.lesson5_overestimation`) are made of these columns.

    Args:
        ax: The Axes to draw on.
        position: The column's x position (its tick).
        values: ``(n_seeds,)`` one number per seed, finite.
        name: What ``values`` is called in an error message.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    position = check_float("position", position, finite=True)
    check_str("name", name)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"{name} must be a non-empty 1-D array of finite numbers, got "
                         f"shape {values.shape}")  # fmt: skip
    ax.scatter(position + np.linspace(-0.15, 0.15, values.size), values, s=16, alpha=0.7)
    low, high = bootstrap_ci(values)
    centre = iqm(values)
    ax.errorbar(position + 0.3, centre, yerr=[[centre - low], [high - centre]], fmt="s",
                color="black", capsize=4)  # fmt: skip


def plot_arms(
    arms: Mapping[str, Mapping[str, Any]],
    *,
    bound: float | None = None,
    solved: float = 475.0,
    episodes: int = 100,
    title: str | None = None,
    figsize: tuple[float, float] = (11.0, 3.8),
) -> Figure:
    """Draw each arm's final greedy return (left) and largest predicted Q (right) per seed.

    Dots: seeds; black square and bar: IQM with its 95% bootstrap interval.

    Args:
        arms: ``{label: {"final": (n,), "max_q": (n,)}}`` (e.g. from :func:`sweep_arm`).
        bound: The impossible-above line for Q (dashed), optional.
        solved: The return that counts as holding (dotted).
        episodes: Greedy episodes each final return averages (>= 1), named on the y axis;
            100 in the committed files (:func:`sweep_arm`, :func:`long_arm`).
        title, figsize: An optional title; the size in inches.

    Returns:
        The Figure, two Axes (final return, largest Q).

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(arms, Mapping) or not arms:
        raise ValueError("arms must be a non-empty mapping {label: {'final': ..., 'max_q': ...}}")
    if bound is not None:
        bound = check_float("bound", bound)
    solved = check_float("solved", solved)
    episodes = check_int("episodes", episodes, minimum=1)
    fig, (left, right) = new_figure(2, figsize=figsize)
    for ax, key in ((left, "final"), (right, "max_q")):
        for i, (label, arm) in enumerate(arms.items()):
            if key not in arm:
                raise ValueError(f"arms[{label!r}] has no {key!r}")
            draw_seed_dots(ax, i, arm[key], name=f"arms[{label!r}][{key!r}]")
        ax.set_xticks(range(len(arms)), list(arms), fontsize=8)
        ax.grid(alpha=0.3)
    left.axhline(solved, color="tab:green", linestyle=":", label=f"holds: >= {solved:g}")
    left.set_ylabel(f"final greedy return ({episodes} episodes)")
    left.legend(loc="lower left", fontsize="small")
    if bound is not None:
        right.axhline(bound, color="tab:red", linestyle="--", label=f"impossible above {bound:g}")
        right.legend(loc="upper right", fontsize="small")
    right.set_ylabel("largest predicted Q")
    fig.suptitle(title or "one dot per seed; square: IQM with 95% bootstrap interval",
                 fontsize=10)  # fmt: skip
    return fig


def diagnosis_summary(diagnosis: Mapping[str, Any], *, from_step: int = 50_000) -> dict:
    """Summarise a ``benchmarks/diagnose_hold.py`` file from ``from_step`` on.

    Returns:
        ``failed_cart``, ``failed_pole``: greedy test episodes (20 per snapshot) that ended
        with the cart out of bounds / the pole fallen, summed over seeds and snapshots;
        ``episodes``: all of those test episodes; ``action_gap``, ``q_s0``: medians over
        snapshots of the median action gap ``|Q(s, left) - Q(s, right)|`` and of
        ``max_a Q(s0, a)``; ``v_centre``, ``v_edge``: medians over snapshots of the median
        value ``max_a Q`` of stored states with the cart near the centre (``|x| < 0.5``) and
        near the edge (``2.0 <= |x| < 2.5``, one push from failing); ``terminal_share``: median
        share of terminal transitions in the buffer; ``seeds``, ``config``.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(diagnosis, Mapping) or "policy" not in diagnosis:
        raise ValueError("diagnosis must be a loaded diagnose_hold.py file (with 'policy')")
    from_step = check_int("from_step", from_step, minimum=0)
    policy = [p for p in diagnosis["policy"] if p["step"] >= from_step]
    buffer = [b for b in diagnosis["buffer"] if b["step"] >= from_step]
    values = [v["v_by_abs_x"] for v in diagnosis["values"] if v["step"] >= from_step]
    if not policy or not buffer or not values:
        raise ValueError(f"from_step={from_step} is after the last snapshot")
    return {
        "failed_cart": sum(p["ended_x"] for p in policy),
        "failed_pole": sum(p["ended_theta"] for p in policy),
        "episodes": sum(p["ended_x"] + p["ended_theta"] + p["ended_500"] for p in policy),
        "action_gap": float(np.median([p["action_gap_median"] for p in policy])),
        "q_s0": float(np.median([p["q_s0_median"] for p in policy])),
        "v_centre": float(np.median([v["0.0-0.5"] for v in values])),
        "v_edge": float(np.median([v["2.0-2.5"] for v in values])),
        "terminal_share": float(np.median([b["terminal_share"] for b in buffer])),
        "seeds": list(diagnosis["seeds"]),
        "config": dict(diagnosis["config"]),
    }


def diagnosis_at(diagnosis: Mapping[str, Any], step: int) -> list[dict[str, float]]:
    """Return, per seed, what ``benchmarks/diagnose_hold.py`` saw at one snapshot ``step``.

    Args:
        diagnosis: A loaded ``diagnose_hold.py`` file (with ``policy``, ``buffer``, ``values``).
        step: A step at which all three were recorded (a multiple of 10,000 there).

    Returns:
        One dict per seed: ``seed``; ``q_s0``: median ``max_a Q(s0, a)`` over the test
        episodes' start states; ``max_q``: the largest Q of the training minibatches in the
        5,000 updates before ``step``; ``v_centre``, ``v_edge``: median ``max_a Q`` of stored
        states with ``|x| < 0.5`` and ``2.0 <= |x| < 2.5``; ``terminal_share``: share of the
        buffer's transitions that end an episode.

    Raises:
        TypeError, ValueError: On a bad argument, or a step with no snapshot (the message
        lists the steps there are).
    """
    if not isinstance(diagnosis, Mapping) or "policy" not in diagnosis:
        raise ValueError("diagnosis must be a loaded diagnose_hold.py file (with 'policy')")
    step = check_int("step", step, minimum=0)
    rows = []
    for seed in diagnosis["seeds"]:
        found = [
            [r for r in diagnosis[key] if r["seed"] == seed and r["step"] == step]
            for key in ("policy", "buffer", "values")
        ]
        if not all(found):
            steps = sorted({r["step"] for r in diagnosis["values"]})
            raise ValueError(f"step must be one of {steps}, got {step}")
        policy, buffer, values = (f[0] for f in found)
        rows.append({
            "seed": seed,
            "q_s0": float(policy["q_s0_median"]),
            "max_q": float(policy["max_q_window"]),
            "v_centre": float(values["v_by_abs_x"]["0.0-0.5"]),
            "v_edge": float(values["v_by_abs_x"]["2.0-2.5"]),
            "terminal_share": float(buffer["terminal_share"]),
        })  # fmt: skip
    return rows


def terminal_pull(
    terminal_share: float, terminal_error: float, typical_error: float
) -> dict[str, float]:
    """Return the share of a minibatch's gradient carried by its terminal transitions.

    A sample's gradient with respect to its prediction is ``2 * delta`` under the squared
    loss and ``clip(delta, -1, 1)`` under Huber. With a share ``p`` of terminal samples whose
    error is ``terminal_error`` and the rest at ``typical_error`` (sizes), the terminal
    samples carry ``p * g(terminal) / (p * g(terminal) + (1 - p) * g(typical))``.

    Args:
        terminal_share: Share of terminal transitions in the buffer, in (0, 1).
        terminal_error: Size of their TD error (> 0), e.g. ``Q - 1`` at a failure.
        typical_error: Size of the other samples' TD error (> 0).

    Returns:
        ``{"squared": share, "huber": share}``.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    p = check_float("terminal_share", terminal_share, low=0.0, high=1.0, low_inclusive=False,
                    high_inclusive=False)  # fmt: skip
    big = check_float("terminal_error", terminal_error, low=0.0, low_inclusive=False, finite=True)
    small = check_float("typical_error", typical_error, low=0.0, low_inclusive=False,
                        finite=True)  # fmt: skip
    shares = {}
    for loss, grad in (("squared", lambda d: 2 * d), ("huber", lambda d: min(d, 1.0))):
        shares[loss] = p * grad(big) / (p * grad(big) + (1 - p) * grad(small))
    return shares
