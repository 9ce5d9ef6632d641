"""Lesson 6 (why my DQN doesn't learn): the bug gallery's figures, measures and widget, and the
name-the-bug exercise.

- :func:`plot_bug_gallery`: one small panel per deliberately broken variant.
- :func:`symptoms`, :func:`symptom_line`: each seed's diagnostics as numbers, and one printed
  line per variant with IQMs and bootstrap intervals over seeds.
- :func:`fall_value_gap`: how much lower each seed values CartPole states about to fall than
  upright ones (what the terminal mask teaches).
- :class:`DiagnosticsExplorer` (:func:`diagnostics_explorer`): a trained variant's
  diagnostics beside a reference.
- :func:`train_mystery`, :func:`check_diagnosis`: the exercise, name the bug behind runs of
  fresh seeds whose settings differ from the gallery's.

The five diagnostics are in :mod:`utils.lessons.lesson6_diagnostics`, the bugs in
:mod:`utils.lessons.lesson6_bugs`, the code-level bug hunt in :mod:`utils.lessons.lesson6_hunt`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.config import DQNConfig
from utils.engine import StackedQNetwork, evaluate_greedy_many, train_many
from utils.exercise import CORRECT, NOT_ATTEMPTED, WRONG, Verdict, is_stub_answer
from utils.explorer import Explorer
from utils.figures import draw_band, new_figure
from utils.lessons.lesson6_bugs import GALLERY
from utils.lessons.lesson6_diagnostics import _probe_q, plot_diagnostics, random_policy_states
from utils.run_figures import episode_curves, run_groups, step_grid
from utils.stats import bootstrap_ci, iqm

__all__ = [
    "DIAGNOSIS_SOLUTION",
    "SYMPTOMS",
    "DiagnosticsExplorer",
    "check_diagnosis",
    "diagnostics_explorer",
    "fall_value_gap",
    "plot_bug_gallery",
    "symptom_line",
    "symptoms",
    "train_mystery",
]

# --------------------------------------------------------------------------------------
# Figures and numbers
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


def _one_variant(runs: Sequence[Any]) -> list[Any]:
    """Return the runs of one variant as a list, checking they share one environment."""
    groups = run_groups(runs, bare=True, needs=("q_network", "env_id"))
    if len(groups) != 1:
        raise ValueError("runs must be the seeds of one variant (a list of runs)")
    (group,) = groups.values()
    if len({r.env_id for r in group}) != 1:
        raise ValueError("runs must share one environment")
    return list(group)


MEASURES = ("return", "greedy", "length", "loss", "largest_q", "probe_q")
"""What :func:`symptoms` measures for each seed."""

GREEDY_SEED_OFFSET = 10_000
"""Greedy evaluations start from episodes seeded by the run's seed plus this."""


