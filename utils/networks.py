"""The Q-network: a state goes in, the Q-values of all actions come out, in one forward pass."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from utils._checks import check_int


def _check_sizes(obs_dim: int, n_actions: int, hidden_sizes: Sequence[int]) -> tuple[int, ...]:
    check_int("obs_dim", obs_dim, minimum=1)
    check_int("n_actions", n_actions, minimum=1)
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise TypeError(f"hidden_sizes must be a sequence of ints, got {hidden_sizes!r}")
    return tuple(check_int("hidden_sizes[i]", h, minimum=1) for h in hidden_sizes)


class QNetwork(nn.Module):
    """A multilayer perceptron ``obs -> Q(obs, .)`` with ReLU between linear layers.

    With ``hidden_sizes=()`` it is a single linear layer: on one-hot states that is exactly a
    Q-table (row ``s`` of the table is column ``s`` of the weight matrix).

    Args:
        obs_dim: Size of the (flat) observation.
        n_actions: Number of discrete actions.
        hidden_sizes: Width of each hidden layer, e.g. ``(128, 128)``; ``()`` for linear.

    Shapes:
        ``forward``: ``(batch, obs_dim) -> (batch, n_actions)``.
    """

    def __init__(self, obs_dim: int, n_actions: int, hidden_sizes: Sequence[int] = (128, 128)):
        super().__init__()
        hidden = _check_sizes(obs_dim, n_actions, hidden_sizes)
        self.obs_dim, self.n_actions, self.hidden_sizes = obs_dim, n_actions, hidden
        sizes = (obs_dim, *hidden, n_actions)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(fan_in, fan_out))
        self.layers = nn.Sequential(*layers)
        self._linears = [m for m in self.layers if isinstance(m, nn.Linear)]

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Return all actions' Q-values ``(batch, n_actions)`` for ``obs`` ``(batch, obs_dim)``."""
        # The same arithmetic as calling the layers, without the per-module call overhead,
        # which on networks this small costs more than the matrix products (about 3x).
        x = obs
        last = len(self._linears) - 1
        for i, layer in enumerate(self._linears):
            x = F.linear(x, layer.weight, layer.bias)
            if i < last:
                x = torch.relu(x)
        return x

    def linears(self) -> list[nn.Linear]:
        """Return the linear layers, input side first."""
        return list(self._linears)


class StackedQNetwork(nn.Module):
    """K independent :class:`QNetwork` s evaluated and trained as one batched computation.

    Layer ``l`` keeps the weights of all K networks in one tensor ``(K, fan_in, fan_out)``, so a
    forward pass is one batched matrix product per layer. No weight is shared: the gradient of
    agent ``k``'s loss only reaches slice ``k``.

    Shapes:
        ``forward``: ``(K, batch, obs_dim) -> (K, batch, n_actions)``.
    """

    def __init__(self, networks: Sequence[QNetwork]):
        super().__init__()
        if not networks or not all(isinstance(n, QNetwork) for n in networks):
            raise TypeError("networks must be a non-empty sequence of QNetwork")
        first = networks[0]
        shapes = {(n.obs_dim, n.n_actions, n.hidden_sizes) for n in networks}
        if len(shapes) != 1:
            raise ValueError(f"networks must share one architecture, got {sorted(shapes)}")
        self.obs_dim, self.n_actions, self.hidden_sizes = (
            first.obs_dim,
            first.n_actions,
            first.hidden_sizes,
        )
        self.n_agents = len(networks)
        per_net = [n.linears() for n in networks]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([layers[i].weight.detach().T for layers in per_net]).clone())
            for i in range(len(per_net[0]))
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([layers[i].bias.detach()[None] for layers in per_net]).clone())
            for i in range(len(per_net[0]))
        )

        # Plain list of the same Parameter objects: iterating a ParameterList costs more than
        # the small matrix products themselves. (deepcopy and .to() keep the pairing.)
        self._layers = list(zip(self.weights, self.biases, strict=True))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Return Q-values ``(K, batch, n_actions)`` for ``obs`` ``(K, batch, obs_dim)``."""
        return self.forward_with_inputs(obs)[0]

    def forward_with_inputs(self, obs: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the Q-values and each layer's input (``obs``, then the ReLU outputs).

        The inputs are what :meth:`parameter_grads` needs to run the backward pass.
        """
        inputs, x = [], obs
        last = len(self._layers) - 1
        for i, (w, b) in enumerate(self._layers):
            inputs.append(x)
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = torch.relu(x)
        return x, inputs

    @torch.no_grad()
    def parameter_grads(
        self, inputs: list[torch.Tensor], grad_q: torch.Tensor
    ) -> list[torch.Tensor]:
        """Backpropagate ``grad_q`` (the loss's gradient at the Q-values) to every parameter.

        The kernels autograd's backward of :meth:`forward` runs, in the same order, so the
        result equals ``torch.autograd.grad`` exactly (tested) without the autograd engine's
        per-operation bookkeeping, which for networks this small costs more than the products.

        Args:
            inputs: The layer inputs from :meth:`forward_with_inputs`.
            grad_q: ``(K, batch, n_actions)`` gradient of the loss with respect to the output.

        Returns:
            Gradients in the order of ``parameters()``: all weights, then all biases.
        """
        g, grad_w, grad_b = grad_q, [], []
        for i in range(len(self._layers) - 1, -1, -1):
            grad_w.append(inputs[i].transpose(1, 2).bmm(g))
            grad_b.append(g.sum(1, keepdim=True))
            if i > 0:  # back through layer i's weights, then the ReLU that made its input
                g = g.bmm(self._layers[i][0].transpose(1, 2))
                g = torch.ops.aten.threshold_backward(g, inputs[i], 0)
        return grad_w[::-1] + grad_b[::-1]

    def network(self, k: int) -> QNetwork:
        """Return agent ``k`` as an ordinary :class:`QNetwork` (a copy of its weights)."""
        check_int("k", k, minimum=0, maximum=self.n_agents - 1)
        net = QNetwork(self.obs_dim, self.n_actions, self.hidden_sizes)
        with torch.no_grad():
            for layer, w, b in zip(net.linears(), self.weights, self.biases, strict=True):
                layer.weight.copy_(w[k].T)
                layer.bias.copy_(b[k, 0])
        return net
