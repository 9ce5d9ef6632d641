"""Lesson 1 (the Q-table): its figures, its widget and the Q-update exercise.

- :func:`plot_distance_to_optimum`, :func:`plot_q_scatter`: how far a learned table is from
  ``Q*`` over training, and entry by entry.
- :class:`QLearningExplorer` (:func:`q_learning_explorer`): retrain a FrozenLake table as
  alpha, gamma, epsilon or the episode count move.

The exercise (the expected-Sarsa target) is in :mod:`utils.lessons.lesson1_exercise`, and the
off-policy measurements (the greedy policy's exact success during training, the best
epsilon-greedy policy) in :mod:`utils.lessons.lesson1_offpolicy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.envs import make_env
from utils.explorer import Explorer
from utils.figures import (
    figure_and_axes,
    finish_axes,
    new_figure,
    plot_learning_curves,
    plot_q_table,
)
from utils.tabular import greedy_policy, q_learning, success_probability, value_iteration

__all__ = [
    "QLearningExplorer",
    "plot_distance_to_optimum",
    "plot_q_scatter",
    "q_learning_explorer",
]

# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------


def plot_distance_to_optimum(
    distances: Mapping[str, np.ndarray] | np.ndarray,
    x: np.ndarray,
    *,
    ax: Axes | None = None,
    band: str = "minmax",
    title: str | None = None,
    logy: bool = True,
) -> Figure:
    """Plot ``||Q - Q*||_inf`` against training episodes, averaged over seeds with a band.

    Args:
        distances: Shape ``(n_seeds, n_records)`` or ``(n_records,)``, or ``{label: array}``
            (e.g. one entry per environment or per step size).
        x: Episode counts of the records, shape ``(n_records,)``
            (``QLearningResult.distance_episodes``).
        ax: Axes to draw on; a new Figure if None.
        band: ``"minmax"``, ``"ci"`` or ``"none"`` (see :func:`plot_learning_curves`).
        title: Axes title.
        logy: Logarithmic y axis (default): the distance shrinks by orders of magnitude.

    Returns:
        The Figure.
    """
    if x is None:
        raise TypeError("x must be the episode counts of the records, got None")
    return plot_learning_curves(
        distances,
        x,
        window=1,
        band=band,
        ax=ax,
        xlabel="training episodes",
        ylabel=r"$\|Q - Q^*\|_\infty$",
        title=title,
        logy=logy,
    )


def plot_q_scatter(
    q_table: np.ndarray,
    q_star: np.ndarray,
    *,
    states: np.ndarray | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Scatter every learned ``Q(s, a)`` against its exact ``Q*(s, a)``.

    Points on the diagonal are exact. The entries of the learned greedy actions
    (``argmax_a Q``, the ones the agent keeps choosing and so keeps updating) are drawn in a
    second colour; the others are tried only while exploring.

    Args:
        q_table: Learned table, shape ``(n_states, n_actions)``.
        q_star: Exact table, same shape.
        states: Optional boolean mask ``(n_states,)`` of the states to show (e.g.
            :func:`utils.tabular.reachable_states`); default all.
        ax: Axes to draw on; a new Figure if None.
        title: Axes title.

    Returns:
        The Figure.

    Raises:
        ValueError: If the shapes do not match.
    """
    q = np.asarray(q_table, dtype=float)
    exact = np.asarray(q_star, dtype=float)
    if q.ndim != 2 or q.shape != exact.shape:
        raise ValueError(
            f"q_table and q_star must be 2-D with the same shape, got {q.shape} and {exact.shape}"
        )
    if states is None:
        states = np.ones(q.shape[0], dtype=bool)
    states = np.asarray(states)
    if states.shape != (q.shape[0],) or states.dtype != bool:
        raise ValueError(f"states must be a boolean mask of shape ({q.shape[0]},)")
    best = np.zeros_like(q, dtype=bool)
    best[np.arange(q.shape[0]), np.argmax(q, axis=1)] = True
    shown = np.broadcast_to(states[:, None], q.shape)

    fig, ax = figure_and_axes(ax, (4.4, 4.0))
    rest, greedy = shown & ~best, shown & best
    ax.scatter(exact[rest], q[rest], s=6, alpha=0.4, label="other actions")
    ax.scatter(exact[greedy], q[greedy], s=6, alpha=0.7, label="greedy action of learned Q")
    low = float(min(exact[shown].min(), q[shown].min()))
    high = float(max(exact[shown].max(), q[shown].max()))
    ax.plot([low, high], [low, high], color="0.3", linestyle="--", linewidth=1, label="exact")
    ax.set_xlabel(r"$Q^*(s, a)$ (value iteration)")
    ax.set_ylabel(r"learned $Q(s, a)$")
    finish_axes(ax, title, "upper left")
    return fig


