"""Lesson 4's exercise: the target network's hard sync and soft (Polyak) update.

The checker builds a frozen target and an online QNetwork with different weights, calls the
learner's function and looks at the result: the target's values, whether it is still frozen,
whether it still owns its tensors, and whether the online network was left alone.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from utils.exercise import Exercise, Mistake, Verdict

__all__ = [
    "HARD_SYNC",
    "SOFT_SYNC",
    "SyncCase",
    "SyncOutcome",
    "check_hard_update",
    "check_soft_update",
]

# Signatures the learner fills in (both change `target_network` in place, return nothing):
#   hard_sync(target_network, q_network)          theta_bar <- theta
#   soft_sync(target_network, q_network, tau)     theta_bar <- tau * theta + (1 - tau) * theta_bar


@dataclass(frozen=True)
class SyncCase:
    """One input of the sync exercises: two networks built from ``seed`` (and a ``tau``).

    Attributes:
        seed: Seeds the networks' weights (online and target differ).
        hidden_sizes: Hidden layer widths of both networks.
        tau: Blend rate for the soft update; None for the hard sync.
    """

    seed: int
    hidden_sizes: tuple[int, ...]
    tau: float | None = None

    def __repr__(self) -> str:
        tau = "" if self.tau is None else f", tau={self.tau}"
        return f"a frozen target and an online QNetwork(4, 2, {self.hidden_sizes}){tau}"


@dataclass(frozen=True)
class SyncOutcome:
    """What a sync did to the two networks (compared by :func:`_sync_same`).

    Attributes:
        target: The target's parameters after the call, flattened into one array.
        online: The online network's parameters after the call, flattened.
        fraction: How far the target moved from its old weights towards the online ones
            (least squares: 0 = not at all, 1 = all the way), rounded to 3 decimals.
        requires_grad: Some target parameter requires a gradient (no longer frozen).
        shares_tensors: Some target parameter uses the online network's memory.
        replaced: The target's parameter objects are not the ones it had before.
        returned_module: The function returned a network instead of changing the target.
    """

    target: np.ndarray = field(repr=False)
    online: np.ndarray = field(repr=False)
    fraction: float
    requires_grad: bool
    shares_tensors: bool
    replaced: bool
    returned_module: bool

    def __repr__(self) -> str:
        flags = [
            f"target moved {self.fraction:.3f} of the way to the online weights",
            "target requires grad" if self.requires_grad else "target frozen",
            "shares the online tensors" if self.shares_tensors else "owns its tensors",
        ]
        if self.replaced:
            flags.append("parameter objects replaced")
        if self.returned_module:
            flags.append("returned a network")
        return "<" + "; ".join(flags) + ">"


def _flat(params: Any) -> np.ndarray:
    return np.concatenate([p.detach().reshape(-1).numpy().astype(float) for p in params])


def _run_sync(fn: Callable[..., Any], case: SyncCase) -> SyncOutcome:
    """Call ``fn`` on fresh networks for ``case`` and say what it did to them.

    The exercises' harness: the learner's function returns None by design, so what it did
    is the answer compared (a stub is found before this runs, by :meth:`Exercise.check`).
    """
    import torch

    from utils.networks import QNetwork

    torch.manual_seed(case.seed)
    online = QNetwork(4, 2, case.hidden_sizes)
    target = QNetwork(4, 2, case.hidden_sizes).requires_grad_(False)  # frozen, other weights
    old_params = list(target.parameters())
    old_target, old_online = _flat(old_params), _flat(online.parameters())
    args = (target, online) if case.tau is None else (target, online, case.tau)
    returned = fn(*args)
    new_params = list(target.parameters())
    new_target = _flat(new_params)
    direction = old_online - old_target
    fraction = float(np.dot(new_target - old_target, direction) / np.dot(direction, direction))
    online_ptrs = {p.data_ptr() for p in online.parameters()}
    return SyncOutcome(
        target=new_target,
        online=_flat(online.parameters()),
        fraction=round(fraction, 3),
        requires_grad=any(p.requires_grad for p in new_params),
        shares_tensors=any(p.data_ptr() in online_ptrs for p in new_params),
        replaced=len(new_params) != len(old_params)
        or any(a is not b for a, b in zip(new_params, old_params, strict=True)),
        returned_module=isinstance(returned, torch.nn.Module),
    )


def _sync_same(got: Any, expected: Any) -> bool:
    if not isinstance(got, SyncOutcome) or not isinstance(expected, SyncOutcome):
        return False
    flags = ("requires_grad", "shares_tensors", "replaced", "returned_module")
    return (
        all(getattr(got, f) == getattr(expected, f) for f in flags)
        and got.target.shape == expected.target.shape
        and bool(np.allclose(got.target, expected.target, rtol=1e-5, atol=1e-6))
        and bool(np.allclose(got.online, expected.online, rtol=1e-5, atol=1e-6))
    )


def _harness(fn: Callable[..., Any]) -> Callable[[SyncCase], SyncOutcome]:
    return functools.partial(_run_sync, fn)


# Reference answers and typical mistakes; `t` is a target parameter, `o` the online one.


def _hard_reference(target_network, q_network):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.copy_(o)


def _hard_no_grad_forgotten(target_network, q_network):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t.copy_(o)


def _hard_share_data(target_network, q_network):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t.data = o.data


def _hard_share_parameters(target_network, q_network):
    for t_layer, o_layer in zip(target_network.linears(), q_network.linears(), strict=True):
        t_layer.weight, t_layer.bias = o_layer.weight, o_layer.bias


def _hard_new_parameters(target_network, q_network):
    import torch

    for t_layer, o_layer in zip(target_network.linears(), q_network.linears(), strict=True):
        t_layer.weight = torch.nn.Parameter(o_layer.weight.detach().clone())
        t_layer.bias = torch.nn.Parameter(o_layer.bias.detach().clone())


def _hard_rebind(target_network, q_network):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t = o.detach().clone()  # noqa: F841 - the mistake: only the local name changes


def _hard_return_copy(target_network, q_network):
    return copy.deepcopy(q_network)


def _hard_wrong_way(target_network, q_network):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            o.copy_(t)


_HARD_SOLUTION = """\
def hard_sync(target_network, q_network):
    with torch.no_grad():  # a copy is not part of any loss: keep autograd out of it
        for t, o in zip(target_network.parameters(), q_network.parameters()):
            t.copy_(o)  # in place: the target keeps its own (frozen) tensors"""

