"""K Q-networks as one: stacked weights, a written-out backward pass, and a lean fused Adam."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from utils._checks import check_choice, check_float, check_int
from utils.config import LOSSES
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
        return self._forward_with_inputs(obs)[0]

    def _forward_with_inputs(self, obs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the Q-values and each layer's input (``obs``, then the ReLU outputs).

        The inputs are what :meth:`_parameter_grads` needs to run the backward pass. Shapes as
        :meth:`forward` (not checked here: this is the training loop's fast path).
        """
        inputs, x = [], obs
        layers = list(self._layers())
        last = len(layers) - 1
        for i, (w, b) in enumerate(layers):
            inputs.append(x)
            x = torch.baddbmm(b, x, w.mT)  # x @ W^T + b, as nn.Linear
            if i < last:
                x = torch.relu(x)
        return x, inputs

    @torch.no_grad()
    def _parameter_grads(
        self, inputs: list[torch.Tensor], grad_q: torch.Tensor
    ) -> list[torch.Tensor]:
        """Backpropagate ``grad_q`` (the loss's gradient at the Q-values) to every parameter.

        The products autograd's backward of :meth:`forward` runs, without the autograd engine's
        per-operation bookkeeping, which for networks this small costs more than the products.
        Each weight gradient is computed with its longer side last: MKL's batched product is
        several times slower when the result is only a few columns wide.

        Args:
            inputs: The layer inputs from :meth:`_forward_with_inputs`.
            grad_q: ``(K, batch, n_actions)`` gradient of the loss with respect to the output.

        Returns:
            Gradients in the order of ``parameters()``: all weights, then all biases.
        """
        weights = [w for w, _ in self._layers()]
        g, grad_w, grad_b = grad_q, [], []
        for i in range(len(weights) - 1, -1, -1):
            w, x = weights[i], inputs[i]
            if w.shape[1] > w.shape[2]:  # fan_out > fan_in: compute the transpose, then copy
                grad_w.append(x.mT.bmm(g).mT.contiguous())
            else:
                grad_w.append(g.mT.bmm(x))
            grad_b.append(g.sum(1, keepdim=True))
            if i > 0:  # back through layer i's weights, then the ReLU that made its input
                g = torch.ops.aten.threshold_backward(g.bmm(w), x, 0)
        return grad_w[::-1] + grad_b[::-1]

    def network(self, k: int) -> QNetwork:
        """Return agent ``k`` as an ordinary :class:`QNetwork` on the CPU (a copy)."""
        check_int("k", k, minimum=0, maximum=self.n_agents - 1)
        net = QNetwork(self.obs_dim, self.n_actions, self.hidden_sizes)
        with torch.no_grad():
            for layer, (w, b) in zip(net.linears(), self._layers(), strict=True):
                layer.weight.copy_(w[k])
                layer.bias.copy_(b[k, 0])
        return net


def _huber_mask(loss: str | Sequence[str], n_agents: int) -> bool | torch.Tensor:
    """``loss`` as True (all Huber), False (all squared error) or a ``(K, 1)`` Huber mask."""
    if isinstance(loss, str):
        return check_choice("loss", loss, LOSSES) == "huber"
    if not isinstance(loss, Sequence) or len(loss) != n_agents:
        raise ValueError(f"loss must be one of {LOSSES} or a sequence of {n_agents} of them")
    huber = [check_choice("loss[k]", name, LOSSES) == "huber" for name in loss]
    return huber[0] if len(set(huber)) == 1 else torch.tensor(huber)[:, None]