# --------------------------------------------------------------------------------------
# The widget: retrain a FrozenLake Q-table as the sliders move
# --------------------------------------------------------------------------------------


class QLearningExplorer(Explorer):
    """Retrain a FrozenLake Q-table whenever alpha, gamma, epsilon or the episode count moves.

    The picture: the learned table as a heatmap with greedy arrows, and the training
    success curve; the title gives the exact success probability of the greedy policy within
    the time limit (dynamic programming, no sampling noise) and ``||Q - Q*||_inf`` against
    value iteration at the same gamma. Moving a slider retrains and redraws once the slider
    is released (``continuous_update=False``).

    Attributes:
        widget: The ``ipywidgets.VBox`` to display (sliders above the picture).
        sliders: ``{"alpha", "gamma", "epsilon", "episodes"}`` -> slider widget (also
            ``controls``).
        last_seconds: Wall time of the last retrain-and-redraw, in seconds.
    """

    noun = "slider"

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
        max_episodes: int = 5000,
        window: int = 100,
        dpi: int = 96,
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

        def slider(cls: type, description: str, **kwargs: Any) -> widgets.Widget:
            return cls(description=description, continuous_update=False,
                       style={"description_width": "70px"},
                       layout=widgets.Layout(width="300px"), **kwargs)  # fmt: skip

        self.sliders = {
            "alpha": slider(
                widgets.FloatSlider, "alpha α", value=alpha, min=0.01, max=1.0, step=0.01
            ),
            "gamma": slider(
                widgets.FloatSlider, "gamma γ", value=gamma, min=0.5, max=1.0, step=0.005,
                readout_format=".3f",
            ),
            "epsilon": slider(
                widgets.FloatSlider, "epsilon ε", value=epsilon, min=0.0, max=1.0, step=0.01
            ),
            "episodes": slider(
                widgets.IntSlider, "episodes", value=episodes, min=100, max=self.max_episodes,
                step=100,
            ),
        }  # fmt: skip
        self.controls = self.sliders
        s = self.sliders
        self._start(
            widgets.HBox(
                [
                    widgets.VBox([s["alpha"], s["gamma"]]),
                    widgets.VBox([s["epsilon"], s["episodes"]]),
                ]
            )
        )

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
            self.env, episodes=episodes, alpha=alpha, gamma=gamma, epsilon=epsilon, seed=self.seed
        )
        success = success_probability(self.env, greedy_policy(result.q_table))
        q_star = self.q_star(gamma)
        optimal = success_probability(self.env, greedy_policy(q_star))
        distance = float(np.abs(result.q_table - q_star).max())

        fig, (left, right) = new_figure(2, figsize=(12.0, 5.0))
        fig.set_dpi(self.dpi)  # readable at 100% zoom, still quick to encode
        plot_q_table(
            result.q_table, self.env.unwrapped.desc, ax=left, vmin=0.0,
            title="learned Q-table: max value and greedy action",
            vmax=max(float(q_star.max()), 1e-9),
        )  # fmt: skip
        for text in left.texts:  # the table's numbers and letters, readable on screen
            text.set_fontsize(text.get_fontsize() * 1.5)
        plot_learning_curves(
            {"training episodes": result.episode_returns}, window=min(self.window, episodes),
            band="none", ax=right, ylabel="success",
            reference={f"best policy, exact: {optimal:.3f}": optimal},
        )  # fmt: skip
        right.set_ylim(-0.02, 1.02)
        fig.suptitle(
            f"α={alpha:.2f} γ={gamma:.3f} ε={epsilon:.2f}, {episodes} episodes: greedy policy "
            f"succeeds with p={success:.3f} (exact); ‖Q−Q*‖∞={distance:.3f}",
            fontsize=13,
        )
        for ax in (left, right):
            ax.title.set_fontsize(13)
            ax.xaxis.label.set_fontsize(12)
            ax.yaxis.label.set_fontsize(12)
            ax.tick_params(labelsize=11)
        return fig


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
