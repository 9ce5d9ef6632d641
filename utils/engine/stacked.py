"""K Q-networks as one: stacked weights, per-agent losses, clipping and a fused Adam."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from utils._checks import check_float, check_int
from utils.networks import QNetwork


class StackedQNetwork(nn.Module):
    """K independent :class:`~utils.networks.QNetwork` s evaluated and trained as one.

    Layer ``l`` keeps the weights of all K networks in one tensor ``(K, fan_out, fan_in)``
    (``nn.Linear``'s layout, so slice ``k`` is agent ``k``'s ``weight``) and the biases in
    ``(K, 1, fan_out)``: a forward pass is one batched matrix product per layer. No weight is
    shared: the gradient of agent ``k``'s loss only reaches slice ``k``.

    Shapes:
        ``forward``: ``(K, batch, obs_dim) -> (K, batch, n_actions)``.
    """

    def __init__(self, networks: Sequence[QNetwork]):
        super().__init__()
        if (
            isinstance(networks, (str, bytes))
            or not isinstance(networks, Sequence)
            or not networks
            or not all(isinstance(n, QNetwork) for n in networks)
        ):
            raise TypeError("networks must be a non-empty sequence of QNetwork")
        first = networks[0]
        shapes = {(n.obs_dim, n.n_actions, n.hidden_sizes) for n in networks}
        if len(shapes) != 1:
            raise ValueError(f"networks must share one architecture, got {sorted(shapes)}")
        self.obs_dim, self.n_actions = first.obs_dim, first.n_actions
        self.hidden_sizes = first.hidden_sizes
        self.n_agents = len(networks)
        per_net = [n.linears() for n in networks]
        n_layers = len(per_net[0])
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([layers[i].weight.detach() for layers in per_net]).clone())
            for i in range(n_layers)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([layers[i].bias.detach()[None] for layers in per_net]).clone())
            for i in range(n_layers)
        )

    def _layers(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        # Read the lists' current entries on every call: load_state_dict(assign=True) and
        # torch.func.functional_call swap them, so a cached list would go stale. Their dicts are
        # read because iterating a ParameterList costs more than the small products themselves.
        return zip(self.weights._parameters.values(), self.biases._parameters.values(), strict=True)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Return Q-values ``(K, batch, n_actions)`` for ``obs`` ``(K, batch, obs_dim)``."""
        if not isinstance(obs, torch.Tensor):
            raise TypeError(f"obs must be a torch.Tensor, got {type(obs).__name__}")
        if obs.dim() != 3 or obs.shape[0] != self.n_agents or obs.shape[2] != self.obs_dim:
            raise ValueError(
                f"obs must have shape (K={self.n_agents}, batch, obs_dim={self.obs_dim}), "
                f"got {tuple(obs.shape)}"
            )
        return self._forward(obs)

    def _forward(self, obs: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without the checks (the training loop's path)."""
        return _run_layers(obs, _layer_views(self))

    def network(self, k: int) -> QNetwork:
        """Return agent ``k`` as an ordinary :class:`QNetwork` on the CPU (a copy)."""
        check_int("k", k, minimum=0, maximum=self.n_agents - 1)
        net = QNetwork(self.obs_dim, self.n_actions, self.hidden_sizes)
        with torch.no_grad():
            for layer, (w, b) in zip(net.linears(), self._layers(), strict=True):
                layer.weight.copy_(w[k])
                layer.bias.copy_(b[k, 0])
        return net


Layers = list[tuple[torch.Tensor, torch.Tensor]]
"""Per layer ``(W^T, b)``: ``W^T`` ``(K, fan_in, fan_out)`` and ``b`` ``(K, 1, fan_out)``."""


def _layer_views(net: StackedQNetwork) -> Layers:
    """``net``'s layers as the products read them; views, so in-place updates show through."""
    return [(w.mT, b) for w, b in net._layers()]


def _run_layers(x: torch.Tensor, layers: Layers) -> torch.Tensor:
    """The stacked forward pass on ``layers`` (from :func:`_layer_views`), the one home of
    :meth:`StackedQNetwork.forward`'s arithmetic."""
    last = len(layers) - 1
    for i, (w_t, b) in enumerate(layers):
        # x @ W^T + b as nn.Linear computes it; autograd's backward then forms each weight
        # gradient as g^T @ x, with the long side last (MKL is slow on narrow products)
        x = torch.baddbmm(b, x, w_t)
        if i < last:
            x = torch.relu(x)
    return x


def _loss(q_taken: torch.Tensor, targets: torch.Tensor, huber: bool | torch.Tensor) -> torch.Tensor:
    """:func:`per_agent_loss` unchecked (the training loop's path): the same operations."""
    if huber is True:
        return F.smooth_l1_loss(q_taken, targets, reduction="none").mean(dim=-1)
    if huber is False:
        return F.mse_loss(q_taken, targets, reduction="none").mean(dim=-1)
    return torch.where(huber, _loss(q_taken, targets, True)[:, None],
                       _loss(q_taken, targets, False)[:, None])[:, 0]  # fmt: skip


def per_agent_loss(
    q_taken: torch.Tensor, targets: torch.Tensor, huber: bool | torch.Tensor
) -> torch.Tensor:
    """Each agent's TD loss ``(K,)``: :func:`~utils.dqn.q_loss`, Huber or squared per agent.

    Args:
        q_taken: ``(K, batch)`` Q-values of the actions taken.
        targets: ``(K, batch)`` TD targets.
        huber: True (Huber for all), False (squared error for all), or a ``(K, 1)`` bool
            tensor, True where an agent uses Huber (both are computed; each agent keeps its own).
    """
    if huber is not True and huber is not False:
        if not isinstance(huber, torch.Tensor) or huber.shape != (q_taken.shape[0], 1):
            raise ValueError(f"huber must be a bool or a ({q_taken.shape[0]}, 1) bool tensor")
    return _loss(q_taken, targets, huber)


def clip_per_agent(grads: list[torch.Tensor], max_norm: float | torch.Tensor) -> None:
    """Clip each agent's gradient (slice k of every stacked gradient) to ``max_norm``, in place.

    Same rule as ``torch.nn.utils.clip_grad_norm_`` applied to each agent on its own.
    ``max_norm`` may be a ``(K,)`` tensor, one bound per agent (``inf``: that agent unclipped).
    """
    if not isinstance(grads, list) or not all(isinstance(g, torch.Tensor) for g in grads):
        raise TypeError("grads must be a list of stacked gradient tensors (K, ...)")
    if isinstance(max_norm, torch.Tensor):
        if max_norm.shape != grads[0].shape[:1] or not bool((max_norm > 0).all()):
            raise ValueError(f"max_norm must be > 0, one per agent: shape {grads[0].shape[:1]}")
    else:
        max_norm = check_float("max_norm", max_norm, low=0.0, low_inclusive=False, finite=True)
    _clip(grads, max_norm)


def _clip(grads: list[torch.Tensor], max_norm: float | torch.Tensor) -> None:
    sq = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0)
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


class StackedAdam:
    """``torch.optim.Adam(fused=True)`` for the stacked networks: K Adams, each with its step size.

    The kernel ``torch.optim.adam.adam(..., fused=True)`` runs, with Adam's defaults, called
    directly: without ``Optimizer.step``'s per-call bookkeeping or the functional's regrouping
    of the tensors on every call (same numbers, tested). Adam is element-wise, so on stacked
    weights it is K independent Adams. Two things are arranged so that agent ``k`` gets the
    same numbers in any batch (tested):

    - the fused kernel rounds a tensor's last few elements (its scalar tail) differently from
      the vectorised rest, so a parameter whose per-agent size is not a multiple of 64 is
      passed as one tensor per agent, which puts each agent's elements in the same place
      whatever the batch;
    - agents with their own step sizes form groups of consecutive agents (``groups`` labels;
      default: equal ``lr``), one kernel call per group. Set a group's step size through
      :meth:`set_lr`.

    Args:
        params: Stacked parameters, each ``(K, ...)``.
        lr: The step size: one float, or one per agent.
        groups: One label per agent; consecutive agents with one label share a step size.
    """

    def __init__(
        self,
        params: list[torch.Tensor],
        lr: float | Sequence[float],
        groups: Sequence[object] | None = None,
    ):
        if (
            not isinstance(params, list)
            or not params
            or not all(isinstance(p, torch.Tensor) and p.dim() >= 1 for p in params)
        ):
            raise TypeError("params must be a non-empty list of stacked tensors (K, ...)")
        self.n_agents = params[0].shape[0]
        self.params = params
        self.shapes = [p.shape for p in params]
        self.exp_avgs = [torch.zeros_like(p) for p in params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in params]
        self.step_count = 0
        labels = self._lrs(lr) if groups is None else list(groups)
        if len(labels) != self.n_agents:
            raise ValueError(f"groups must hold one label per agent ({self.n_agents})")
        starts = [k for k in range(self.n_agents) if k == 0 or labels[k] != labels[k - 1]]
        self.slices = [slice(a, b) for a, b in zip(starts, [*starts[1:], self.n_agents],
                                                    strict=True)]  # fmt: skip
        self.whole = [p[0].numel() % 64 == 0 for p in params]
        self._state = [
            (self._split(params, agents), self._split(self.exp_avgs, agents),
             self._split(self.exp_avg_sqs, agents))
            for agents in self.slices
        ]  # fmt: skip
        # Adam's step count, one tensor read by the kernel for every tensor it updates (the
        # functional Adam keeps one per tensor and adds 1 to each: the same numbers).
        self._step = torch.zeros((), device=params[0].device)
        self._steps = [[self._step] * len(state[0]) for state in self._state]
        self.set_lr(lr)

    def _lrs(self, lr: float | Sequence[float]) -> list[float]:
        if isinstance(lr, (int, float)) and not isinstance(lr, bool):
            return [check_float("lr", lr, low=0.0, finite=True)] * self.n_agents
        if isinstance(lr, (str, bytes)) or not isinstance(lr, Sequence) or len(lr) != self.n_agents:
            raise TypeError(f"lr must be a float or a sequence of {self.n_agents} floats")
        return [check_float("lr[k]", x, low=0.0, finite=True) for x in lr]

    def _split(self, tensors: list[torch.Tensor], agents: slice) -> list[torch.Tensor]:
        """Agents ``agents`` of each tensor: one slice, or one view per agent (see above)."""
        out = []
        everyone = agents == slice(0, self.n_agents)
        for t, whole in zip(tensors, self.whole, strict=True):
            if whole:
                out.append(t if everyone else t[agents])
            else:  # one unbind is cheaper than K indexing operations
                out += t.unbind(0)[agents]
        return out

    def set_lr(self, lr: float | Sequence[float]) -> None:
        """Set the step size: one float, or one per agent (equal within each group)."""
        lrs = self._lrs(lr)
        self.lr = [lrs[agents.start] for agents in self.slices]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Take one Adam step with ``grads``, one per parameter, in the order of ``params``.

        A gradient in another memory layout than its parameter (a transposed view, say) is
        copied into the parameter's first: the kernel pairs elements by position in memory.
        """
        if not isinstance(grads, list) or [getattr(g, "shape", None) for g in grads] != self.shapes:
            raise ValueError(f"grads must be a list of tensors of the shapes {self.shapes}")
        grads = [g if g.stride() == p.stride() else torch.empty_like(p).copy_(g)
                 for g, p in zip(grads, self.params, strict=True)]  # fmt: skip
        self.step_count += 1
        self._step.add_(1)
        for agents, (params, exp_avgs, exp_avg_sqs), steps, lr in zip(
            self.slices, self._state, self._steps, self.lr, strict=True
        ):
            # The kernel ``torch.optim.adam.adam(..., fused=True)`` calls for CPU tensors, without
            # its per-call regrouping of the tensors by device and type (all are one here).
            torch._fused_adam_(
                params, self._split(grads, agents), exp_avgs, exp_avg_sqs, [], steps,
                amsgrad=False, beta1=0.9, beta2=0.999, lr=lr, weight_decay=0.0, eps=1e-8,
                maximize=False, grad_scale=None, found_inf=None,
            )  # fmt: skip