_NO_GRAD_HINT = (
    "the target now requires a gradient: copying from parameters that require one, outside "
    "`torch.no_grad()`, ties the frozen network to the online network's graph. Do the update "
    "inside `with torch.no_grad():`."
)
_SHARED_HINT = (
    "the target now shares its tensors with the online network, so it is no longer frozen: "
    "every optimiser step would move it too, and you are back to one network. Copy the "
    "numbers into the target's own tensors: `t.copy_(o)`."
)
_REBIND_HINT = (
    "assigning to a loop variable (or to the argument) only renames something inside your "
    "function; the network the training loop holds does not change. Change the target's "
    "tensors in place, e.g. `t.copy_(...)`."
)
_RETURN_HINT = (
    "the training loop keeps using its own `target_network` object and ignores what you "
    "return: change that object's tensors in place instead."
)
_WRONG_WAY_HINT = (
    "the online network changed: the first argument `target_network` is the one that receives "
    "the values (`t.copy_(o)`, not `o.copy_(t)`)."
)

HARD_SYNC = Exercise(
    name="hard_sync",
    reference=_hard_reference,
    cases=((SyncCase(0, (8,)),), (SyncCase(1, (5, 3)),), (SyncCase(2, ()),)),
    mistakes=(
        Mistake("forgot `torch.no_grad()`", _NO_GRAD_HINT, _hard_no_grad_forgotten),
        Mistake(
            "made the target share the online network's tensors",
            _SHARED_HINT,
            _hard_share_data,
        ),
        Mistake(
            "put the online network's own parameters into the target",
            _SHARED_HINT,
            _hard_share_parameters,
        ),
        Mistake(
            "replaced the target's parameters by new ones",
            "new `nn.Parameter` objects require a gradient again (the target is no longer "
            "frozen) and are not the tensors the rest of the code holds: copy into the "
            "existing ones with `t.copy_(o)` under `torch.no_grad()`.",
            _hard_new_parameters,
        ),
        Mistake("rebound a name instead of changing the target", _REBIND_HINT, _hard_rebind),
        Mistake(
            "returned a new network instead of changing the target",
            _RETURN_HINT,
            _hard_return_copy,
        ),
        Mistake("copied the wrong way (target into online)", _WRONG_WAY_HINT, _hard_wrong_way),
    ),
    hint="inside `with torch.no_grad():`, loop over zip(target_network.parameters(), "
    "q_network.parameters()) and copy each online tensor into the target's, in place.",
    solution=_HARD_SOLUTION,
    compare=_sync_same,
    harness=_harness,
)


