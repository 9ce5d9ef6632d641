"""Lesson 4: read and draw the committed 2 x 2 ablation (``benchmarks/ablation_2x2.py``).

The lesson does not run the ablation (100,000 steps per seed does not fit its budget); it
loads the results file that script wrote and says so on every figure and line it prints.

- :func:`load_ablation`: read and check ``benchmarks/results/ablation_2x2.json``.
- :func:`ablation_table`: one line per arm (final return with 95% intervals, share of seeds
  above the bound, Q(s0, a0) against the discounted return collected from s0).
- :func:`ablation_reading`: what the file says, generated from its numbers: the ranking, which
  arms their intervals separate, each switch against Nature's direction, the seeds above the
  bound and when they crossed, and Q(s0, a0) against the return collected.
- :func:`plot_ablation`: per-arm final returns (seeds, mean and IQM with intervals) and the
  largest-Q traces against the bound.
"""

from __future__ import annotations

import itertools
import json
import shlex
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from utils.figures import new_figure
from utils.results import load_result
from utils.run_figures import bound_label
from utils.stats import bootstrap_ci

__all__ = [
    "ABLATION_FILE",
    "ARMS",
    "LOADED",
    "NATURE_BREAKOUT",
    "ablation_reading",
    "ablation_table",
    "command_line",
    "first_crossings",
    "interval_order",
    "load_ablation",
    "plot_ablation",
    "q_gap",
]

ARMS = ("online_one", "online_two", "replay_one", "replay_two")
"""The four arms, in the order of Mnih et al. (2015), Extended Data Table 3 (reversed)."""

LOADED = "benchmark results from `python benchmarks/ablation_2x2.py`, not run in this notebook"
"""How the lesson labels every number it loads from the file."""

NATURE_BREAKOUT = {"replay_two": 316.8, "replay_one": 240.7, "online_two": 10.2, "online_one": 3.2}
"""Mnih et al. (2015), Extended Data Table 3, Breakout: both, replay only, target only, neither."""

_ARM_KEYS = ("config", "seeds", "final_returns", "max_q", "q_s0", "return_s0", "max_q_trace",
             "iqm", "iqm_ci", "mean", "mean_ci", "share_over_bound")  # fmt: skip
_NAMES = {
    "online_one": "online, one network",
    "online_two": "online, two networks",
    "replay_one": "replay, one network",
    "replay_two": "replay, two networks (DQN)",
}

_SHORT = {
    "online_one": "online+one",
    "online_two": "online+two",
    "replay_one": "replay+one",
    "replay_two": "replay+two (DQN)",
}


ABLATION_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "ablation_2x2.json"
"""Where the repository keeps the results (absent from an install without the repository)."""


def load_ablation(path: str | Path | None = None) -> dict[str, Any]:
    """Read the ablation's results file and check it holds what the lesson draws.

    Args:
        path: The JSON file ``benchmarks/ablation_2x2.py`` wrote; default
            :data:`ABLATION_FILE`, or its copy online where the repository is not on disk
            (:func:`utils.results.load_result`).

    Returns:
        The parsed results (the schema is in that script's docstring).

    Raises:
        TypeError: If ``path`` is not a path.
        FileNotFoundError: If the file is missing (the message names the command).
        ValueError: If an arm or a field the lesson needs is missing.
    """
    if path is not None and not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {type(path).__name__}")
    if path is None:  # the repository's file, or the course's copy online (Colab)
        path = ABLATION_FILE
        try:
            results = load_result(ABLATION_FILE.stem)
        except FileNotFoundError as error:
            raise FileNotFoundError(f"{error}: run `python benchmarks/ablation_2x2.py`") from error
    else:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run `python benchmarks/ablation_2x2.py`")
        results = json.loads(path.read_text())
    for key in ("command", "date", "steps", "bound", "arms"):
        if key not in results:
            raise ValueError(f"{path} lacks {key!r}: not a results file of ablation_2x2.py")
    for arm in ARMS:
        missing = [k for k in _ARM_KEYS if k not in results["arms"].get(arm, {})]
        if missing:
            raise ValueError(f"{path}: arm {arm!r} lacks {missing}")
    return results


def _median(values: list[float | None]) -> float:
    """Median over seeds; a diverged value (null in the file) counts as infinite."""
    return float(np.median([np.inf if v is None else v for v in values]))