@torch.no_grad()
def loss_and_grads(
    net: StackedQNetwork,
    obs: torch.Tensor,
    actions: torch.Tensor,
    targets: torch.Tensor,
    loss: str | Sequence[str],
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """TD loss per agent, Q-values, and the gradient of the summed loss for the stacked MLP.

    What ``torch.autograd.grad(q_loss(...).sum(), net.parameters())`` returns (tested),
    written out: with K agents the autograd engine's bookkeeping cost a third of an update.
    Agent k's loss only involves slice k, so the gradient of the sum is each agent's own.

    Args:
        net: The stacked online networks.
        obs: ``(K, batch, obs_dim)`` observations.
        actions: ``(K, batch)`` int64 actions taken.
        targets: ``(K, batch)`` TD targets (no gradient).
        loss: ``'huber'`` or ``'mse'``, or one of them per agent.

    Returns:
        ``(loss_per_agent (K,), q_all (K, batch, n_actions), grads)``; ``grads`` in the order
        of ``net.parameters()``.
    """
    if not isinstance(net, StackedQNetwork):
        raise TypeError(f"net must be a StackedQNetwork, got {type(net).__name__}")
    for name, value in (("obs", obs), ("actions", actions), ("targets", targets)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    k = net.n_agents
    if obs.dim() != 3 or obs.shape[0] != k or obs.shape[2] != net.obs_dim:
        raise ValueError(f"obs must have shape ({k}, batch, {net.obs_dim}), got {tuple(obs.shape)}")
    if actions.shape != obs.shape[:2] or actions.dtype != torch.int64:
        raise ValueError(
            f"actions must be int64 of shape {tuple(obs.shape[:2])}, got {actions.dtype} "
            f"{tuple(actions.shape)}"
        )
    huber = _huber_mask(loss, k)
    d_mean = torch.ones(actions.shape) / actions.shape[1]
    return _loss_and_grads(net, obs, actions[..., None], targets, huber, d_mean)


def _loss_and_grads(
    net: StackedQNetwork,
    obs: torch.Tensor,
    index: torch.Tensor,
    targets: torch.Tensor,
    huber: bool | torch.Tensor,
    d_mean: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """:func:`loss_and_grads` without the checks: the training loop's fast path.

    ``index`` is the actions ``(K, batch, 1)``, ``huber`` as :func:`_huber_mask` returns it,
    and ``d_mean`` ``(K, batch)`` holds ``1 / batch``: the gradient of each agent's mean loss
    at each sample's loss.
    """
    q_all, inputs = net._forward_with_inputs(obs)
    q_taken = q_all.gather(2, index).squeeze(2)
    if huber is True or huber is False:
        kind = "smooth_l1" if huber else "mse"
        per_sample = getattr(F, f"{kind}_loss")(q_taken, targets, reduction="none")
        g = _loss_backward(kind, d_mean, q_taken, targets)
    else:  # some agents use each loss: compute both, keep each agent's own
        per_sample = torch.where(
            huber,
            F.smooth_l1_loss(q_taken, targets, reduction="none"),
            F.mse_loss(q_taken, targets, reduction="none"),
        )
        g = torch.where(
            huber,
            _loss_backward("smooth_l1", d_mean, q_taken, targets),
            _loss_backward("mse", d_mean, q_taken, targets),
        )
    grad_q = torch.zeros_like(q_all).scatter_add_(2, index, g[..., None])  # taken action only
    return per_sample.mean(-1), q_all, net._parameter_grads(inputs, grad_q)


def _loss_backward(kind: str, d_mean, q_taken, targets) -> torch.Tensor:
    """The gradient of the per-sample loss ``kind`` scaled by ``d_mean`` (autograd's kernel)."""
    if kind == "smooth_l1":
        return torch.ops.aten.smooth_l1_loss_backward(d_mean, q_taken, targets, 0, 1.0)
    return torch.ops.aten.mse_loss_backward(d_mean, q_taken, targets, 0)


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
    """Adam for the stacked networks: K independent Adams, one per slice, each with its step size.

    ``torch.optim.Adam``'s update (betas 0.9 and 0.999, eps 1e-8, no weight decay) written as
    one arithmetic operation per kernel, over all parameters at once (``torch._foreach_*``).
    A fused kernel rounds the last few elements of a tensor differently from the rest (its
    vectorised body contracts multiply-adds, its scalar tail does not), so an agent's weights
    would depend on how many agents share its batch; single operations round the same
    wherever an element sits, so agent ``k`` gets the same numbers in any batch (tested).
    Equal to ``torch.optim.Adam`` up to rounding (tested).

    Args:
        params: Stacked parameters, each ``(K, ...)``.
        lr: The step size: one float for all agents, or one per agent.
    """

    betas = (0.9, 0.999)
    eps = 1e-8

    def __init__(self, params: list[torch.Tensor], lr: float | Sequence[float]):
        if not isinstance(params, list) or not all(isinstance(p, torch.Tensor) for p in params):
            raise TypeError("params must be a list of tensors")
        self.params = params
        self.shapes = [p.shape for p in params]
        self.exp_avgs = [torch.zeros_like(p) for p in params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in params]
        self.step_count = 0
        self.set_lr(lr)

    def set_lr(self, lr: float | Sequence[float]) -> None:
        """Set the step size: one float, or one per agent (a sequence of K floats)."""
        if isinstance(lr, (int, float)):
            self.lr = check_float("lr", lr, low=0.0, finite=True)
            return
        n_agents = self.shapes[0][0] if self.shapes and len(self.shapes[0]) else 1
        if isinstance(lr, (str, bytes)) or not isinstance(lr, Sequence) or len(lr) != n_agents:
            raise TypeError(f"lr must be a float or a sequence of {n_agents} floats, got {lr!r}")
        values = [check_float("lr[k]", x, low=0.0, finite=True) for x in lr]
        # float64, so that lr / correction rounds as the Python float of a shared lr does
        self.lr = torch.tensor(values, dtype=torch.float64, device=self.params[0].device)

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Take one Adam step with ``grads``, one per parameter, in the order of ``params``."""
        if not isinstance(grads, list) or [getattr(g, "shape", None) for g in grads] != self.shapes:
            raise ValueError(f"grads must be a list of tensors of the shapes {self.shapes}")
        beta1, beta2 = self.betas
        self.step_count += 1
        m, v = self.exp_avgs, self.exp_avg_sqs
        torch._foreach_mul_(m, beta1)  # m <- beta1 m + (1 - beta1) g
        torch._foreach_add_(m, torch._foreach_mul(grads, 1 - beta1))
        squares = torch._foreach_mul(grads, grads)  # v <- beta2 v + (1 - beta2) g^2
        torch._foreach_mul_(squares, 1 - beta2)
        torch._foreach_mul_(v, beta2)
        torch._foreach_add_(v, squares)
        denom = torch._foreach_sqrt(v)  # sqrt(v / (1 - beta2^t)) + eps
        torch._foreach_div_(denom, math.sqrt(1 - beta2**self.step_count))
        torch._foreach_add_(denom, self.eps)
        update = torch._foreach_div(m, denom)
        correction = 1 - beta1**self.step_count
        if isinstance(self.lr, float):
            torch._foreach_mul_(update, self.lr / correction)
        else:  # each agent's step size scales its slice
            step_size = (self.lr / correction).to(self.params[0].dtype)
            torch._foreach_mul_(update, [step_size.view(-1, *[1] * (u.dim() - 1)) for u in update])
        torch._foreach_sub_(self.params, update)
