"""Interactive knobs for the lessons' "Try it" sections (ipywidgets).

Each builder returns an object whose ``.widget`` the notebook displays, and whose
``.figure(...)`` draws the same picture without widgets (for a static copy that shows on
GitHub, and for tests). Moving a slider retrains and redraws once the slider is released
(``continuous_update=False``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.discretize import BinsSweep
from utils.envs import make_env
from utils.plotting import (
    _check_sweep,
    new_figure,
    plot_bins_sweep,
    plot_diagnostics,
    plot_learning_curves,
    plot_max_q_vs_bound,
    plot_q_table,
    returns_on_steps,
    run_summary,
)
from utils.tabular import greedy_policy, q_learning, success_probability, value_iteration

__all__ = [
    "BinsSweepExplorer",
    "DiagnosticsExplorer",
    "QLearningExplorer",
    "SingleNetworkExplorer",
    "SyncSweepExplorer",
    "bins_sweep_explorer",
    "diagnostics_explorer",
    "q_learning_explorer",
    "single_network_explorer",
    "sync_sweep_explorer",
]


class _Explorer:
    """What the lesson widgets share: a timed redraw, ``move`` by control name, and display.

    A subclass sets ``controls`` (name -> widget), ``widget`` (what the notebook shows) and
    ``figure(*values)`` (the picture for those control values).
    """

    _noun = "control"  # how error messages name the controls
    controls: dict[str, Any]
    widget: Any
    last_seconds: float

    def figure(self, *values: Any) -> Figure:
        raise NotImplementedError

    def _show(self, *values: Any) -> None:
        """Display the figure for ``values``; keep how long that took in ``last_seconds``."""
        start = time.perf_counter()
        display(self.figure(*values))
        self.last_seconds = time.perf_counter() - start

    def _check_names(self, values: Mapping[str, Any]) -> None:
        for name in values:
            if name not in self.controls:
                raise ValueError(
                    f"{self._noun} name must be one of {tuple(self.controls)}, got {name!r}"
                )

    def _set(self, values: Mapping[str, Any]) -> float:
        """Set controls as a learner would; return the seconds until the redraw is done."""
        start = time.perf_counter()
        for name, value in values.items():
            self.controls[name].value = value
        return time.perf_counter() - start

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


class QLearningExplorer(_Explorer):
    """Retrain a FrozenLake Q-table whenever alpha, gamma, epsilon or the episode count moves.

    The picture: the learned table as a heatmap with greedy arrows, and the training
    success curve; the title gives the exact success probability of the greedy policy within
    the time limit (dynamic programming, no sampling noise) and ``||Q - Q*||_inf`` against
    value iteration at the same gamma.

    Attributes:
        widget: The ``ipywidgets.VBox`` to display (sliders above the picture).
        sliders: ``{"alpha", "gamma", "epsilon", "episodes"}`` -> slider widget.
        last_seconds: Wall time of the last retrain-and-redraw, in seconds.
    """

    _noun = "slider"

    def __init__(
        self,
        *,
        map_name: str = "4x4",
        is_slippery: bool = True,
        seed: int = 0,
        alpha: float = 0.1,
        gamma: float = 0.99,
        epsilon: float = 0.1,
        episodes: int = 1000,
        max_episodes: int = 2000,
        window: int = 100,
        dpi: int = 72,
    ) -> None:
        self.seed = check_seed("seed", seed)
        self.max_episodes = check_int("max_episodes", max_episodes, minimum=100)
        self.window = check_int("window", window, minimum=1)
        self.dpi = check_int("dpi", dpi, minimum=30)
        check_float("alpha", alpha, low=0.0, high=1.0, low_inclusive=False)
        check_probability("gamma", gamma)
        check_probability("epsilon", epsilon)
        check_int("episodes", episodes, minimum=100, maximum=self.max_episodes)
        self.env = make_env("FrozenLake-v1", map_name=map_name, is_slippery=is_slippery)
        self._q_star: dict[float, np.ndarray] = {}
        self.last_seconds = float("nan")

        style = {"description_width": "70px"}
        layout = widgets.Layout(width="300px")

        def slider(cls: type, description: str, **kwargs: Any) -> widgets.Widget:
            return cls(
                description=description,
                continuous_update=False,
                style=style,
                layout=layout,
                **kwargs,
            )

        self.sliders = {
            "alpha": slider(
                widgets.FloatSlider, "alpha α", value=alpha, min=0.01, max=1.0, step=0.01
            ),
            "gamma": slider(
                widgets.FloatSlider,
                "gamma γ",
                value=gamma,
                min=0.5,
                max=1.0,
                step=0.005,
                readout_format=".3f",
            ),
            "epsilon": slider(
                widgets.FloatSlider, "epsilon ε", value=epsilon, min=0.0, max=1.0, step=0.01
            ),
            "episodes": slider(
                widgets.IntSlider,
                "episodes",
                value=episodes,
                min=100,
                max=self.max_episodes,
                step=100,
            ),
        }
        self.controls = self.sliders  # what move() sets
        self._output = widgets.interactive_output(self._redraw, self.sliders)
        controls = widgets.HBox(
            [
                widgets.VBox([self.sliders["alpha"], self.sliders["gamma"]]),
                widgets.VBox([self.sliders["epsilon"], self.sliders["episodes"]]),
            ]
        )
        self.widget = widgets.VBox([controls, self._output])

    def q_star(self, gamma: float) -> np.ndarray:
        """Return ``Q*`` for ``gamma`` by value iteration (cached per gamma)."""
        gamma = check_probability("gamma", gamma)
        if gamma not in self._q_star:
            self._q_star[gamma] = value_iteration(self.env, gamma=gamma)
        return self._q_star[gamma]

    def figure(self, alpha: float, gamma: float, epsilon: float, episodes: int) -> Figure:
        """Train with these settings (seed fixed) and return the picture the widget shows.

        Args:
            alpha: Step size in (0, 1].
            gamma: Discount factor in [0, 1].
            epsilon: Constant exploration rate in [0, 1].
            episodes: Training episodes (>= 1).

        Returns:
            The Figure: heatmap with arrows (left), training success curve (right).
        """
        result = q_learning(
            self.env,
            episodes=episodes,
            alpha=alpha,
            gamma=gamma,
            epsilon=epsilon,
            seed=self.seed,
        )
        policy = greedy_policy(result.q_table)
        success = success_probability(self.env, policy)
        q_star = self.q_star(gamma)
        optimal = success_probability(self.env, greedy_policy(q_star))
        distance = float(np.abs(result.q_table - q_star).max())

        fig, (left, right) = new_figure(2, figsize=(10.5, 4.0))
        fig.set_dpi(self.dpi)  # fewer pixels to encode: the redraw stays well under a second
        plot_q_table(
            result.q_table,
            self.env.unwrapped.desc,
            ax=left,
            title="learned Q-table: max value and greedy action",
            vmin=0.0,
            vmax=max(float(q_star.max()), 1e-9),
        )
        plot_learning_curves(
            {"training episodes": result.episode_returns},
            window=min(self.window, episodes),
            band="none",
            ax=right,
            ylabel="success",
            reference={f"best policy, exact: {optimal:.3f}": optimal},
        )
        right.set_ylim(-0.02, 1.02)
        fig.suptitle(
            f"α={alpha:.2f} γ={gamma:.3f} ε={epsilon:.2f}, {episodes} episodes: greedy policy "
            f"succeeds with p={success:.3f} (exact); ‖Q−Q*‖∞={distance:.3f}",
            fontsize=10,
        )
        return fig

    def _redraw(self, alpha: float, gamma: float, epsilon: float, episodes: int) -> None:
        self._show(alpha, gamma, epsilon, episodes)

    def move(self, **values: float) -> float:
        """Set sliders as a learner would (``move(alpha=0.5)``) and return the redraw time.

        Setting a value fires the same callback as dragging the slider: retrain + redraw.

        Returns:
            Seconds from the change to the redrawn picture.

        Raises:
            ValueError: If a name is not one of the sliders.
        """
        self._check_names(values)
        return self._set(values)


def q_learning_explorer(**kwargs: Any) -> QLearningExplorer:
    """Build the Lesson 1 widget: sliders for alpha, gamma, epsilon and episodes.

    It trains once at build time so it shows a picture straight away.

    Args:
        **kwargs: See :class:`QLearningExplorer` (``map_name``, ``is_slippery``, ``seed``,
            starting values ``alpha``, ``gamma``, ``epsilon``, ``episodes``, ``max_episodes``,
            ``window``, ``dpi``).

    Returns:
        The :class:`QLearningExplorer`; display it (or its ``.widget``).
    """
    return QLearningExplorer(**kwargs)


# --------------------------------------------------------------------------------------
# Lesson 2: choose a bin count from a sweep that is already computed
# --------------------------------------------------------------------------------------


class BinsSweepExplorer(_Explorer):
    """Pick CartPole's bins per dimension from a computed sweep; the picture updates at once.

    Nothing is trained when the slider moves: the sweep (one Q-table per bin count and seed)
    was computed beforehand, and the widget only selects from it. The picture is
    :func:`utils.plotting.plot_bins_sweep` with the chosen count marked, titled with
    :meth:`utils.discretize.BinsSweep.summary` (table size, share visited, return).

    Attributes:
        sweep: The :class:`utils.discretize.BinsSweep` shown.
        widget: The ``ipywidgets.VBox`` to display (slider above the picture).
        slider: The ``SelectionSlider`` over the swept bin counts.
        last_seconds: Wall time of the last redraw, in seconds.
    """

    def __init__(self, sweep: BinsSweep, bins: int | None = None) -> None:
        if not isinstance(sweep, BinsSweep):
            raise TypeError(f"sweep must be a BinsSweep, got {type(sweep).__name__}")
        self.sweep = sweep
        start = int(sweep.bins[len(sweep.bins) // 2]) if bins is None else bins
        sweep.index(start)  # raises ValueError naming the swept counts
        self.last_seconds = float("nan")
        self.slider = widgets.SelectionSlider(
            options=[(str(int(b)), int(b)) for b in sweep.bins],
            value=start,
            description="bins b",
            continuous_update=True,  # no training: cheap enough to follow the drag
            style={"description_width": "70px"},
            layout=widgets.Layout(width="420px"),
        )
        self._output = widgets.interactive_output(self._redraw, {"bins": self.slider})
        self.widget = widgets.VBox([self.slider, self._output])

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

    def _redraw(self, bins: int) -> None:
        self._show(bins)

    def move(self, bins: int) -> float:
        """Set the slider as a learner would and return the seconds until the redraw is done.

        Raises:
            ValueError: If ``bins`` was not swept.
        """
        self.sweep.index(bins)
        start = time.perf_counter()
        self.slider.value = int(bins)
        return time.perf_counter() - start


def bins_sweep_explorer(sweep: BinsSweep, bins: int | None = None) -> BinsSweepExplorer:
    """Build the Lesson 2 widget: a slider over the swept bin counts of CartPole.

    Args:
        sweep: The computed :class:`utils.discretize.BinsSweep`.
        bins: The count shown first; default the middle of the swept counts.

    Returns:
        The :class:`BinsSweepExplorer`; display it (or its ``.widget``).

    Raises:
        TypeError: If ``sweep`` is not a ``BinsSweep``.
        ValueError: If ``bins`` is not one of the swept counts.
    """
    return BinsSweepExplorer(sweep, bins)


# --------------------------------------------------------------------------------------
# Lesson 3: browse the single-network runs that are already trained
# --------------------------------------------------------------------------------------


class SingleNetworkExplorer(_Explorer):
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
        if not isinstance(runs, Mapping) or not runs:
            raise TypeError("runs must be a non-empty mapping {variant: [DQNRun, ...]}")
        for variant, group in runs.items():
            if not isinstance(variant, str):
                raise TypeError(f"runs keys must be strings, got {type(variant).__name__}")
            if isinstance(group, (str, bytes)) or not isinstance(group, Sequence) or not group:
                raise TypeError(f"runs[{variant!r}] must be a non-empty list of runs")
            for run in group:
                if not hasattr(run, "history") or not hasattr(run, "seed"):
                    raise TypeError(
                        f"runs[{variant!r}] must hold DQNRun objects, got {type(run).__name__}"
                    )
        self.runs = {variant: list(group) for variant, group in runs.items()}
        self.bound = check_float("bound", bound)
        self.grid_step = check_int("grid_step", grid_step, minimum=1)
        self.block = check_int("block", block, minimum=1)
        self.last_seconds = float("nan")
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
        self._output = widgets.interactive_output(self._redraw, self.controls)
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self._output])

    def _seeds(self, variant: str) -> list[int]:
        return [int(run.seed) for run in self.runs[variant]]

    def _variant_changed(self, change: dict) -> None:
        seeds = self._seeds(change["new"])
        seed = self.controls["seed"]
        if list(seed.options) != seeds:  # variants trained on different seeds
            keep = seed.value if seed.value in seeds else seeds[0]
            seed.options = seeds
            seed.value = keep

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
        last_step = max(int(r.global_step) for r in group)
        grid = np.arange(self.grid_step, last_step + 1, self.grid_step)

        def curve(r: Any) -> np.ndarray:
            h = r.history
            return returns_on_steps(h.episode_end_steps, h.episode_returns, grid)

        fig, (left, right) = new_figure(2, figsize=(11, 3.8))
        others = np.array([curve(r) for r in group])
        plot_learning_curves(
            {f"all seeds of {variant}": others}, x=grid, ax=left, title="return", ylabel="return"
        )
        left.plot(grid, curve(run), color="black", linewidth=1.5, label=f"seed {seed}")
        left.legend(loc="upper left", fontsize="small")
        left.set_ylabel("mean return of the last 10 episodes")
        left.set_xlabel("environment step")
        h = run.history
        plot_max_q_vs_bound(
            {f"{variant}, seed {seed}": (h.update_steps, h.max_q)},
            self.bound,
            block=self.block,
            ax=right,
            title="largest predicted Q",
        )
        above = float(np.mean(h.max_q > self.bound)) if len(h.max_q) else 0.0
        peak = float(h.max_q.max()) if len(h.max_q) else float("nan")
        fig.suptitle(
            f"{variant}, seed {seed}: {above:.1%} of {len(h.max_q)} updates predicted a Q above "
            f"the bound {self.bound:.2f} (largest {peak:.1f})",
            fontsize=10,
        )
        return fig

    def _redraw(self, variant: str, seed: int) -> None:
        if seed not in self._seeds(variant):  # mid-way through a variant change
            return
        self._show(variant, seed)

    def move(self, **values: Any) -> float:
        """Set controls as a learner would (``move(variant="replay", seed=2)``).

        Returns:
            Seconds from the change to the redrawn picture.

        Raises:
            ValueError: If a name is not one of the controls.
        """
        self._check_names(values)
        return self._set(values)


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
    """
    return SingleNetworkExplorer(runs, bound, **kwargs)