def ablation_table(results: dict[str, Any]) -> str:
    """Return the per-arm summary lines (labelled as loaded), one arm a line.

    Raises:
        TypeError: If ``results`` is not a dict.
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be the dict load_ablation returns, got {type(results)}")
    lines = [
        f"{LOADED}: {results['steps']:,} steps per seed, no early stop ({results['date'][:10]})",
        "arm                          seeds  final return: mean [95% CI]   IQM [95% CI]"
        "      seeds above bound  medians: largest Q  Q(s0,a0)  return from s0",
    ]
    for arm in ARMS:
        a = results["arms"][arm]
        lines.append(
            f"{_NAMES[arm]:<28} {len(a['seeds']):5d}  {a['mean']:6.1f} [{a['mean_ci'][0]:6.1f}, "
            f"{a['mean_ci'][1]:6.1f}]   {a['iqm']:6.1f} [{a['iqm_ci'][0]:6.1f}, "
            f"{a['iqm_ci'][1]:6.1f}]  {a['share_over_bound']:17.0%}  "
            f"{_median(a['max_q']):18.4g}  {_median(a['q_s0']):8.4g}  "
            f"{_median(a['return_s0']):14.1f}"
        )
    return "\n".join(lines)


def command_line(results: dict[str, Any]) -> str:
    """Return the file's command as the lesson prints it: no absolute paths, no note.

    nbval compares printed output on other machines, so an absolute path such as
    ``/tmp/run/tuning.json`` is shown as ``.../tuning.json``; the text of ``--note`` is the
    file's ``note`` field, printed on its own, so it is shown as ``'(the note)'``.

    Raises:
        TypeError: If ``results`` is not a dict with a string ``'command'``.
    """
    if not isinstance(results, dict) or not isinstance(results.get("command"), str):
        raise TypeError("results must be the dict load_ablation returns (with a 'command')")
    try:
        words = shlex.split(results["command"])
    except ValueError:  # unbalanced quotes: show it as written
        return results["command"]
    shown = []
    for i, word in enumerate(words):
        if i and words[i - 1] == "--note":
            word = "(the note)"
        elif word.startswith("--note="):
            word = "--note=(the note)"
        else:
            flag, equals, value = word.rpartition("=") if "=" in word else ("", "", word)
            if value.startswith("/"):
                word = f"{flag}{equals}.../{value.rstrip('/').rsplit('/', 1)[-1]}"
        shown.append(shlex.quote(word))
    return " ".join(shown)


def _interval(arm: dict[str, Any], digits: int = 0) -> str:
    low, high = arm["iqm_ci"]
    return f"{arm['iqm']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _order(a: dict[str, Any], b: dict[str, Any]) -> int:
    """+1 if a's IQM interval lies above b's, -1 if below, 0 if the two overlap."""
    if a["iqm_ci"][0] > b["iqm_ci"][1]:
        return 1
    if a["iqm_ci"][1] < b["iqm_ci"][0]:
        return -1
    return 0


def interval_order(results: dict[str, Any], arm: str, other: str) -> int:
    """Say whether the loaded final-return IQM intervals separate two arms.

    Args:
        results: As :func:`load_ablation` returns.
        arm, other: Two of :data:`ARMS`.

    Returns:
        +1 if ``arm``'s 95% interval lies wholly above ``other``'s, -1 if wholly below, 0 if
        the two overlap (not separated by these seeds).

    Raises:
        TypeError: If ``results`` is not a dict.
        ValueError: If an arm is not one of :data:`ARMS`.
    """
    a = _check_arm(results, arm, "arm")
    b = _check_arm(results, other, "other")
    return _order(a, b)


def _check_arm(results: Any, arm: Any, name: str = "arm") -> dict[str, Any]:
    if not isinstance(results, dict):
        raise TypeError(f"results must be the dict load_ablation returns, got {type(results)}")
    if arm not in ARMS:
        raise ValueError(f"{name} must be one of {ARMS}, got {arm!r}")
    return results["arms"][arm]


def first_crossings(results: dict[str, Any], arm: str) -> list[int | None]:
    """Return, per seed of ``arm``, the step by which its largest Q first went above the bound.

    Read from the file's ``max_q_trace`` (largest Q per bin of ``trace_every`` steps): the end
    step of the first bin above the bound, None for a seed that never went above it.

    Raises:
        TypeError: If ``results`` is not a dict.
        ValueError: If ``arm`` is not one of :data:`ARMS`.
    """
    trace = _check_arm(results, arm)["max_q_trace"]
    return [_first_crossing(trace["steps"], row, results["bound"]) for row in trace["per_seed"]]


def q_gap(results: dict[str, Any], arm: str) -> np.ndarray:
    """Return ``(n_seeds,)`` Q(s0, a0) minus the discounted return collected from s0, per seed.

    Above 0: the final network overestimates the value of its own greedy policy at the start.

    Raises:
        TypeError: If ``results`` is not a dict.
        ValueError: If ``arm`` is not one of :data:`ARMS`.
    """
    a = _check_arm(results, arm)
    return np.asarray(a["q_s0"], dtype=float) - np.asarray(a["return_s0"], dtype=float)


_SWITCHES = (  # (what is switched on, arm without it, arm with it)
    ("target network on, online", "online_one", "online_two"),
    ("target network on, with replay", "replay_one", "replay_two"),
    ("replay on, one network", "online_one", "replay_one"),
    ("replay on, two networks", "online_two", "replay_two"),
)


def _first_crossing(steps: list[int], row: list[float | None], bound: float) -> int | None:
    """Return the end step of a seed's first trace bin above ``bound`` (None: never).

    A null bin before the first update is empty; after it, null means the Q-value diverged.
    """
    started = False
    for step, q in zip(steps, row, strict=True):
        if q is not None:
            started = True
            if q > bound:
                return step
        elif started:
            return step
    return None


def ablation_reading(results: dict[str, Any], *, seed: int = 0) -> str:
    """Return what the loaded ablation says, one finding a line, generated from its numbers.

    The lines: the ranking by final-return IQM (95% bootstrap intervals); every pair of arms
    that their IQM intervals separate (no overlap) and every pair they do not; each switch of
    the 2 x 2 (target network on, replay on) against the direction of Nature's Breakout
    column (:data:`NATURE_BREAKOUT`); per arm, the seeds whose largest Q went above the bound
    and when they first did; and per arm the gap Q(s0, a0) minus the discounted return
    collected from s0 (median, and the mean with its 95% bootstrap interval over seeds).

    Args:
        results: As :func:`load_ablation` returns.
        seed: Seed of the bootstrap of the Q(s0, a0) gap.

    Returns:
        The lines, joined by newlines; the first labels them as loaded.

    Raises:
        TypeError: If ``results`` is not a dict.
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be the dict load_ablation returns, got {type(results)}")
    arms, bound = results["arms"], results["bound"]
    order = sorted(ARMS, key=lambda a: (-round(arms[a]["iqm"]), -arms[a]["mean"]))
    ranking = _SHORT[order[0]] + " " + _interval(arms[order[0]])
    for before, a in itertools.pairwise(order):
        tied = round(arms[before]["iqm"]) == round(arms[a]["iqm"])
        ranking += f" {'=' if tied else '>'} {_SHORT[a]} {_interval(arms[a])}"
    n_seeds = sorted({len(arms[a]["seeds"]) for a in ARMS})
    lines = [
        f"{LOADED} ({results['steps']:,} steps, {'/'.join(map(str, n_seeds))} fresh seeds per "
        "arm; final greedy return IQM [95% CI]):",
        f"ranking (equal IQMs ordered by their mean): {ranking}",
    ]
    apart, together = [], []
    for i, a in enumerate(order):
        for b in order[i + 1 :]:
            if _order(arms[a], arms[b]):
                apart.append(f"{_SHORT[a]} > {_SHORT[b]}")
            else:
                together.append(f"{_SHORT[a]} vs {_SHORT[b]}")
    lines.append(f"separated by their intervals: {'; '.join(apart) or 'none'}")
    lines.append(f"not separated (intervals overlap): {'; '.join(together) or 'none'}")
    for what, off, on in _SWITCHES:
        nature = NATURE_BREAKOUT[on] > NATURE_BREAKOUT[off]
        sign = _order(arms[on], arms[off])
        here = "not separated" if sign == 0 else "helps" if sign > 0 else "hurts"
        agree = (
            "direction not settled by these seeds" if sign == 0 else
            "same direction as Nature" if (sign > 0) == nature else "opposite to Nature"
        )  # fmt: skip
        lines.append(
            f"{what}: {_interval(arms[off])} -> {_interval(arms[on])}, {here}; Nature's Breakout "
            f"{NATURE_BREAKOUT[off]} -> {NATURE_BREAKOUT[on]}: {agree}"
        )
    for a in ARMS:
        first = first_crossings(results, a)
        crossed = sorted(step for step in first if step is not None)
        text = f"{_SHORT[a]}: {len(crossed)} of {len(first)} seeds predicted a Q above {bound:.0f}"
        if crossed:
            text += f", first by step {crossed[0]:,}" + (
                f", last seed by step {crossed[-1]:,}" if len(crossed) > 1 else ""
            )
        lines.append(text)
    for a in ARMS:
        gap = q_gap(results, a)
        low, high = bootstrap_ci(gap, "mean", seed=seed)
        lines.append(
            f"{_SHORT[a]}: Q(s0, a0) - discounted return from s0: median {np.median(gap):+.1f}, "
            f"mean {gap.mean():+.1f} [95% CI {low:+.1f}, {high:+.1f}]; Q above the return in "
            f"{int(np.sum(gap > 0))} of {len(gap)} seeds"
        )
    return "\n".join(lines)


