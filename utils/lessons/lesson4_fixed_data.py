"""Lesson 4: the moving target isolated on fixed data, and the stability map over lr x C.

A replay buffer of CartPole transitions is collected once (uniformly random policy, whole
episodes that *terminated*, each transition with its Monte-Carlo discounted return). Then many
copies of one network, all starting from the same weights, are trained on it with the DQN
target ``y = r + gamma (1 - terminated) max_a' Q_target(s', a')`` and the same sequence of
minibatches; they differ only in the learning rate and in how often their target copy is
refreshed (C; C = 1 is a single network computing its own labels). Nothing else moves: no
exploration, no new data, no policy change. Whatever diverges, diverges because of where the
labels come from.

- :func:`collect_fixed_data` -> :class:`FixedData`
- :func:`train_on_fixed_data` -> :class:`FixedDataSweep` (all (lr, C) pairs as one batch of
  stacked networks, float32)
- :func:`plot_fixed_data_traces`, :func:`plot_stability_map`,
  :class:`StabilityMapExplorer` (:func:`stability_map_explorer`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from utils._checks import check_float, check_int, check_probability, check_seed
from utils.engine import StackedQNetwork, auto_threads
from utils.envs import make_env
from utils.explorer import Explorer
from utils.figures import figure_and_axes, new_figure
from utils.lessons.lesson4 import sync_limit
from utils.networks import QNetwork, torch_threads
from utils.run_figures import bound_label

__all__ = ["FixedData", "FixedDataSweep", "StabilityMapExplorer", "collect_fixed_data",
           "plot_fixed_data_traces", "plot_stability_map", "stability_map_explorer",
           "train_on_fixed_data"]  # fmt: skip


@dataclass(frozen=True)
class FixedData:
    """Transitions of whole terminated episodes, with their Monte-Carlo returns.

    Attributes:
        obs, next_obs: ``(n, obs_dim)`` float32 tensors.
        actions: ``(n,)`` int64 tensor.
        rewards, terminated: ``(n,)`` float32 tensors.
        returns: ``(n,)`` discounted return from each transition to its episode's end.
        episodes: Number of episodes kept.
        dropped: Episodes cut by the time limit and left out (their returns are censored).
        gamma: The discount of ``returns``.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    next_obs: torch.Tensor
    terminated: torch.Tensor
    returns: np.ndarray
    episodes: int
    dropped: int
    gamma: float

    def __len__(self) -> int:
        return len(self.actions)


