"""Lesson 5 (beyond DQN, and debugging): its figures, its widget and the name-the-bug exercise.

- :func:`plot_bug_gallery`: one small panel per deliberately broken variant.
- :func:`plot_learning_rate_sweep`: how variants tolerate the learning rate.
- :class:`DiagnosticsExplorer` (:func:`diagnostics_explorer`): a trained variant's
  diagnostics beside a reference.
- :func:`check_diagnosis`, :func:`mystery_runs`: the exercise, name the bug behind three runs.

The five diagnostics themselves are in :mod:`utils.lessons.lesson5_diagnostics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.exercise import CORRECT, NOT_ATTEMPTED, WRONG, Verdict, is_stub_answer
from utils.explorer import Explorer
from utils.figures import draw_band, new_figure
from utils.lessons.lesson5_bugs import BUGS
from utils.lessons.lesson5_diagnostics import plot_diagnostics
from utils.run_figures import episode_curves, run_groups, run_summary, step_grid

__all__ = [
    "BUG_GALLERY",
    "DIAGNOSIS_SOLUTION",
    "DiagnosticsExplorer",
    "check_diagnosis",
    "diagnostics_explorer",
    "mystery_runs",
    "plot_bug_gallery",
    "plot_learning_rate_sweep",
]

# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


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
    groups = run_groups(runs)
    if reference not in groups:
        raise ValueError(f"reference must be one of {tuple(groups)}, got {reference!r}")
    others = [name for name in groups if name != reference]
    if not others:
        raise ValueError("runs must hold at least one variant besides the reference")
    last = check_int("last", last, minimum=1)
    ncols = min(check_int("ncols", ncols, minimum=1), len(others))
    nrows = -(-len(others) // ncols)
    grid = step_grid([r for g in groups.values() for r in g], grid_step)
    reference_curves = episode_curves(groups[reference], grid, last=last)

    fig, axes = new_figure(
        ncols, nrows=nrows, figsize=(3.3 * ncols, 2.5 * nrows + 0.4), dpi=80, sharex=True,
        sharey=True,
    )  # fmt: skip
    for ax, name in zip(axes, others, strict=False):
        draw_band(ax, grid, reference_curves, color="0.45", band_color="0.6", alpha=0.25,
                  linewidth=1.2, label=reference)  # fmt: skip
        draw_band(ax, grid, episode_curves(groups[name], grid, last=last), color="tab:red",
                  linewidth=1.5, label=name)  # fmt: skip
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
    if not isinstance(sweep, Mapping):
        raise TypeError(
            f"sweep must be a mapping {{variant: {{learning_rate: [runs]}}}}, got "
            f"{type(sweep).__name__}"
        )
    if not sweep:
        raise ValueError("sweep must not be empty: give at least one variant")
    last = check_int("last", last, minimum=1)
    if bound is not None:
        bound = check_float("bound", bound)
    prepared = {}
    for label, by_rate in sweep.items():
        if not isinstance(by_rate, Mapping):
            raise TypeError(f"sweep[{label!r}] must be a mapping {{learning_rate: [runs]}}")
        rates = sorted(by_rate)
        for lr in rates:
            check_float(f"sweep[{label!r}] learning rate", lr, low=0.0, low_inclusive=False)
        groups = run_groups({f"{lr:g}": by_rate[lr] for lr in rates}, f"sweep[{label!r}]")
        summaries = [[run_summary(r, bound, last=last) for r in g] for g in groups.values()]
        returns = [[s["final_return"] for s in row] for row in summaries]
        peaks = [[s["max_q"] for s in row] for row in summaries]
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


# --------------------------------------------------------------------------------------
# The widget: browse the diagnostics of runs that are already trained
# --------------------------------------------------------------------------------------


class DiagnosticsExplorer(Explorer):
    """Pick a variant (e.g. a bug) and see its diagnostics next to a reference run, at once.

    Nothing is trained when a control moves: the runs were computed beforehand and the
    picture is :func:`utils.lessons.lesson5_diagnostics.plot_diagnostics` of the chosen
    variant, beside the reference variant unless that box is unticked.

    Attributes:
        runs: ``{variant: [run, ...]}`` as given (``utils.dqn.DQNRun`` objects).
        reference: The variant drawn beside the chosen one.
        widget: The ``ipywidgets.VBox`` to display (controls above the picture).
        controls: ``{"variant", "compare"}`` -> dropdown and checkbox.
        last_seconds: Wall time of the last redraw, in seconds.
    """

    def __init__(
        self,
        runs: Mapping[str, Sequence[Any]],
        reference: str,
        *,
        variant: str | None = None,
        **plot_kwargs: Any,
    ) -> None:
        self.runs = run_groups(runs)
        if len(self.runs) < 2:
            raise ValueError(f"runs must hold >= 2 variants, got {tuple(self.runs)}")
        if reference not in self.runs:
            raise ValueError(f"reference must be one of {tuple(self.runs)}, got {reference!r}")
        self.reference = reference
        self.plot_kwargs = dict(plot_kwargs)
        others = [name for name in self.runs if name != reference]
        start = others[0] if variant is None else variant
        if start not in others:
            raise ValueError(f"variant must be one of {tuple(others)}, got {start!r}")
        self.controls = {
            "variant": widgets.Dropdown(
                options=others, value=start, description="variant",
                style={"description_width": "60px"}, layout=widgets.Layout(width="380px"),
            ),
            "compare": widgets.Checkbox(value=True, description=f"beside '{reference}'"),
        }  # fmt: skip
        self._start()

    def figure(self, variant: str, compare: bool = True) -> Figure:
        """Return the picture the widget shows for ``variant``.

        Args:
            variant: One of the variants other than the reference.
            compare: Draw the reference variant beside it.

        Raises:
            ValueError: If ``variant`` is not among the runs.
        """
        if variant not in self.runs or variant == self.reference:
            others = tuple(n for n in self.runs if n != self.reference)
            raise ValueError(f"variant must be one of {others}, got {variant!r}")
        shown = {self.reference: self.runs[self.reference]} if compare else {}
        shown[variant] = self.runs[variant]
        return plot_diagnostics(shown, **self.plot_kwargs)

    def _check_move(self, values: Mapping[str, Any]) -> None:
        variants = self.controls["variant"].options
        if "variant" in values and values["variant"] not in variants:
            raise ValueError(f"variant must be one of {tuple(variants)}, got {values['variant']!r}")


def diagnostics_explorer(
    runs: Mapping[str, Sequence[Any]], reference: str, **kwargs: Any
) -> DiagnosticsExplorer:
    """Build the Lesson 5 widget: pick a trained variant, see its diagnostics beside a reference.

    Args:
        runs: ``{variant: [DQNRun, ...]}``, e.g. ``{"correct": [...], "no_terminal_mask": [...]}``.
        reference: The variant drawn beside the chosen one (e.g. the correct agent).
        **kwargs: ``variant`` (shown first), and anything :func:`plot_diagnostics` takes
            (``bound``, ``time_limit``, ``probe_states``, ``block``, ...).

    Returns:
        The :class:`DiagnosticsExplorer`; display it (or its ``.widget``).
    """
    return DiagnosticsExplorer(runs, reference, **kwargs)


# --------------------------------------------------------------------------------------
# The exercise: name the bug from its diagnostics
# --------------------------------------------------------------------------------------
# The learner fills a dict {"A": name, "B": name, "C": name} with names from BUG_GALLERY after
# looking at the diagnostics of three unnamed runs. The notebook trains the gallery under
# these names and draws the three runs that mystery_runs() picks.

BUG_GALLERY: dict[str, str] = {
    **BUGS,  # switches of the algorithm: train them with lesson5_bugs.train_with_bug
    # wrong settings of a correct agent: train them with a changed config
    "never_sync": "never copies the online network into the target network",
    "sync_every_step": "copies it after every step (target_update_period=1)",
    "epsilon_never_decays": "explores at random forever (epsilon_end = epsilon_start = 1)",
    "learning_starts_0": "starts learning before the buffer holds a batch",
    "reward_scale_100": "multiplies every reward by 100",
    "observation_scale_100": "multiplies every observation by 100",
}
"""The Lesson 5 gallery of deliberate bugs: name -> what it does wrong.