# --------------------------------------------------------------------------------------
# Lesson 4: browse a computed sweep over the sync period C and the learning rate
# --------------------------------------------------------------------------------------


class SyncSweepExplorer(_Explorer):
    """Pick the sync period C and the learning rate; that setting's runs are redrawn at once.

    Nothing is trained when a control moves: the sweep was computed beforehand and the widget
    only selects from it. The picture: left, the training return of each seed (mean of its
    last 10 episodes, against environment steps; line: mean over seeds, band: lowest to
    highest); right, the largest Q-value predicted at each update against ``bound``, one line
    per seed. The title sums it up with :func:`utils.plotting.run_summary`.

    Attributes:
        sweep: ``{(C, learning_rate): [run, ...]}`` as given.
        bound: The largest possible discounted return.
        widget: The ``ipywidgets.VBox`` to display (controls above the picture).
        controls: ``{"C", "learning_rate"}`` -> control widget.
        last_seconds: Wall time of the last redraw, in seconds.
    """

    def __init__(
        self,
        sweep: Mapping[tuple[int, float], Sequence[Any]],
        bound: float,
        *,
        start: tuple[int, float] | None = None,
        grid_step: int = 100,
        block: int = 50,
        dpi: int = 72,
    ) -> None:
        self.periods, self.rates, self.sweep = _check_sweep(sweep)
        self.bound = check_float("bound", bound)
        self.grid_step = check_int("grid_step", grid_step, minimum=1)
        self.block = check_int("block", block, minimum=1)
        self.dpi = check_int("dpi", dpi, minimum=10)
        if start is None:
            start = (self.periods[len(self.periods) // 2], self.rates[-1])
        self._group(*start)  # raises ValueError naming the swept values
        self.last_seconds = float("nan")
        style = {"description_width": "110px"}
        self.controls = {
            "C": widgets.SelectionSlider(
                options=[(str(c), c) for c in self.periods], value=int(start[0]),
                description="sync period C", continuous_update=True, style=style,
                layout=widgets.Layout(width="420px"),
            ),
            "learning_rate": widgets.ToggleButtons(
                options=[(f"{lr:g}", lr) for lr in self.rates], value=float(start[1]),
                description="learning rate", style=style,
            ),
        }  # fmt: skip
        self._output = widgets.interactive_output(self._redraw, self.controls)
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self._output])

    def _group(self, C: int, learning_rate: float) -> list[Any]:
        key = (C, learning_rate)
        if key not in self.sweep:
            raise ValueError(
                f"(C, learning_rate) must be one of the swept pairs: C in {self.periods}, "
                f"learning_rate in {self.rates}; got {key}"
            )
        return self.sweep[key]

    def figure(self, C: int, learning_rate: float) -> Figure:
        """Return the picture the widget shows for one swept ``(C, learning_rate)``.

        Raises:
            ValueError: If the pair was not swept.
        """
        group = self._group(C, learning_rate)
        last_step = max(int(r.global_step) for r in group)
        grid = np.arange(self.grid_step, last_step + 1, self.grid_step)
        curves = np.array(
            [
                returns_on_steps(r.history.episode_end_steps, r.history.episode_returns, grid)
                for r in group
            ]
        )
        fig, (left, right) = new_figure(2, figsize=(11, 3.8))
        fig.set_dpi(self.dpi)  # fewer pixels to encode: the redraw stays well under a second
        plot_learning_curves(
            {f"C={C}, lr={learning_rate:g}": curves},
            x=grid,
            ax=left,
            xlabel="environment step",
            ylabel="return (mean of the last 10 episodes)",
            title="training return",
        )
        for row in curves:
            left.plot(grid, row, color="0.4", linewidth=0.6, alpha=0.7)
        left.set_ylim(0, 510)
        update_steps = group[0].history.update_steps
        if all(np.array_equal(r.history.update_steps, update_steps) for r in group):
            plot_max_q_vs_bound(
                {f"C={C}": (update_steps, np.array([r.history.max_q for r in group]))},
                self.bound,
                block=self.block,
                ax=right,
                title="largest predicted Q",
            )
        stats = [run_summary(r, self.bound) for r in group]
        fig.suptitle(
            f"C = {C}, learning rate {learning_rate:g}, {len(group)} seeds: final return "
            f"{np.mean([s['final_return'] for s in stats]):.0f} (mean of the last 10 episodes); "
            f"{np.mean([s['share_above'] for s in stats]):.0%} of updates predicted a Q above "
            f"{self.bound:.2f} (largest {max(s['max_q'] for s in stats):.3g})",
            fontsize=10,
        )
        return fig

    def _redraw(self, C: int, learning_rate: float) -> None:
        self._show(C, learning_rate)

    def move(self, **values: Any) -> float:
        """Set controls as a learner would (``move(C=10, learning_rate=1e-3)``).

        Returns:
            Seconds from the change to the redrawn picture.

        Raises:
            ValueError: If a name is not one of the controls or a value was not swept.
        """
        self._check_names(values)
        target = {name: control.value for name, control in self.controls.items()}
        target.update(values)
        self._group(target["C"], target["learning_rate"])
        return self._set(values)


