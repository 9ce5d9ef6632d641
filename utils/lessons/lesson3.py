"""Lesson 3 (one network): its widget.

The lesson's figures are shared with Lesson 4, so they are primitives:
:func:`utils.run_figures.plot_max_q_vs_bound` and :func:`utils.run_figures.plot_target_drift`.

- :class:`SingleNetworkExplorer` (:func:`single_network_explorer`): browse trained
  single-network runs by variant and seed.

The exercises live in :mod:`utils.lessons.lesson3_buffer` (the replay buffer) and
:mod:`utils.lessons.lesson3_update` (the single-network update step).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.explorer import Explorer
from utils.figures import new_figure, plot_learning_curves
from utils.run_figures import episode_curves, plot_max_q_vs_bound, run_groups, step_grid

__all__ = ["SingleNetworkExplorer", "single_network_explorer"]

# --------------------------------------------------------------------------------------
# The widget: browse the single-network runs that are already trained
# --------------------------------------------------------------------------------------


class SingleNetworkExplorer(Explorer):
    """Pick a variant (e.g. online / replay) and a seed; its curves are redrawn at once.

    Nothing is trained when a control moves: the runs were computed beforehand. The picture:
    left, the chosen seed's return (mean of its last 10 episodes, against environment steps)
    over the range of all seeds of that variant; right, the largest Q-value it predicted at
    each update against ``bound``, above which no value is possible. The title counts the updates
    whose largest prediction is above the bound.

    Attributes:
        runs: ``{variant: [run, ...]}`` as given (``utils.dqn.DQNRun`` objects).
        bound: ``impossible_q_bound(gamma)`` = 1/(1 - gamma): no Q-value can honestly exceed it.
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
            f"{self.bound:.4g}, which is impossible (largest {peak:.1f})",
            fontsize=10,
        )
        return fig


def single_network_explorer(
    runs: Mapping[str, Sequence[Any]], bound: float, **kwargs: Any
) -> SingleNetworkExplorer:
    """Build the Lesson 3 widget: pick a variant and a seed among trained single-network runs.

    Args:
        runs: ``{variant: [DQNRun, ...]}``, e.g. ``{"online": [...], "replay": [...]}``.
        bound: ``impossible_q_bound(gamma)`` = 1/(1 - gamma): no Q-value can honestly exceed it.
        **kwargs: ``grid_step`` (env steps between curve points), ``block`` (updates per point
            of the Q curve).

    Returns:
        The :class:`SingleNetworkExplorer`; display it (or its ``.widget``).

    Raises:
        TypeError, ValueError: On bad runs or a bad bound (the message names it).
    """
    return SingleNetworkExplorer(runs, bound, **kwargs)