The first three are :data:`utils.lessons.lesson5_bugs.BUGS` (switches that only
:func:`~utils.lessons.lesson5_bugs.train_with_bug` turns on); the others are plain settings.
"""

_MYSTERY = (
    (
        "A",
        "epsilon_never_decays",
        "the training return stays where a random policy's is, yet the loss and the Q-values "
        "look like the correct agent's. What does the agent do while it trains?",
    ),
    (
        "B",
        "never_sync",
        "the largest Q stays near the reward of one step and the loss near zero: the targets "
        "never grow. Which network computes them, and does it ever change?",
    ),
    (
        "C",
        "reward_scale_100",
        "its Q-values and its loss are far larger than the correct agent's. By what factor are "
        "its Q-values larger, and is it the same factor everywhere (look at the histogram)?",
    ),
)


def mystery_runs(gallery: dict[str, Any]) -> dict[str, Any]:
    """Return the three unnamed runs of the Lesson 5 exercise: ``{"A": ..., "B": ..., "C": ...}``.

    Args:
        gallery: ``{bug name: runs}`` holding every name the exercise needs (names as in
            :data:`BUG_GALLERY`).

    Raises:
        TypeError: If ``gallery`` is not a dict.
        ValueError: If a name the exercise needs is missing.
    """
    if not isinstance(gallery, dict):
        raise TypeError(f"gallery must be a dict {{bug name: runs}}, got {type(gallery).__name__}")
    missing = [name for _, name, _ in _MYSTERY if name not in gallery]
    if missing:
        raise ValueError(f"gallery must hold the runs of {missing}")
    return {letter: gallery[name] for letter, name, _ in _MYSTERY}


DIAGNOSIS_SOLUTION = """\
answers = {
    "A": "epsilon_never_decays",     # random-level training return, healthy loss and Q
    "B": "never_sync",               # Q stuck near one reward, loss near zero
    "C": "reward_scale_100",         # Q about 100x the correct agent's, loss far larger
}"""
"""The Lesson 5 exercise's solution, as the notebook folds it in ``<details>``."""


