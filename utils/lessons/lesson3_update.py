"""Lesson 3's second exercise: one update of the single network, checked against the reference.

:func:`check_update_step` runs the learner's update step three times on fixed batches and
compares the network's weights and the returned losses with :func:`solution_update_step`,
naming the typical mistakes: no or flipped terminal mask, gradient through the target, max
over the wrong axis, Q(s) instead of Q(s'), no ``zero_grad``, ...
:func:`solution_update_step` is the solution the notebook folds away (its solution cell is
this function's source; a test keeps them equal).
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from utils.exercise import Exercise, Mistake, Verdict
from utils.networks import QNetwork

__all__ = [
    "UPDATE_STEP",
    "UpdateCase",
    "UpdateOutcome",
    "check_update_step",
    "solution_update_step",
]


def solution_update_step(q_network, optimizer, batch, gamma):
    obs, actions, rewards, next_obs, terminated = batch
    with torch.no_grad():  # the target is a label: no gradient may flow into it
        best_next = q_network(next_obs).max(dim=1).values  # max over actions, (batch,)
        y = rewards + gamma * (1 - terminated) * best_next
    q_taken = q_network(obs).gather(1, actions[:, None]).squeeze(1)  # Q(s, a), (batch,)
    loss = ((q_taken - y) ** 2).mean()  # squared TD error, averaged over the batch
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


# --------------------------------------------------------------------------------------
# The update step checker
# --------------------------------------------------------------------------------------
# Signature the learner fills in (changes q_network through the optimizer):
#   update_step(q_network, optimizer, batch, gamma) -> float (the loss)
# batch = (obs, actions, rewards, next_obs, terminated) tensors, as the buffer samples them.


@dataclass(frozen=True)
class UpdateCase:
    """One input: a fresh QNetwork(4, 3, (16,)) and Adam, three batches of 3, a gamma."""

    seed: int
    gamma: float

    def __repr__(self) -> str:
        return f"three updates of QNetwork(4, 3, (16,)) with Adam, gamma={self.gamma}"


@dataclass(frozen=True)
class UpdateOutcome:
    """The losses returned by three updates and the weights after each."""

    losses: tuple[float, ...]
    weights: tuple[np.ndarray, ...] = field(repr=False)

    def __repr__(self) -> str:
        return "<losses " + ", ".join(f"{x:.4g}" for x in self.losses) + ">"


def _batches(seed: int) -> list[tuple[torch.Tensor, ...]]:
    # batch size 3 = n_actions, so a max over the wrong axis still broadcasts and is named;
    # every batch holds a terminal and a non-terminal transition
    g = torch.Generator().manual_seed(1000 + seed)
    out = []
    for k in range(3):
        terminated = torch.zeros(3)
        terminated[(seed + k) % 3] = 1.0
        out.append((
            torch.randn(3, 4, generator=g),
            torch.randint(0, 3, (3,), generator=g),
            torch.tensor([1.0, -0.5, 2.0]).roll(k),
            torch.randn(3, 4, generator=g),
            terminated,
        ))  # fmt: skip
    return out


def _run_update(fn: Callable[..., Any], case: UpdateCase) -> UpdateOutcome | None:
    """Run ``fn`` three times on fresh inputs for ``case`` and return what it did.

    The exercise's harness (a stub is found before this runs, by :meth:`Exercise.check`).
    """
    torch.manual_seed(case.seed)
    q_network = QNetwork(4, 3, (16,))
    optimizer = torch.optim.Adam(q_network.parameters(), lr=0.01)
    losses, weights = [], []
    for batch in _batches(case.seed):
        with warnings.catch_warnings():  # a broadcasting mistake warns; the verdict says it
            warnings.simplefilter("ignore")
            loss = fn(q_network, optimizer, batch, case.gamma)
        if loss is None:
            return None
        losses.append(float(loss.detach() if isinstance(loss, torch.Tensor) else loss))
        weights.append(torch.cat([p.detach().flatten() for p in q_network.parameters()]).numpy())
    return UpdateOutcome(tuple(losses), tuple(weights))


def _update_same(got: Any, expected: Any) -> bool:
    if not isinstance(got, UpdateOutcome) or not isinstance(expected, UpdateOutcome):
        return False
    # the squared error or half of it (the 1/2 of section 1): Adam takes the same steps
    losses_ok = any(
        np.allclose(got.losses, factor * np.array(expected.losses), rtol=1e-4, atol=1e-6)
        for factor in (1.0, 0.5)
    )
    return losses_ok and all(
        g.shape == e.shape and np.allclose(g, e, rtol=1e-4, atol=1e-5)
        for g, e in zip(got.weights, expected.weights, strict=True)
    )


def _harness(fn: Callable[..., Any]) -> Callable[[UpdateCase], UpdateOutcome | None]:
    return functools.partial(_run_update, fn)


def _correct_target(q, obs, r, next_obs, t, g):
    return r + g * (1 - t) * q(next_obs).max(dim=1).values


def _variant(*, target=_correct_target, grad=False, taken=None, loss=None, zero=True, step=True):
    """An update step with one piece swapped for a mistake (the defaults are correct).

    ``target(q_network, obs, rewards, next_obs, terminated, gamma)`` runs under no_grad unless
    ``grad``; ``taken(q_all, actions)`` picks the prediction.
    """

    def update(q_network, optimizer, batch, gamma):
        obs, actions, rewards, next_obs, terminated = batch
        with torch.set_grad_enabled(grad):
            y = target(q_network, obs, rewards, next_obs, terminated, gamma)
        q_all = q_network(obs)
        q_taken = q_all.gather(1, actions[:, None]).squeeze(1) if taken is None else (
            taken(q_all, actions))  # fmt: skip
        value = ((q_taken - y) ** 2).mean() if loss is None else loss(q_taken, y)
        if zero:
            optimizer.zero_grad()
        value.backward()
        if step:
            optimizer.step()
        return value.item()

    return update


def _no_mask(q, obs, r, next_obs, t, g):
    return r + g * q(next_obs).max(dim=1).values


def _flipped_mask(q, obs, r, next_obs, t, g):
    return r + g * t * q(next_obs).max(dim=1).values


def _batch_axis(q, obs, r, next_obs, t, g):
    return r + g * (1 - t) * q(next_obs).max(dim=0).values


def _from_obs(q, obs, r, next_obs, t, g):
    return r + g * (1 - t) * q(obs).max(dim=1).values


def _mean_next(q, obs, r, next_obs, t, g):
    return r + g * (1 - t) * q(next_obs).mean(dim=1)


def _no_gamma(q, obs, r, next_obs, t, g):
    return r + (1 - t) * q(next_obs).max(dim=1).values


def _best_taken(q_all, actions):
    return q_all.max(dim=1).values


def _summed(q_taken, y):
    return ((q_taken - y) ** 2).sum()


# the solution text shown is the tested function's own source, named as in the notebook's stub
_UPDATE_SOLUTION = (
    inspect.getsource(solution_update_step)
    .replace("def solution_update_step(", "def update_step(", 1)
    .rstrip("\n")
)

_MASK = "(1 - terminated)"
_MISTAKES = (
    ("forgot the terminal mask", _variant(target=_no_mask),
     f"where terminated is 1, s' has no future and y is just r: multiply the bootstrap term "
     f"by {_MASK}."),
    ("flipped the mask", _variant(target=_flipped_mask),
     f"the bootstrap term must vanish where terminated is 1: {_MASK}, not terminated."),
    ("let the gradient flow through the target", _variant(grad=True),
     "compute y under `with torch.no_grad():` (or detach it): otherwise the optimiser also "
     "pushes the target towards the prediction, and that is not Q-learning."),
    ("took the max over the batch axis", _variant(target=_batch_axis),
     "q_network(next_obs) has shape (batch, n_actions): the best next action is a max over "
     "actions, dim=1, not over the batch (dim=0)."),
    ("computed the target from Q(s) instead of Q(s')", _variant(target=_from_obs),
     "the target bootstraps from the *next* state: q_network(next_obs), not q_network(obs)."),
    ("averaged over the next actions", _variant(target=_mean_next),
     "Q-learning bootstraps from the best next action: max, not mean."),
    ("forgot gamma", _variant(target=_no_gamma),
     "the next state's value is discounted: gamma * max_a' Q(s', a')."),
    ("used max_a Q(s, a) as the prediction instead of the action taken",
     _variant(taken=_best_taken),
     "the loss compares y with the value of the action that was *taken*: "
     "q_network(obs).gather(1, actions[:, None]).squeeze(1)."),
    ("used the Huber loss", _variant(loss=F.smooth_l1_loss),
     "this lesson uses the squared error derived in section 1: ((q_taken - y) ** 2).mean()."),
    ("summed the squared errors instead of averaging them", _variant(loss=_summed),
     "average over the batch (`.mean()`), so the loss does not grow with the batch size."),
    ("forgot optimizer.zero_grad()", _variant(zero=False),
     "gradients add up in `.grad` from call to call: clear them with optimizer.zero_grad() "
     "before loss.backward()."),
    ("forgot optimizer.step()", _variant(step=False),
     "loss.backward() only computes the gradients; optimizer.step() changes the weights."),
)  # fmt: skip

UPDATE_STEP = Exercise(
    name="update_step",
    reference=solution_update_step,
    cases=((UpdateCase(0, 0.9),), (UpdateCase(1, 0.5),)),
    mistakes=tuple(Mistake(name, hint, fn) for name, fn, hint in _MISTAKES),
    hint="y = rewards + gamma * (1 - terminated) * q_network(next_obs).max(dim=1).values "
    "under torch.no_grad(); the prediction is Q(s, a) of the actions taken; loss = mean "
    "squared difference; then zero_grad, backward, step; return loss.item().",
    solution=_UPDATE_SOLUTION,
    compare=_update_same,
    harness=_harness,
)
"""The update-step exercise (its reference is :func:`solution_update_step`)."""


def check_update_step(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 3 exercise: one single-network update on a sampled batch.

    ``fn(q_network, optimizer, batch, gamma)`` gets ``batch = (obs, actions, rewards,
    next_obs, terminated)`` tensors (shapes ``(batch, obs_dim)``, ``(batch,)``, ...). It must
    compute ``y = r + gamma * (1 - terminated) * max_a' Q(s', a')`` with the same network and
    no gradient, the mean squared error between ``Q(s, a)`` and ``y`` (half of it is accepted),
    take one optimiser step (zero_grad, backward, step) and return the loss as a float. It is
    run three times from the same start as the reference and the weights compared after each.
    Prints a friendly verdict and returns it.

    Args:
        fn: The learner's function.

    Returns:
        A :class:`~utils.exercise.Verdict`.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return UPDATE_STEP.check(fn)
