"""Lesson 3 (one network): its widget and the TD-target exercise.

The lesson's figures are shared with Lesson 4, so they are primitives:
:func:`utils.run_figures.plot_max_q_vs_bound` and :func:`utils.run_figures.plot_target_drift`.

- :class:`SingleNetworkExplorer` (:func:`single_network_explorer`): browse trained
  single-network runs by variant and seed.
- :func:`check_td_target`: the exercise, the TD target of a batch with the terminal mask
  and no gradient (torch is imported only when it is first used).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.exercise import Exercise, Mistake, Verdict
from utils.explorer import Explorer
from utils.figures import new_figure, plot_learning_curves
from utils.run_figures import episode_curves, plot_max_q_vs_bound, run_groups, step_grid

__all__ = [
    "SingleNetworkExplorer",
    "check_td_target",
    "single_network_explorer",
    "td_target_exercise",
]

# --------------------------------------------------------------------------------------
# The widget: browse the single-network runs that are already trained
# --------------------------------------------------------------------------------------


class SingleNetworkExplorer(Explorer):
    """Pick a variant (e.g. online / replay) and a seed; its curves are redrawn at once.

    Nothing is trained when a control moves: the runs were computed beforehand. The picture:
    left, the chosen seed's return (mean of its last 10 episodes, against environment steps)
    over the range of all seeds of that variant; right, the largest Q-value it predicted at
    each update against ``bound``, the largest return possible. The title counts the updates
    whose largest prediction is above the bound.

    Attributes:
        runs: ``{variant: [run, ...]}`` as given (``utils.dqn.DQNRun`` objects).
        bound: The largest possible discounted return.
        widget: The ``ipywidgets.VBox`` to display (controls above the picture).
        controls: ``{"variant", "seed"}`` -> dropdown widget.
        last_seconds: Wall time of the last redraw, in seconds.
    """

    def __init__(
        self,
        runs: Mapping[str, Sequence[Any]],
        bound: float,
        *,
        grid_step: int = 250,
        block: int = 100,
    ) -> None:
        self.runs = run_groups(runs)
        self.bound = check_float("bound", bound)
        self.grid_step = check_int("grid_step", grid_step, minimum=1)
        self.block = check_int("block", block, minimum=1)
        first = next(iter(self.runs))
        style = {"description_width": "60px"}
        self.controls = {
            "variant": widgets.Dropdown(
                options=list(self.runs), value=first, description="variant", style=style
            ),
            "seed": widgets.Dropdown(
                options=self._seeds(first), value=self._seeds(first)[0], description="seed",
                style=style,
            ),
        }  # fmt: skip
        self.controls["variant"].observe(self._variant_changed, names="value")
        self._start()

    def _seeds(self, variant: str) -> list[int]:
        return [int(run.seed) for run in self.runs[variant]]

    def _variant_changed(self, change: dict) -> None:
        seeds = self._seeds(change["new"])
        seed = self.controls["seed"]
        if list(seed.options) != seeds:  # variants trained on different seeds
            keep = seed.value if seed.value in seeds else seeds[0]
            seed.options = seeds
            seed.value = keep

    def _ready(self, values: Mapping[str, Any]) -> bool:
        return values["seed"] in self._seeds(values["variant"])  # not mid-way through a change

    def _run(self, variant: str, seed: int) -> Any:
        if variant not in self.runs:
            raise ValueError(f"variant must be one of {tuple(self.runs)}, got {variant!r}")
        for run in self.runs[variant]:
            if int(run.seed) == seed:
                return run
        raise ValueError(f"seed must be one of {self._seeds(variant)} for {variant!r}, got {seed}")

    def figure(self, variant: str, seed: int) -> Figure:
        """Return the picture the widget shows for ``variant`` and ``seed``.

        Raises:
            ValueError: If the variant or the seed is not among the runs.
        """
        run = self._run(variant, seed)
        group = self.runs[variant]
        grid = step_grid(group, self.grid_step)
        fig, (left, right) = new_figure(2, figsize=(11, 3.8))
        plot_learning_curves(
            {f"all seeds of {variant}": episode_curves(group, grid)}, x=grid, ax=left,
            title="return", ylabel="return",
        )  # fmt: skip
        left.plot(grid, episode_curves([run], grid)[0], color="black", linewidth=1.5,
                  label=f"seed {seed}")  # fmt: skip
        left.legend(loc="upper left", fontsize="small")
        left.set_ylabel("mean return of the last 10 episodes")
        left.set_xlabel("environment step")
        h = run.history
        plot_max_q_vs_bound(
            {f"{variant}, seed {seed}": (h.update_steps, h.max_q)}, self.bound, block=self.block,
            ax=right, title="largest predicted Q",
        )  # fmt: skip
        above = float(np.mean(h.max_q > self.bound)) if len(h.max_q) else 0.0
        peak = float(h.max_q.max()) if len(h.max_q) else float("nan")
        fig.suptitle(
            f"{variant}, seed {seed}: {above:.1%} of {len(h.max_q)} updates predicted a Q above "
            f"the bound {self.bound:.2f} (largest {peak:.1f})",
            fontsize=10,
        )
        return fig


def single_network_explorer(
    runs: Mapping[str, Sequence[Any]], bound: float, **kwargs: Any
) -> SingleNetworkExplorer:
    """Build the Lesson 3 widget: pick a variant and a seed among trained single-network runs.

    Args:
        runs: ``{variant: [DQNRun, ...]}``, e.g. ``{"online": [...], "replay": [...]}``.
        bound: The largest possible discounted return (``impossible_q_bound``).
        **kwargs: ``grid_step`` (env steps between curve points), ``block`` (updates per point
            of the Q curve).

    Returns:
        The :class:`SingleNetworkExplorer`; display it (or its ``.widget``).

    Raises:
        TypeError, ValueError: On bad runs or a bad bound (the message names it).
    """
    return SingleNetworkExplorer(runs, bound, **kwargs)


# --------------------------------------------------------------------------------------
# The exercise: the TD target of a batch, with the terminal mask and no gradient
# --------------------------------------------------------------------------------------
# Signature the learner fills in:
#   td_target(rewards, next_q_values, terminated, truncated, gamma) -> tensor (batch,)
# rewards, terminated, truncated: (batch,) float tensors (1.0 where true); next_q_values:
# (batch, n_actions), the network's output for s' (it carries a gradient). torch is imported
# only when this exercise is first used, so the earlier lessons' checkers stay light.


def _td_reference(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().max(dim=1).values


def _td_mask_on_truncated(rewards, next_q_values, terminated, truncated, gamma):
    done = terminated.maximum(truncated)
    return rewards + gamma * (1.0 - done) * next_q_values.detach().max(dim=1).values


def _td_truncated_for_terminated(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - truncated) * next_q_values.detach().max(dim=1).values


def _td_no_mask(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * next_q_values.detach().max(dim=1).values


def _td_inverted_mask(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * terminated * next_q_values.detach().max(dim=1).values


def _td_with_gradient(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.max(dim=1).values


def _td_max_over_batch(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().max(dim=0).values


def _td_max_of_everything(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().max()


def _td_keepdim(rewards, next_q_values, terminated, truncated, gamma):
    best = next_q_values.detach().max(dim=1, keepdim=True).values  # (batch, 1): broadcasts
    return rewards + gamma * (1.0 - terminated) * best


def _td_mean(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().mean(dim=1)


def _td_argmax(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + gamma * (1.0 - terminated) * next_q_values.detach().argmax(dim=1)


def _td_no_gamma(rewards, next_q_values, terminated, truncated, gamma):
    return rewards + (1.0 - terminated) * next_q_values.detach().max(dim=1).values


def _as_float_array(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, possibly carrying a gradient
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _td_same(got: Any, expected: Any) -> bool:
    # A target that carries a gradient is wrong even with the right numbers, so the flag counts.
    got_grad, expected_grad = (bool(getattr(x, "requires_grad", False)) for x in (got, expected))
    if got_grad != expected_grad:
        return False
    try:
        g, e = _as_float_array(got), _as_float_array(expected)
    except (TypeError, ValueError, RuntimeError):
        return False
    return g.shape == e.shape and bool(np.allclose(g, e, rtol=1e-5, atol=1e-6))


_TD_SOLUTION = """\
def td_target(rewards, next_q_values, terminated, truncated, gamma):
    # The target is a label: no gradient may flow into it.
    with torch.no_grad():
        best_next = next_q_values.max(dim=1).values  # max over actions, shape (batch,)
    # Only `terminated` cuts the future; `truncated` (a time limit) is not used at all.
    return rewards + gamma * (1 - terminated) * best_next"""


def _td_cases() -> tuple[tuple, ...]:
    # Batch size equals the number of actions in every case, so a max over the wrong axis
    # still broadcasts and can be recognised; the masks cover terminated only, truncated
    # only and both; each row's max, mean, argmax and column max differ.
    import torch

    def case(rewards, next_q, terminated, truncated, gamma):
        return (
            torch.tensor(rewards),
            torch.tensor(next_q, requires_grad=True),  # like a network's output
            torch.tensor(terminated),
            torch.tensor(truncated),
            gamma,
        )

    return (
        case(
            [1.0, 1.0, 1.0],
            [[1.0, 5.0, 2.0], [4.0, 0.0, 3.0], [2.0, 6.0, -1.0]],
            [0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0],
            0.9,
        ),
        case([1.0, 1.0], [[10.0, 12.0], [30.0, 20.0]], [0.0, 0.0], [0.0, 1.0], 0.99),
        case(
            [0.0, -1.0, 2.0, 0.5],
            [
                [-1.0, -3.0, -2.0, -0.5],
                [2.0, 8.0, 1.0, 0.0],
                [0.5, -1.0, 7.0, 3.0],
                [9.0, 1.0, 2.0, 4.0],
            ],
            [1.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0, 0.0],
            0.5,
        ),
    )


@functools.cache
def td_target_exercise() -> Exercise:
    """Return the Lesson 3 exercise (built on first use, when torch is imported)."""
    mask = "(1 - terminated)"
    return Exercise(
        name="td_target",
        reference=_td_reference,
        cases=_td_cases(),
        mistakes=(
            Mistake(
                "masked on `truncated` too",
                "a time limit (`truncated`) ends the episode but s' still has a future, so "
                f"keep bootstrapping there: multiply by {mask} only.",
                _td_mask_on_truncated,
            ),
            Mistake(
                "masked with `truncated` instead of `terminated`",
                f"the mask says whether s' has no future: {mask}; `truncated` is not used.",
                _td_truncated_for_terminated,
            ),
            Mistake(
                "forgot the terminal mask",
                "when `terminated` is 1, s' is terminal and the target is just r: multiply the "
                f"bootstrap term by {mask}.",
                _td_no_mask,
            ),
            Mistake(
                "flipped the mask",
                f"the bootstrap term must vanish where terminated is 1: {mask}, not terminated.",
                _td_inverted_mask,
            ),
            Mistake(
                "let the gradient flow through the target",
                "the numbers are right, but the result has requires_grad=True: the optimiser "
                "would also push the target towards the prediction. Compute it under "
                "`with torch.no_grad():` (or use next_q_values.detach()).",
                _td_with_gradient,
            ),
            Mistake(
                "took the max over the batch axis",
                "next_q_values has shape (batch, n_actions): the best next action is a max over "
                "actions, dim=1 (or -1), not over the batch (dim=0).",
                _td_max_over_batch,
            ),
            Mistake(
                "took one max over the whole batch",
                "next_q_values.max() is a single number for all transitions; each transition "
                "needs the max of its own row: next_q_values.max(dim=1).values.",
                _td_max_of_everything,
            ),
            Mistake(
                "kept the action axis (keepdim=True)",
                "a max of shape (batch, 1) added to rewards of shape (batch,) broadcasts to "
                "(batch, batch); the target must have shape (batch,).",
                _td_keepdim,
            ),
            Mistake(
                "averaged over the next actions",
                "Q-learning bootstraps from the best next action: max, not mean.",
                _td_mean,
            ),
            Mistake(
                "used argmax (an action index) instead of max (a value)",
                "argmax says *which* action is best; the target needs *how good* it is: "
                ".max(dim=1).values.",
                _td_argmax,
            ),
            Mistake(
                "forgot gamma",
                "the next state's value is discounted: gamma * max_a' Q(s', a').",
                _td_no_gamma,
            ),
        ),
        hint=f"y = rewards + gamma * {mask} * (max over actions of next_q_values, dim=1), "
        "computed without gradient; shape (batch,).",
        solution=_TD_SOLUTION,
        compare=_td_same,
    )


def check_td_target(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 3 exercise: the TD target of a batch of transitions.

    ``fn(rewards, next_q_values, terminated, truncated, gamma)`` gets ``(batch,)`` float
    tensors ``rewards``, ``terminated``, ``truncated`` (1.0 where true), ``next_q_values`` of
    shape ``(batch, n_actions)`` that carries a gradient, and a float ``gamma``. It must
    return ``r + gamma * (1 - terminated) * max_a' Q(s', a')``, shape ``(batch,)``, with no
    gradient (``requires_grad`` False). Prints a friendly verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return td_target_exercise().check(fn)