def collect_fixed_data(
    n_transitions: int,
    seed: int,
    *,
    gamma: float = 0.99,
    env_id: str = "CartPole-v1",
    max_episode_steps: int | None = None,
) -> FixedData:
    """Collect whole episodes of the uniformly random policy until ``n_transitions`` are kept.

    Only episodes that terminated are kept: an episode cut by the time limit has an unknown
    future, so its Monte-Carlo returns would be censored (too low). The random policy almost
    never reaches CartPole's 500-step limit; ``dropped`` counts the episodes left out.

    Args:
        n_transitions: Least number of transitions to keep (whole episodes, so a few more).
        seed: Seeds the policy and the first reset.
        gamma: Discount of the Monte-Carlo returns, in [0, 1).
        env_id: A Gymnasium id with a Box observation and a Discrete action space.
        max_episode_steps: A shorter time limit than the env's own (None: its own).

    Returns:
        The :class:`FixedData`.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    n_transitions = check_int("n_transitions", n_transitions, minimum=1)
    seed = check_seed("seed", seed)
    gamma = check_probability("gamma", gamma)
    if gamma >= 1:
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    limit = {}
    if max_episode_steps is not None:
        limit["max_episode_steps"] = check_int("max_episode_steps", max_episode_steps, minimum=1)
    env = make_env(env_id, **limit)
    n_actions = int(env.action_space.n)
    rng = np.random.default_rng(seed)
    rows: list[tuple] = []
    returns: list[float] = []
    episodes = dropped = 0
    obs, _ = env.reset(seed=seed)
    episode: list[tuple] = []
    while len(rows) < n_transitions:
        action = int(rng.integers(n_actions))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        episode.append((obs, action, float(reward), next_obs, float(terminated)))
        obs = next_obs
        if terminated or truncated:
            if terminated:  # a complete return; a truncated one is censored: left out
                g, back = 0.0, []
                for *_, r, _, _ in reversed(episode):
                    g = r + gamma * g
                    back.append(g)
                rows.extend(episode)
                returns.extend(reversed(back))
                episodes += 1
            else:
                dropped += 1
            episode = []
            obs, _ = env.reset()
    env.close()
    o, a, r, n, t = (np.array(c) for c in zip(*rows, strict=True))
    return FixedData(
        obs=torch.tensor(o, dtype=torch.float32),
        actions=torch.tensor(a, dtype=torch.int64),
        rewards=torch.tensor(r, dtype=torch.float32),
        next_obs=torch.tensor(n, dtype=torch.float32),
        terminated=torch.tensor(t, dtype=torch.float32),
        returns=np.array(returns),
        episodes=episodes,
        dropped=dropped,
        gamma=gamma,
    )


@dataclass(frozen=True)
class FixedDataSweep:
    """What training on fixed data gave, for every (learning rate, C) pair.

    Attributes:
        learning_rates: The swept learning rates, ascending.
        periods: The swept sync periods C, ascending (C = 1: one network).
        steps: ``(n_records,)`` gradient steps at which the networks were measured.
        max_q: ``(n_lr, n_C, n_records)`` largest Q-value over all states and actions of
            the data.
        error: ``(n_lr, n_C, n_records)`` mean of ``|Q(s, a) - G|`` over the data's
            transitions (G: the Monte-Carlo return).
        gamma: The discount.
        bound: ``1 / (1 - gamma)`` times the largest reward: no Q-value can honestly exceed it.
    """

    learning_rates: tuple[float, ...]
    periods: tuple[int, ...]
    steps: np.ndarray
    max_q: np.ndarray
    error: np.ndarray
    gamma: float
    bound: float

    def index(self, learning_rate: float, period: int) -> tuple[int, int]:
        """Return the ``(i, j)`` of a swept pair; raise ValueError naming the swept values."""
        lr = check_float("learning_rate", learning_rate)
        period = check_int("period", period, minimum=1)
        matches = [i for i, x in enumerate(self.learning_rates) if np.isclose(x, lr)]
        if not matches or period not in self.periods:
            raise ValueError(
                f"(learning_rate, period) must be swept: learning_rate in "
                f"{self.learning_rates}, period in {self.periods}; got ({lr}, {period})"
            )
        return matches[0], self.periods.index(period)

    def largest(self) -> np.ndarray:
        """``(n_lr, n_C)``: the largest Q-value each pair predicted at any record."""
        return self.max_q.max(axis=2)

    def over_limit(self) -> np.ndarray:
        """``(n_lr, n_C)``: each pair's largest Q divided by its per-sync limit at the last record.

        The limit (:func:`~utils.lessons.lesson4.sync_limit`) only grows, so this is the least
        the pair overshot it by: above 1, the pair predicted more than fitted Q-iteration allows
        when every fit lands on its labels.
        """
        limits = [sync_limit(self.steps[-1:], c, self.gamma)[0] for c in self.periods]
        return self.largest() / np.array(limits)


def _adam_step(params, grads, m, v, lr, t: int) -> None:
    """Adam (torch's defaults) on stacked parameters, one step size per network."""
    for p, g, mm, vv in zip(params, grads, m, v, strict=True):
        mm.mul_(0.9).add_(g, alpha=0.1)
        vv.mul_(0.999).addcmul_(g, g, value=0.001)
        step = lr.view(-1, *([1] * (p.dim() - 1))) / (1 - 0.9**t)
        p.sub_(step * mm / ((vv / (1 - 0.999**t)).sqrt() + 1e-8))


def train_on_fixed_data(
    data: FixedData,
    learning_rates: Sequence[float],
    periods: Sequence[int],
    *,
    steps: int,
    batch_size: int = 64,
    hidden_sizes: Sequence[int] = (64, 64),
    loss: str = "mse",
    seed: int = 0,
    record_every: int = 100,
) -> FixedDataSweep:
    """Train one network per (learning rate, C) on ``data``, all from the same start.

    Every network starts from the same weights (``torch.manual_seed(seed)``) and sees the
    same minibatches (one index stream for all). Its labels come from its own frozen copy,
    refreshed every C gradient steps (C = 1: from itself, one network). The optimiser is Adam
    with the network's learning rate, constant. All pairs train together as one stack of
    networks (:class:`~utils.engine.StackedQNetwork`), float32, on one thread.

    Args:
        data: The fixed transitions.
        learning_rates: Learning rates to sweep (> 0).
        periods: Sync periods C to sweep (>= 1).
        steps: Gradient steps per network.
        batch_size: Transitions per minibatch.
        hidden_sizes: Hidden layer widths.
        loss: ``"mse"`` or ``"huber"``.
        seed: Seeds the initial weights and the minibatch indices.
        record_every: Gradient steps between two measurements.

    Returns:
        The :class:`FixedDataSweep`.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    if not isinstance(data, FixedData):
        raise TypeError(f"data must be a FixedData, got {type(data).__name__}")
    rates = sorted(check_float("learning_rates[i]", x, low=0.0, low_inclusive=False)
                   for x in learning_rates)  # fmt: skip
    sync = sorted(check_int("periods[i]", c, minimum=1) for c in periods)
    if not rates or not sync:
        raise ValueError("learning_rates and periods must not be empty")
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1, maximum=steps)
    if loss not in ("mse", "huber"):
        raise ValueError(f"loss must be 'mse' or 'huber', got {loss!r}")
    seed = check_seed("seed", seed)
    pairs = [(lr, c) for lr in rates for c in sync]
    k, n = len(pairs), len(data)
    with torch_threads(auto_threads(k)):  # two threads for many networks, same numbers
        torch.manual_seed(seed)
        start = QNetwork(data.obs.shape[1], int(data.actions.max()) + 1, tuple(hidden_sizes))
        online = StackedQNetwork([start] * k)
        target = StackedQNetwork([start] * k).requires_grad_(False)
        params = list(online.parameters())
        m, v = ([torch.zeros_like(p) for p in params] for _ in range(2))
        lr = torch.tensor([p[0] for p in pairs], dtype=torch.float32)
        period = np.array([p[1] for p in pairs])
        rng = np.random.default_rng(seed)
        all_obs = data.obs.expand(k, n, -1)
        taken = data.actions.view(1, n, 1).expand(k, n, 1)
        returns = torch.tensor(data.returns, dtype=torch.float32)
        records, max_q, error = [], [], []
        for t in range(1, steps + 1):
            idx = torch.from_numpy(rng.integers(n, size=batch_size))
            obs, next_obs = data.obs[idx].expand(k, -1, -1), data.next_obs[idx].expand(k, -1, -1)
            with torch.no_grad():  # labels from each network's frozen copy
                next_q = target._forward(next_obs).max(dim=2).values
                y = data.rewards[idx] + data.gamma * (1 - data.terminated[idx]) * next_q
            q = online._forward(obs).gather(2, data.actions[idx].view(1, -1, 1).expand(k, -1, 1))
            diff = q[..., 0] - y
            per = diff**2
            if loss == "huber":
                per = torch.where(diff.abs() < 1, 0.5 * per, diff.abs() - 0.5)
            grads = torch.autograd.grad(per.mean(dim=1).sum(), params)
            with torch.no_grad():
                _adam_step(params, grads, m, v, lr, t)
                due = torch.from_numpy(np.flatnonzero(t % period == 0))
                if len(due):
                    for p_target, p_online in zip(target.parameters(), params, strict=True):
                        p_target[due] = p_online[due]
                if t % record_every == 0:
                    q_all = online._forward(all_obs)
                    records.append(t)
                    max_q.append(q_all.amax(dim=(1, 2)).numpy())
                    error.append((q_all.gather(2, taken)[..., 0] - returns).abs().mean(1).numpy())
    shape = (len(rates), len(sync), len(records))
    return FixedDataSweep(
        learning_rates=tuple(rates),
        periods=tuple(sync),
        steps=np.array(records),
        max_q=np.array(max_q).T.reshape(shape),
        error=np.array(error).T.reshape(shape),
        gamma=data.gamma,
        bound=1.0 / (1.0 - data.gamma) * float(data.rewards.max()),
    )


def plot_fixed_data_traces(
    sweep: FixedDataSweep,
    learning_rate: float,
    *,
    periods: Sequence[int] | None = None,
    data_returns: np.ndarray | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Plot, at one learning rate, the largest Q and the error against the returns, per C.

    Left: the largest Q-value over the data (log scale) with the bound and, dotted, each C's
    per-sync limit (:func:`~utils.lessons.lesson4.sync_limit`); right: the mean of
    ``|Q(s, a) - G|`` over the data (log scale).

    Args:
        sweep: The :class:`FixedDataSweep`.
        learning_rate: One of the swept learning rates.
        periods: Which C to draw (default all).
        data_returns: The data's Monte-Carlo returns: their largest is drawn on the left.
        axes: Two Axes to draw on; a new Figure if None.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    i, _ = sweep.index(learning_rate, sweep.periods[0])
    chosen = list(sweep.periods) if periods is None else list(periods)
    columns = [sweep.index(learning_rate, c)[1] for c in chosen]
    if axes is None:
        fig, axes = new_figure(2, figsize=(12, 3.8))
    else:
        if len(axes) != 2:
            raise ValueError(f"axes must hold two Axes, got {len(axes)}")
        fig = axes[0].figure
    left, right = axes
    for c, j in zip(chosen, columns, strict=True):
        label = "C = 1 (one network)" if c == 1 else f"C = {c}"
        (line,) = left.plot(sweep.steps, sweep.max_q[i, j], label=label)
        if c > 1:
            left.plot(sweep.steps, sync_limit(sweep.steps, c, sweep.gamma), color=line.get_color(),
                      linestyle=":", linewidth=1)  # fmt: skip
        right.plot(sweep.steps, sweep.error[i, j], label=label, color=line.get_color())
    left.axhline(sweep.bound, color="black", linestyle="--", linewidth=1.2,
                 label=bound_label(sweep.bound))  # fmt: skip
    if data_returns is not None:
        left.axhline(float(np.max(data_returns)), color="0.5", linewidth=1,
                     label=f"largest return in the data ({np.max(data_returns):.1f})")  # fmt: skip
    left.set_yscale("log")
    left.set_title(f"largest Q on the data, learning rate {learning_rate:g} "
                   "(dotted: per-sync limit)", fontsize=10)  # fmt: skip
    right.set_yscale("log")
    right.set_title("mean |Q(s, a) - Monte-Carlo return|", fontsize=10)
    for ax in axes:
        ax.set_xlabel("gradient step")
        ax.grid(alpha=0.3)
    left.legend(loc="upper left", fontsize="x-small")
    return fig


def _log_edges(values: np.ndarray) -> np.ndarray:
    """Cell edges around ascending positive ``values``: geometric midpoints, ends mirrored."""
    logs = np.log(values)
    if len(logs) == 1:
        return np.exp(logs[0] + np.array([-0.5, 0.5]))
    mid = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mid[0]], mid, [2 * logs[-1] - mid[-1]]]))


def plot_stability_map(
    sweep: FixedDataSweep,
    *,
    highlight: tuple[float, int] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the largest Q each (learning rate, C) predicted, as a coloured grid.

    Cells above the bound are marked with a cross; the dashed diagonals are constant
    ``learning rate x C`` (how far Adam can move each weight between two syncs: its step is
    about the learning rate, whatever the gradient's size).

    Args:
        sweep: The :class:`FixedDataSweep`.
        highlight: One swept ``(learning_rate, C)`` to ring.
        ax: Axes to draw on; a new Figure if None.

    Returns:
        The Figure.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
    """
    fig, ax = figure_and_axes(ax, (6.0, 4.2))
    largest = sweep.largest()
    lrs, cs = np.array(sweep.learning_rates), np.array(sweep.periods, dtype=float)
    # log-log axes, each cell spanning halfway (in log) to its neighbours: then a constant
    # lr x C is a straight line
    x_edges, y_edges = _log_edges(lrs), _log_edges(cs)
    norm = LogNorm(vmin=max(largest.min(), 1e-2), vmax=max(largest.max(), 1e2))
    image = ax.pcolormesh(x_edges, y_edges, largest.T, cmap="viridis", norm=norm)
    fig.colorbar(image, ax=ax, label="largest Q on the data")
    ax.set_xscale("log")
    ax.set_yscale("log")
    above = np.argwhere(largest > sweep.bound)
    ax.scatter(lrs[above[:, 0]], cs[above[:, 1]], marker="x", color="white", s=40,
               label=f"above the bound ({bound_label(sweep.bound)})")  # fmt: skip
    xs = np.array([x_edges[0], x_edges[-1]])
    for product in (0.01, 0.1, 1.0):
        ax.plot(xs, product / xs, color="white", linestyle="--", linewidth=0.8)
        x = max(x_edges[0] * 1.05, product / (y_edges[-1] * 0.7))  # where it enters the map
        if x < x_edges[-1] and y_edges[0] < product / x:
            ax.annotate(f"lr x C = {product:g}", (x, product / x * 0.85), color="white",
                        fontsize=7, ha="left", va="top")  # fmt: skip
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    if highlight is not None:
        i, j = sweep.index(*highlight)
        ax.scatter([lrs[i]], [cs[j]], s=260, facecolors="none", edgecolors="red", linewidths=2)
    ax.set_xticks(lrs, [f"{x:g}" for x in lrs])
    ax.set_yticks(cs, [f"{c:g}" for c in cs])
    ax.minorticks_off()
    ax.set_xlabel("learning rate")
    ax.set_ylabel("sync period C (gradient steps)")
    ax.set_title(f"fixed data, {sweep.steps[-1]:,} gradient steps: largest Q", fontsize=10)
    ax.legend(loc="upper right", fontsize="x-small")
    return fig


class StabilityMapExplorer(Explorer):
    """Move over the stability map: pick a learning rate and a C, see that pair's curves.

    Nothing trains when a control moves: the sweep was computed beforehand. Left: the map
    with the chosen pair ringed; middle and right: :func:`plot_fixed_data_traces` for C = 1
    and the chosen C at the chosen learning rate.

    Attributes:
        sweep: The :class:`FixedDataSweep`.
        widget: The ``ipywidgets.VBox`` to display.
        controls: ``{"learning_rate", "C"}`` -> control widget.
    """

    def __init__(
        self, sweep: FixedDataSweep, *, start: tuple[float, int] | None = None, dpi: int = 72
    ) -> None:
        if not isinstance(sweep, FixedDataSweep):
            raise TypeError(f"sweep must be a FixedDataSweep, got {type(sweep).__name__}")
        self.sweep = sweep
        self.dpi = check_int("dpi", dpi, minimum=10)
        if start is None:
            start = (sweep.learning_rates[-1], sweep.periods[len(sweep.periods) // 2])
        i, j = sweep.index(*start)
        self.controls = {
            "learning_rate": widgets.SelectionSlider(
                options=[(f"{x:g}", x) for x in sweep.learning_rates],
                value=sweep.learning_rates[i], description="learning rate",
                continuous_update=True, style={"description_width": "100px"},
            ),
            "C": widgets.SelectionSlider(
                options=[(str(c), c) for c in sweep.periods], value=sweep.periods[j],
                description="sync period C", continuous_update=True,
                style={"description_width": "100px"},
            ),
        }  # fmt: skip
        self._start()

    def figure(self, learning_rate: float, C: int) -> Figure:
        """Return the picture for one swept ``(learning_rate, C)``."""
        i, j = self.sweep.index(learning_rate, C)
        fig, (left, middle, right) = new_figure(3, figsize=(15, 4.0))
        fig.set_dpi(self.dpi)
        plot_stability_map(self.sweep, highlight=(learning_rate, C), ax=left)
        periods = [1] if C == 1 else [1, C]
        plot_fixed_data_traces(self.sweep, learning_rate, periods=periods, axes=(middle, right))
        largest = self.sweep.max_q[i, j].max()
        fig.suptitle(
            f"learning rate {learning_rate:g}, C = {C}: lr x C = {learning_rate * C:.3g}; "
            f"largest Q {largest:.3g} ({'above' if largest > self.sweep.bound else 'below'} "
            f"the bound {self.sweep.bound:g})",
            fontsize=10,
        )
        return fig


def stability_map_explorer(sweep: FixedDataSweep, **kwargs) -> StabilityMapExplorer:
    """Build the Lesson 4 stability-map widget (``start=(learning_rate, C)``, ``dpi``).

    Raises:
        TypeError, ValueError: On a bad sweep or start pair (the message names it).
    """
    return StabilityMapExplorer(sweep, **kwargs)