def check_diagnosis(answers: Any) -> Verdict:
    """Check the Lesson 5 exercise: name the bug behind each of the runs A, B and C.

    ``answers`` maps each letter to a name from :data:`BUG_GALLERY`. Prints a friendly verdict
    (with a hint on what to look at for each wrong letter) and returns it.

    Args:
        answers: ``{"A": name, "B": name, "C": name}``; ``...`` or ``None`` for a letter not
            answered yet.

    Returns:
        A :class:`Verdict`: ``"correct"``, ``"wrong"`` or ``"not attempted"``.

    Raises:
        TypeError: If ``answers`` is not a dict.
    """
    if not isinstance(answers, dict):
        raise TypeError(f"answers must be a dict like {{'A': 'never_sync', ...}}, got {answers!r}")
    letters = [letter for letter, _, _ in _MYSTERY]
    unknown_keys = sorted(str(k) for k in answers if k not in letters)
    open_letters = [k for k in letters if is_stub_answer(answers.get(k)) or answers.get(k) == ""]
    if unknown_keys:
        verdict = Verdict(
            WRONG, f"Not quite: the runs are {', '.join(letters)}; unknown keys {unknown_keys}."
        )
    elif len(open_letters) == len(letters):
        verdict = Verdict(
            NOT_ATTEMPTED,
            "Not attempted yet: replace each `...` with the name of a bug from the list "
            "and run this cell again.",
        )
    elif open_letters:
        verdict = Verdict(
            NOT_ATTEMPTED, f"Almost there: {', '.join(open_letters)} still has no answer."
        )
    else:
        lines, wrong = [], 0
        for letter, name, hint in _MYSTERY:
            given = answers[letter]
            if given == name:
                lines.append(f"  {letter}: right, {name}.")
            elif given not in BUG_GALLERY:
                wrong += 1
                lines.append(
                    f"  {letter}: {given!r} is not one of the names: {', '.join(BUG_GALLERY)}."
                )
            else:
                wrong += 1
                lines.append(f"  {letter}: not {given}. Look again: {hint}")
        if wrong == 0:
            verdict = Verdict(CORRECT, "Correct! All three diagnosed:\n" + "\n".join(lines))
        else:
            verdict = Verdict(
                WRONG, f"Not quite: {wrong} of {len(letters)} wrong.\n" + "\n".join(lines)
            )
    print(verdict.message)
    return verdict
