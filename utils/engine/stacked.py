"""K Q-networks as one: stacked weights, a written-out backward pass, and a lean fused Adam."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.optim.adam import adam as adam_update

from utils._checks import check_choice, check_float, check_int
from utils.config import LOSSES
from utils.dqn import q_loss
from utils.networks import QNetwork


class StackedQNetwork(nn.Module):
    """K independent :class:`~utils.networks.QNetwork` s evaluated and trained as one.

    Layer ``l`` keeps the weights of all K networks in one tensor ``(K, fan_in, fan_out)``, so a
    forward pass is one batched matrix product per layer. No weight is shared: the gradient of
    agent ``k``'s loss only reaches slice ``k``.

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
            nn.Parameter(torch.stack([layers[i].weight.detach().T for layers in per_net]).clone())
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
        for i, (w, b) in enumerate(layers):
            inputs.append(x)
            x = torch.baddbmm(b, x, w)
            if i < len(layers) - 1:
                x = torch.relu(x)
        return x, inputs

    @torch.no_grad()
    def _parameter_grads(
        self, inputs: list[torch.Tensor], grad_q: torch.Tensor
    ) -> list[torch.Tensor]:
        """Backpropagate ``grad_q`` (the loss's gradient at the Q-values) to every parameter.

        The kernels autograd's backward of :meth:`forward` runs, in the same order, so the
        result equals ``torch.autograd.grad`` exactly (tested) without the autograd engine's
        per-operation bookkeeping, which for networks this small costs more than the products.

        Args:
            inputs: The layer inputs from :meth:`_forward_with_inputs`.
            grad_q: ``(K, batch, n_actions)`` gradient of the loss with respect to the output.

        Returns:
            Gradients in the order of ``parameters()``: all weights, then all biases.
        """
        weights = [w for w, _ in self._layers()]
        g, grad_w, grad_b = grad_q, [], []
        for i in range(len(weights) - 1, -1, -1):
            grad_w.append(inputs[i].transpose(1, 2).bmm(g))
            grad_b.append(g.sum(1, keepdim=True))
            if i > 0:  # back through layer i's weights, then the ReLU that made its input
                g = g.bmm(weights[i].transpose(1, 2))
                g = torch.ops.aten.threshold_backward(g, inputs[i], 0)
        return grad_w[::-1] + grad_b[::-1]

    def network(self, k: int) -> QNetwork:
        """Return agent ``k`` as an ordinary :class:`QNetwork` on the CPU (a copy)."""
        check_int("k", k, minimum=0, maximum=self.n_agents - 1)
        net = QNetwork(self.obs_dim, self.n_actions, self.hidden_sizes)
        with torch.no_grad():
            for layer, (w, b) in zip(net.linears(), self._layers(), strict=True):
                layer.weight.copy_(w[k].T)
                layer.bias.copy_(b[k, 0])
        return net


@torch.no_grad()
def loss_and_grads(
    net: StackedQNetwork,
    obs: torch.Tensor,
    actions: torch.Tensor,
    targets: torch.Tensor,
    loss: str,
) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """TD loss per agent, Q-values, and the gradient of the summed loss for the stacked MLP.

    Exactly what ``torch.autograd.grad(q_loss(...).sum(), net.parameters())`` returns (tested),
    written out: with K agents the autograd engine's bookkeeping cost a third of an update.
    Agent k's loss only involves slice k, so the gradient of the sum is each agent's own.

    Args:
        net: The stacked online networks.
        obs: ``(K, batch, obs_dim)`` observations.
        actions: ``(K, batch)`` int64 actions taken.
        targets: ``(K, batch)`` TD targets (no gradient).
        loss: ``'huber'`` or ``'mse'``.

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
    check_choice("loss", loss, LOSSES)
    q_all, inputs = net._forward_with_inputs(obs)
    index = actions[..., None]
    q_taken = q_all.gather(2, index).squeeze(2)
    loss_per_agent = q_loss(q_taken, targets, loss)
    # d(sum of per-agent means)/d(q_taken) = loss'(q_taken - targets) / batch
    d_mean = torch.ones_like(q_taken) / q_taken.shape[-1]
    if loss == "huber":
        g = torch.ops.aten.smooth_l1_loss_backward(d_mean, q_taken, targets, 0, 1.0)
    else:
        g = torch.ops.aten.mse_loss_backward(d_mean, q_taken, targets, 0)
    grad_q = torch.zeros_like(q_all).scatter_add_(2, index, g[..., None])  # taken action only
    return loss_per_agent, q_all, net._parameter_grads(inputs, grad_q)


def clip_per_agent(grads: list[torch.Tensor], max_norm: float) -> None:
    """Clip each agent's gradient (slice k of every stacked gradient) to ``max_norm``, in place.

    Same rule as ``torch.nn.utils.clip_grad_norm_`` applied to each agent on its own.
    """
    if not isinstance(grads, list) or not all(isinstance(g, torch.Tensor) for g in grads):
        raise TypeError("grads must be a list of stacked gradient tensors (K, ...)")
    max_norm = check_float("max_norm", max_norm, low=0.0, low_inclusive=False, finite=True)
    sq = torch.stack([g.pow(2).flatten(1).sum(1) for g in grads]).sum(0)
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))


class StackedAdam:
    """``torch.optim.Adam(params, lr, fused=True)`` for the stacked networks, without the wrapper.

    The same functional ``torch.optim.adam.adam`` call with the same fused kernel, defaults and
    state, so the numbers are identical (tested); only ``Optimizer.step``'s per-call
    bookkeeping (hooks, profiler ranges, state lookups) is skipped, which costs more than the
    update itself when it runs 50,000 times. ``param_groups[0]["lr"]`` sets the step size.
    Adam is element-wise, so on stacked weights it is K independent Adams.
    """

    def __init__(self, params: list[torch.Tensor], lr: float):
        if not isinstance(params, list) or not all(isinstance(p, torch.Tensor) for p in params):
            raise TypeError("params must be a list of tensors")
        lr = check_float("lr", lr, low=0.0, low_inclusive=False, finite=True)
        self.params = params
        self.shapes = [p.shape for p in params]
        self.param_groups = [{"lr": lr}]
        self.exp_avgs = [torch.zeros_like(p) for p in params]
        self.exp_avg_sqs = [torch.zeros_like(p) for p in params]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        """Take one Adam step with ``grads``, one per parameter, in the order of ``params``."""
        if not isinstance(grads, list) or [getattr(g, "shape", None) for g in grads] != self.shapes:
            raise ValueError(f"grads must be a list of tensors of the shapes {self.shapes}")
        adam_update(
            self.params, grads, self.exp_avgs, self.exp_avg_sqs, [], self.steps, fused=True,
            amsgrad=False, beta1=0.9, beta2=0.999, lr=self.param_groups[0]["lr"],
            weight_decay=0.0, eps=1e-8, maximize=False,
        )  # fmt: skip