def _soft_reference(target_network, q_network, tau):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.mul_(1.0 - tau).add_(tau * o)


def _soft_tau_backwards(target_network, q_network, tau):
    _soft_reference(target_network, q_network, 1.0 - tau)


def _soft_no_grad_forgotten(target_network, q_network, tau):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t.mul_(1.0 - tau).add_(tau * o)


def _soft_ignores_tau(target_network, q_network, tau):
    _hard_reference(target_network, q_network)


def _soft_no_decay(target_network, q_network, tau):
    import torch

    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
            t.add_(tau * o)


def _soft_rebind(target_network, q_network, tau):
    for t, o in zip(target_network.parameters(), q_network.parameters(), strict=True):
        t = tau * o.detach() + (1.0 - tau) * t  # the mistake: only a local name changes


def _soft_return_new(target_network, q_network, tau):
    new = copy.deepcopy(target_network)
    _soft_reference(new, q_network, tau)
    return new


def _soft_wrong_way(target_network, q_network, tau):
    _soft_reference(q_network, target_network, tau)


_SOFT_SOLUTION = """\
def soft_sync(target_network, q_network, tau):
    with torch.no_grad():
        for t, o in zip(target_network.parameters(), q_network.parameters()):
            t.mul_(1 - tau).add_(tau * o)  # theta_bar <- (1 - tau) theta_bar + tau theta
            # (the same in one call: t.lerp_(o, tau))"""

SOFT_SYNC = Exercise(
    name="soft_sync",
    reference=_soft_reference,
    cases=((SyncCase(0, (8,), 0.1),), (SyncCase(1, (5, 3), 0.25),), (SyncCase(2, (), 1.0),)),
    mistakes=(
        Mistake(
            "put tau on the wrong side (tau * theta_bar + (1 - tau) * theta)",
            "tau is the weight of the *online* network: with a small tau (say 0.005) the "
            "target moves only a little towards it: "
            "theta_bar <- tau * theta + (1 - tau) * theta_bar.",
            _soft_tau_backwards,
        ),
        Mistake("forgot `torch.no_grad()`", _NO_GRAD_HINT, _soft_no_grad_forgotten),
        Mistake(
            "copied the online weights, ignoring tau",
            "that is the hard sync; the soft update moves the target only the fraction tau of "
            "the way: theta_bar <- tau * theta + (1 - tau) * theta_bar.",
            _soft_ignores_tau,
        ),
        Mistake(
            "added tau * theta without shrinking theta_bar",
            "the new target is a weighted *average*: multiply the old target by (1 - tau) "
            "before adding tau * theta, so the weights add up to 1.",
            _soft_no_decay,
        ),
        Mistake("rebound a name instead of changing the target", _REBIND_HINT, _soft_rebind),
        Mistake(
            "returned a new network instead of changing the target",
            _RETURN_HINT,
            _soft_return_new,
        ),
        Mistake(
            "updated the wrong network (online towards target)",
            _WRONG_WAY_HINT,
            _soft_wrong_way,
        ),
    ),
    hint="inside `with torch.no_grad():`, for each pair of tensors set "
    "t <- (1 - tau) * t + tau * o in place (`t.mul_(1 - tau).add_(tau * o)` or `t.lerp_(o, tau)`).",
    solution=_SOFT_SOLUTION,
    compare=_sync_same,
    harness=_harness,
)


def check_hard_update(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 4 exercise: the hard sync ``theta_bar <- theta``.

    Args:
        fn: The learner's ``hard_sync(target_network, q_network)``; it must copy every
            parameter of ``q_network`` into ``target_network`` in place, leaving the target
            frozen (``requires_grad`` False), owning its own tensors, and ``q_network``
            unchanged. It returns nothing.

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return HARD_SYNC.check(fn)


def check_soft_update(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 4 exercise: the soft (Polyak) update.

    Args:
        fn: The learner's ``soft_sync(target_network, q_network, tau)``; it must set every
            target parameter to ``tau * theta + (1 - tau) * theta_bar`` in place, leaving
            the target frozen, owning its own tensors, and ``q_network`` unchanged. It
            returns nothing.

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return SOFT_SYNC.check(fn)