def plot_ablation(results: dict[str, Any], figsize: tuple[float, float] = (13.0, 4.0)) -> Figure:
    """Draw the loaded ablation: final returns per arm, and the largest-Q traces.

    Left: each seed's final greedy return (dots), the mean with its 95% bootstrap interval
    (bar) and the IQM with its interval (diamond). Right: per arm, the median over seeds of
    the largest Q in each trace bin, and the band from lowest to highest seed, against the
    bound (log scale).

    Raises:
        TypeError: If ``results`` is not a dict.
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be the dict load_ablation returns, got {type(results)}")
    fig, (left, right) = new_figure(2, figsize=figsize)
    for x, arm in enumerate(ARMS):
        a = results["arms"][arm]
        returns = np.asarray(a["final_returns"], dtype=float)
        jitter = np.linspace(-0.15, 0.15, len(returns))
        (dots,) = left.plot(x + jitter, returns, "o", alpha=0.5, markersize=4)
        color = dots.get_color()
        left.errorbar(x - 0.25, a["mean"], yerr=[[a["mean"] - a["mean_ci"][0]],
                      [a["mean_ci"][1] - a["mean"]]], fmt="s", color=color, capsize=4,
                      label="mean, 95% CI" if x == 0 else None)  # fmt: skip
        left.errorbar(x + 0.25, a["iqm"], yerr=[[a["iqm"] - a["iqm_ci"][0]],
                      [a["iqm_ci"][1] - a["iqm"]]], fmt="D", color=color, capsize=4,
                      mfc="white", label="IQM, 95% CI" if x == 0 else None)  # fmt: skip
        trace = a["max_q_trace"]
        per_seed = np.array(
            [[np.nan if v is None else v for v in row] for row in trace["per_seed"]]
        )
        steps = np.asarray(trace["steps"])
        with warnings.catch_warnings():  # a bin where no seed updated is left empty (NaN)
            warnings.simplefilter("ignore", RuntimeWarning)
            middle = np.nanmedian(per_seed, axis=0)
            low, high = np.nanmin(per_seed, axis=0), np.nanmax(per_seed, axis=0)
        right.plot(steps, middle, color=color, label=_NAMES[arm])
        right.fill_between(steps, low, high, color=color, alpha=0.15)
    left.set_xticks(range(len(ARMS)), [_NAMES[a].replace(", ", "\n") for a in ARMS],
                    fontsize=8)  # fmt: skip
    left.set_ylabel(f"final greedy return ({results.get('eval_episodes', 100)} episodes)")
    left.set_title(f"loaded, not run here: {results['steps']:,} steps per seed", fontsize=10)
    top = max(max(results["arms"][a]["final_returns"]) for a in ARMS)
    left.set_ylim(0, 1.16 * max(top, 1.0))  # room above the dots for the legend
    left.legend(loc="upper center", ncol=2, fontsize="small")
    left.grid(alpha=0.3)
    right.axhline(results["bound"], color="black", linestyle="--", linewidth=1.2,
                  label=bound_label(results["bound"]))  # fmt: skip
    right.set_yscale("log")
    right.set_xlabel("environment step")
    right.set_ylabel("largest Q per bin (median; band: range)")
    right.set_title("loaded: largest predicted Q", fontsize=10)
    right.legend(loc="best", fontsize="x-small")
    right.grid(alpha=0.3)
    fig.suptitle(LOADED.replace("`", ""), fontsize=9)
    return fig