def sync_sweep_explorer(
    sweep: Mapping[tuple[int, float], Sequence[Any]], bound: float, **kwargs: Any
) -> SyncSweepExplorer:
    """Build the Lesson 4 widget: choose C and the learning rate among runs already trained.

    Args:
        sweep: ``{(C, learning_rate): [DQNRun, ...]}`` over a full grid of C and rates.
        bound: The largest possible discounted return (``impossible_q_bound``).
        **kwargs: ``start`` (the pair shown first), ``grid_step`` (env steps between curve
            points), ``block`` (updates per point of the Q curve), ``dpi``.

    Returns:
        The :class:`SyncSweepExplorer`; display it (or its ``.widget``).

    Raises:
        TypeError, ValueError: On a bad sweep or start pair (the message names it).
    """
    return SyncSweepExplorer(sweep, bound, **kwargs)


# --------------------------------------------------------------------------------------
# Lesson 5: browse the diagnostics of runs that are already trained
# --------------------------------------------------------------------------------------


class DiagnosticsExplorer(_Explorer):
    """Pick a variant (e.g. a bug) and see its diagnostics next to a reference run, at once.

    Nothing is trained when a control moves: the runs were computed beforehand and the
    picture is :func:`utils.plotting.plot_diagnostics` of the chosen variant, beside the
    reference variant unless that box is unticked.

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
        if not isinstance(runs, Mapping) or len(runs) < 2:
            raise TypeError("runs must be a mapping {variant: [DQNRun, ...]} with >= 2 variants")
        for name, group in runs.items():
            if not isinstance(name, str):
                raise TypeError(f"runs keys must be strings, got {type(name).__name__}")
            if isinstance(group, (str, bytes)) or not isinstance(group, Sequence) or not group:
                raise TypeError(f"runs[{name!r}] must be a non-empty list of runs")
        if reference not in runs:
            raise ValueError(f"reference must be one of {tuple(runs)}, got {reference!r}")
        self.runs = {name: list(group) for name, group in runs.items()}
        self.reference = reference
        self.plot_kwargs = dict(plot_kwargs)
        others = [name for name in self.runs if name != reference]
        start = others[0] if variant is None else variant
        if start not in others:
            raise ValueError(f"variant must be one of {tuple(others)}, got {start!r}")
        self.last_seconds = float("nan")
        self.controls = {
            "variant": widgets.Dropdown(
                options=others, value=start, description="variant",
                style={"description_width": "60px"}, layout=widgets.Layout(width="380px"),
            ),
            "compare": widgets.Checkbox(value=True, description=f"beside '{reference}'"),
        }  # fmt: skip
        self._output = widgets.interactive_output(self._redraw, self.controls)
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self._output])

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

    def _redraw(self, variant: str, compare: bool) -> None:
        self._show(variant, compare)

    def move(self, **values: Any) -> float:
        """Set controls as a learner would (``move(variant="no_terminal_mask")``).

        Returns:
            Seconds from the change to the redrawn picture.

        Raises:
            ValueError: If a name is not one of the controls, or a variant is unknown.
        """
        self._check_names(values)
        variants = self.controls["variant"].options
        if "variant" in values and values["variant"] not in variants:
            raise ValueError(f"variant must be one of {tuple(variants)}, got {values['variant']!r}")
        return self._set(values)


def diagnostics_explorer(
    runs: Mapping[str, Sequence[Any]], reference: str, **kwargs: Any
) -> DiagnosticsExplorer:
    """Build the Lesson 5 widget: pick a trained variant, see its diagnostics beside a reference.

    Args:
        runs: ``{variant: [DQNRun, ...]}``, e.g. ``{"correct": [...], "no_terminal_mask": [...]}``.
        reference: The variant drawn beside the chosen one (e.g. the correct agent).
        **kwargs: ``variant`` (shown first), and anything :func:`utils.plotting.plot_diagnostics`
            takes (``bound``, ``time_limit``, ``probe_states``, ``block``, ...).

    Returns:
        The :class:`DiagnosticsExplorer`; display it (or its ``.widget``).
    """
    return DiagnosticsExplorer(runs, reference, **kwargs)
