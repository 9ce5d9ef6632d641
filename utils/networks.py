"""The Q-network: a state goes in, the Q-values of all actions come out, in one forward pass.

Also the two torch settings that keep such small networks fast on a CPU
(:func:`torch_threads`, :func:`flush_denormal`).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from utils._checks import check_int


def check_sizes(obs_dim: int, n_actions: int, hidden_sizes: Sequence[int]) -> tuple[int, ...]:
    """Check a Q-network's sizes; return ``hidden_sizes`` as a tuple of ints.

    Raises:
        TypeError: If a size is not an integer or ``hidden_sizes`` is not a sequence.
        ValueError: If a size is below 1.
    """
    check_int("obs_dim", obs_dim, minimum=1)
    check_int("n_actions", n_actions, minimum=1)
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise TypeError(
            f"hidden_sizes must be a sequence of ints such as (64, 64), got {hidden_sizes!r}"
        )
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
        hidden = check_sizes(obs_dim, n_actions, hidden_sizes)
        self.obs_dim, self.n_actions, self.hidden_sizes = obs_dim, n_actions, hidden
        sizes = (obs_dim, *hidden, n_actions)
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            if i > 0:
                layers.append(nn.ReLU())
            layers.append(nn.Linear(fan_in, fan_out))
        self.layers = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Return all actions' Q-values ``(batch, n_actions)`` for ``obs`` ``(batch, obs_dim)``.

        ``obs`` may also be one observation ``(obs_dim,)`` (giving ``(n_actions,)``). The
        layers run as :attr:`layers` holds them: that ``nn.Sequential`` is the network.
        """
        if not isinstance(obs, torch.Tensor):
            raise TypeError(f"obs must be a torch.Tensor, got {type(obs).__name__}")
        if obs.dim() == 0 or obs.shape[-1] != self.obs_dim:
            raise ValueError(f"obs must have shape (batch, {self.obs_dim}), got {tuple(obs.shape)}")
        return self.layers(obs)

    def linears(self) -> list[nn.Linear]:
        """Return the linear layers, input side first."""
        return [m for m in self.layers if isinstance(m, nn.Linear)]


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the previous setting.

    The course's networks are tiny: one thread is faster than several (threads cost more to
    wake than the work they share), and on a busy 2-core machine extra threads only fight.

    Raises:
        TypeError, ValueError: If ``threads`` is not an integer >= 1.
    """
    check_int("threads", threads, minimum=1)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def flush_denormal() -> Iterator[None]:
    """Run the block with denormal floats treated as zero (PyTorch's default restored after).

    Adam keeps a running mean of squared gradients; for weights whose gradient is almost
    always zero (a ReLU unit that never fires) it decays below 1e-38, into the denormal range,
    which the CPU handles in slow microcode: on this course's networks that made Adam's step
    about 5x slower. Flushing them changes no weight: such an update is ``m / (sqrt(v) + 1e-8)``
    with ``m`` just as tiny, far below a float32 weight's resolution.
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)