def symptoms(
    runs: Sequence[Any], *, last: int = 10, block: int = 500, greedy_episodes: int = 10
) -> dict[str, np.ndarray]:
    """Return each seed's diagnostics as numbers: ``{measure: (n_seeds,) array}``.

    Measures: ``return`` and ``length``, the mean of the last ``last`` training episodes;
    ``greedy``, the mean return of the final greedy policy over ``greedy_episodes`` episodes
    (no exploration; episodes seeded by the run's seed + :data:`GREEDY_SEED_OFFSET`, not
    its training episodes); ``loss``, the mean TD loss of the last ``block`` updates;
    ``largest_q``, the largest Q predicted on any minibatch during training; ``probe_q``,
    the median Q(s, a) over :func:`random_policy_states` of the run's environment and both
    actions.

    Args:
        runs: The seeds of one variant (``DQNRun`` objects).
        last: Training episodes averaged (>= 1).
        block: Updates averaged for the loss (>= 1).
        greedy_episodes: Episodes of the greedy evaluation (>= 1).

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    group = _one_variant(runs)
    last = check_int("last", last, minimum=1)
    block = check_int("block", block, minimum=1)
    greedy_episodes = check_int("greedy_episodes", greedy_episodes, minimum=1)
    probes = random_policy_states(group[0].env_id)

    def tail(a: np.ndarray, n: int) -> float:
        return float(np.mean(a[-n:])) if len(a) else float("nan")

    rows = {name: [] for name in MEASURES}
    for r in group:
        h = r.history
        rows["return"].append(tail(h.episode_returns, last))
        rows["length"].append(tail(h.episode_lengths, last))
        rows["loss"].append(tail(h.losses, block))
        rows["largest_q"].append(float(np.max(h.max_q)) if len(h.max_q) else float("nan"))
        rows["probe_q"].append(float(np.median(_probe_q(r, probes))))
    # all seeds' greedy policies side by side (one batched forward pass per step)
    greedy = evaluate_greedy_many(
        group[0].env_id,
        StackedQNetwork([r.q_network for r in group]),
        [(r.seed + GREEDY_SEED_OFFSET) % 2**32 for r in group],
        greedy_episodes,
    )
    rows["greedy"] = list(greedy.mean(axis=1))
    return {name: np.array(rows[name], dtype=float) for name in MEASURES}


def symptom_line(
    name: str, measured: Mapping[str, np.ndarray], shown: Sequence[str] = MEASURES
) -> str:
    """Return one line: ``name`` and, per measure, its IQM over seeds with a 95% interval.

    Args:
        name: The variant's name.
        measured: ``{measure: (n_seeds,) array}`` as :func:`symptoms` returns.
        shown: Which measures to print, in order.

    Raises:
        ValueError: If a measure in ``shown`` is not in ``measured``.
    """
    missing = [m for m in shown if m not in measured]
    if missing:
        raise ValueError(f"shown names measures {missing} that measured lacks ({list(measured)})")

    def fmt(v: float) -> str:
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.2e}"

    parts = []
    for m in shown:
        v = np.asarray(measured[m], dtype=float)
        lo, hi = bootstrap_ci(v)
        parts.append(f"{m} {fmt(iqm(v))} [{fmt(lo)}, {fmt(hi)}]")
    return f"{name} ({len(next(iter(measured.values())))} seeds): " + ", ".join(parts)


def fall_value_gap(
    runs: Sequence[Any], *, tilted: float = 0.15, upright: float = 0.05
) -> np.ndarray:
    """Return, per seed, the value of CartPole states about to fall minus that of upright ones.

    Over :func:`random_policy_states` of the runs' environment: the median of
    ``max_a Q(s, a)`` over states whose pole angle ``|theta|`` exceeds ``tilted`` (radians;
    an episode ends past 0.2095), minus the median over states with ``|theta| < upright``.
    An agent that has learned that falling ends the return values tilted states lower (a
    negative gap); without the terminal mask nothing teaches it that.

    Args:
        runs: The seeds of one variant on a CartPole environment with unscaled observations
            (``DQNRun`` objects).
        tilted: Smallest ``|theta|`` of a state about to fall (> ``upright``).
        upright: Largest ``|theta|`` of an upright state (> 0).

    Returns:
        Shape ``(n_seeds,)``.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    group = _one_variant(runs)
    upright = check_float("upright", upright, low=0.0, low_inclusive=False, finite=True)
    tilted = check_float("tilted", tilted, low=upright, low_inclusive=False, finite=True)
    if not group[0].env_id.startswith("CartPole"):
        raise ValueError(f"runs must be trained on CartPole, got {group[0].env_id!r}")
    probes = random_policy_states(group[0].env_id)
    angle = np.abs(probes[:, 2])  # CartPole's observation: position, velocity, angle, ...
    if not (angle > tilted).any() or not (angle < upright).any():
        raise ValueError(f"no probe state has |theta| > {tilted} or < {upright}")
    gaps = []
    for r in group:
        value = _probe_q(r, probes).max(axis=1)
        gaps.append(np.median(value[angle > tilted]) - np.median(value[angle < upright]))
    return np.array(gaps, dtype=float)


# --------------------------------------------------------------------------------------
# The widget: browse the diagnostics of runs that are already trained
# --------------------------------------------------------------------------------------


class DiagnosticsExplorer(Explorer):
    """Pick a variant (e.g. a bug) and see its diagnostics next to a reference run, at once.

    Nothing is trained when a control moves: the runs were computed beforehand and the
    picture is :func:`utils.lessons.lesson6_diagnostics.plot_diagnostics` of the chosen
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
    """Build the Lesson 6 widget: pick a trained variant, see its diagnostics beside a reference.

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
# The exercise: name the bug behind runs the gallery did not show
# --------------------------------------------------------------------------------------
# The learner fills {"A": name, "B": name, "C": name} with names from GALLERY after looking at
# the diagnostics of three unnamed variants trained on fresh seeds, with settings that differ
# from the gallery's (so their numbers match no printed table): reasoning is needed.

SYMPTOMS: dict[str, str] = {
    "bootstrap_on_truncated": "once episodes reach the time limit, the same return as a "
    "correct agent but a loss many times larger, and values a little lower",
    "no_terminal_mask": "a return below a random policy's while Q looks ordinary, and states "
    "about to fall valued no lower than upright ones",
    "gradient_through_target": "(on one network) stable learning with Q below the bound: "
    "nothing alarming in the diagnostics; find it in code",
    "never_sync": "Q stuck near one reward (or a few: about one more per sync) and a small loss",
    "sync_every_step": "the largest Q far above the impossible bound",
    "epsilon_never_decays": "a training return far below the greedy policy's, with healthy "
    "loss and Q",
    "learning_before_data": "little or nothing beyond the spread between seeds",
    "reward_scale_100": "Q about the reward's factor times the correct agent's everywhere "
    "(the histogram stretched by it; on a log axis, shifted), Q above the bound, a loss larger "
    "by orders of magnitude, and a normal return",
    "observation_scale_100": "a loss many times the correct agent's and some seeds' Q above "
    "the bound, while the return stays in the correct agent's range",
}
"""What each bug of :data:`GALLERY` shows in the diagnostics (the checker's explanations)."""

_MYSTERY = (
    (
        "A",
        "reward_scale_100",
        "every reward is multiplied by 10 (not 100): Q is about 10 times the correct agent's "
        "everywhere, above the bound, while the return looks normal",
        {"reward_scale": 10.0},
    ),
    (
        "B",
        "never_sync",
        "the target is synced only every 3,000 steps (not never): Q has climbed about one "
        "step of reward per sync, to about 4, far below the correct agent's, and the loss "
        "stays small",
        {"target_update_period": 3_000},
    ),
    (
        "C",
        "epsilon_never_decays",
        "epsilon stays at 0.5 (not 1): the training return is far below what its greedy "
        "policy scores, and loss and Q look healthy",
        {"epsilon_start": 0.5, "epsilon_end": 0.5},
    ),
)


def train_mystery(
    env_id: str, config: DQNConfig, seeds: Sequence[int], **kwargs: Any
) -> dict[str, list[Any]]:
    """Train the exercise's three unnamed variants: ``{"A": runs, "B": runs, "C": runs}``.

    Each is a bug of :data:`GALLERY` at another strength than the gallery's (a wrong setting
    of the correct agent, so all train as one batch); use seeds the gallery did not use.

    Args:
        env_id: As :func:`utils.engine.train_many`.
        config: The correct agent's config.
        seeds: Distinct seeds, used by every variant.
        **kwargs: ``progress``, ``threads``, ``device`` of :func:`train_many`.

    Raises:
        TypeError, ValueError: On a bad argument, before anything trains.
    """
    if not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
    seeds = list(seeds)
    configs = [dataclasses.replace(config, **ch).validate() for *_, ch in _MYSTERY for _ in seeds]
    trained = train_many(env_id, configs, seeds * len(_MYSTERY), **kwargs)  # one batch
    return {letter: trained[i * len(seeds) : (i + 1) * len(seeds)]
            for i, (letter, *_) in enumerate(_MYSTERY)}  # fmt: skip


DIAGNOSIS_SOLUTION = """\
answers = {
    "A": "reward_scale_100",      # Q about 10x the correct agent's everywhere, above the bound
    "B": "never_sync",            # Q stuck near 4: the target moved about 3 times; small loss
    "C": "epsilon_never_decays",  # training return far below the greedy one; healthy loss, Q
}"""
"""The exercise's solution, as the notebook folds it in ``<details>``."""


def check_diagnosis(answers: Any) -> Verdict:
    """Check the exercise: name the bug of :data:`GALLERY` behind each of the runs A, B and C.

    Prints a friendly verdict that explains every answer: for a right one, what gives it away;
    for a wrong one, what that bug would have shown instead. Returns the verdict.

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
    letters = [letter for letter, _, _, _ in _MYSTERY]
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
        for letter, name, why, _ in _MYSTERY:
            given = answers[letter]
            if given == name:
                lines.append(f"  {letter}: right, {name}: {why}.")
            elif given not in GALLERY:
                wrong += 1
                lines.append(
                    f"  {letter}: {given!r} is not one of the names: {', '.join(GALLERY)}."
                )
            else:
                wrong += 1
                lines.append(
                    f"  {letter}: not {given}: that bug would show {SYMPTOMS[given]}. "
                    f"Is that what {letter}'s panels show?"
                )
        if wrong == 0:
            verdict = Verdict(CORRECT, "Correct! All three diagnosed:\n" + "\n".join(lines))
        else:
            verdict = Verdict(
                WRONG, f"Not quite: {wrong} of {len(letters)} wrong.\n" + "\n".join(lines)
            )
    print(verdict.message)
    return verdict
