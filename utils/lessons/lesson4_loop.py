"""Lesson 4 exercise: the learner writes the DQN, in three checked pieces.

- ``epsilon_greedy(q_network, obs, epsilon, rng) -> int``: :func:`check_epsilon_greedy`
- ``dqn_loss(q_network, target_network, batch, gamma, loss) -> scalar tensor``: the target
  from the frozen network with the terminal mask, and the loss: :func:`check_dqn_loss`
- ``train_dqn(env, config, seed) -> (q_network, target_network, buffer, evaluations)``: the
  loop in CleanRL's shape (act, store, sample, learn, sync every C, evaluate):
  :func:`check_train_dqn` (in :mod:`utils.lessons.lesson4_loop_check`, re-exported here),
  which runs it briefly on a CartPole whose episodes are cut after a few steps and looks at
  what it stored and synced.

:data:`SOLUTIONS` holds the solution text of each piece (the notebook folds the same text in
a ``<details>`` block; a test checks they agree); :func:`solution_pieces` compiles it, so the
lesson can train with the solution where a piece is not done yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from utils.exercise import Exercise, Mistake, Verdict
from utils.lessons.lesson4_loop_check import check_train_dqn
from utils.networks import QNetwork
from utils.replay import Batch

__all__ = [
    "DQN_LOSS",
    "EPSILON_GREEDY",
    "SOLUTIONS",
    "check_dqn_loss",
    "check_epsilon_greedy",
    "check_train_dqn",
    "solution_pieces",
]

SOLUTIONS = {
    "epsilon_greedy": """\
def epsilon_greedy(q_network, obs, epsilon, rng):
    if rng.random() < epsilon:  # explore: a uniformly random action
        return int(rng.integers(q_network.n_actions))
    with torch.no_grad():  # acting is not learning: no graph
        return int(q_network(torch.as_tensor(obs)).argmax())""",
    "dqn_loss": """\
def dqn_loss(q_network, target_network, batch, gamma, loss):
    with torch.no_grad():  # the label: from the frozen network, no gradient through it
        next_q = target_network(batch.next_obs).max(dim=1).values
        y = batch.rewards + gamma * (1 - batch.terminated) * next_q
    q_taken = q_network(batch.obs).gather(1, batch.actions[:, None]).squeeze(1)
    if loss == "huber":
        return torch.nn.functional.smooth_l1_loss(q_taken, y)
    return torch.nn.functional.mse_loss(q_taken, y)""",
    "train_dqn": """\
def train_dqn(env, config, seed):
    rng = make_rng(seed)  # exploration and replay sampling
    torch.manual_seed(seed)  # the network's first weights
    obs_dim, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    q_network = QNetwork(obs_dim, n_actions, config.hidden_sizes)
    target_network = make_target_network(q_network)  # frozen copy, theta_bar = theta
    optimizer = torch.optim.Adam(q_network.parameters(), lr=config.learning_rate)
    buffer = ReplayBuffer(config.buffer_size, obs_dim)
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps)
    evaluations = []  # (step, mean greedy return)
    obs, _ = env.reset(seed=seed)
    for global_step in range(1, config.total_steps + 1):
        # act, and store the transition: terminated (never truncated) masks the target
        action = epsilon_greedy(q_network, obs, epsilon(global_step - 1), rng)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, next_obs, terminated)
        obs = next_obs
        if terminated or truncated:  # either ends the episode
            obs, _ = env.reset()
        # learn: one gradient step on a random minibatch
        if global_step > config.learning_starts:
            batch = buffer.sample(config.batch_size, rng)
            loss = dqn_loss(q_network, target_network, batch, config.gamma, config.loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            optimizer.param_groups[0]["lr"] = config.learning_rate_at(global_step)
        # sync every C steps
        if global_step % config.target_update_period == 0:
            sync(target_network, q_network)
        # evaluate the greedy policy now and then; stop at the first mean >= solved_return
        if config.eval_every and global_step % config.eval_every == 0:
            mean = evaluate_greedy(env.spec.id, q_network, config.eval_episodes, seed).mean()
            evaluations.append((global_step, mean))
            if config.stop_when_solved and mean >= config.solved_return:
                break
    return q_network, target_network, buffer, evaluations""",
}


def solution_pieces(namespace: Mapping[str, Any]) -> dict[str, Callable[..., Any]]:
    """Compile :data:`SOLUTIONS` in a copy of ``namespace`` and return the three functions.

    Args:
        namespace: The notebook's globals: the solution uses the names the lesson defined
            (``ReplayBuffer``, ``make_target_network``, ``sync``, ``make_rng``, ...).

    Returns:
        ``{"epsilon_greedy": fn, "dqn_loss": fn, "train_dqn": fn}``, calling each other.

    Raises:
        TypeError: If ``namespace`` is not a mapping.
    """
    if not isinstance(namespace, Mapping):
        raise TypeError(f"namespace must be a mapping (e.g. globals()), got {type(namespace)}")
    scope = dict(namespace)
    for name, source in SOLUTIONS.items():
        exec(compile(source, f"<solution {name}>", "exec"), scope)
    return {name: scope[name] for name in SOLUTIONS}


# --------------------------------------------------------------------------------------
# epsilon_greedy: judged by what it does over many calls, not by how it draws its numbers
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActCase:
    """An input of the epsilon-greedy check: a network from ``seed``, one state, ``epsilon``."""

    seed: int
    epsilon: float
    calls: int = 600

    def __repr__(self) -> str:
        return f"a QNetwork(4, 2), one CartPole state, epsilon={self.epsilon}"


@dataclass(frozen=True)
class ActOutcome:
    """What an epsilon-greedy function did over ``ActCase.calls`` calls."""

    greedy_share: float
    all_ints: bool
    in_range: bool

    def __repr__(self) -> str:
        kind = "ints" if self.all_ints else "not plain ints"
        return f"<greedy action {self.greedy_share:.0%} of the time; returned {kind}>"


def _run_act(fn: Callable[..., Any], case: ActCase) -> ActOutcome | None:
    # the exercise's harness: a stub is found before this runs, by Exercise.check
    torch.manual_seed(case.seed)
    net = QNetwork(4, 2, (8,))
    obs = np.random.default_rng(case.seed).normal(size=4).astype(np.float32)
    with torch.no_grad():
        greedy = int(net(torch.from_numpy(obs)).argmax())
    rng = np.random.default_rng(case.seed + 100)
    actions = [fn(net, obs, case.epsilon, rng) for _ in range(case.calls)]
    if any(a is None for a in actions):
        return None
    ints = all(isinstance(a, int) and not isinstance(a, bool) for a in actions)
    values = [int(a) if np.ndim(a) == 0 else -1 for a in actions]
    return ActOutcome(
        greedy_share=float(np.mean([v == greedy for v in values])),
        all_ints=ints,
        in_range=all(v in (0, 1) for v in values),
    )


def _act_same(got: Any, expected: Any) -> bool:
    return (
        isinstance(got, ActOutcome)
        and isinstance(expected, ActOutcome)
        and got.all_ints == expected.all_ints
        and got.in_range == expected.in_range
        and abs(got.greedy_share - expected.greedy_share) < 0.08
    )


def _act_reference(q_network, obs, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(q_network.n_actions))
    with torch.no_grad():
        return int(q_network(torch.as_tensor(obs)).argmax())


def _act_inverted(q_network, obs, epsilon, rng):
    return _act_reference(q_network, obs, 1 - epsilon, rng)


def _act_argmin(q_network, obs, epsilon, rng):
    if rng.random() < epsilon:
        return int(rng.integers(q_network.n_actions))
    with torch.no_grad():
        return int(q_network(torch.as_tensor(obs)).argmin())


def _act_tensor(q_network, obs, epsilon, rng):
    if rng.random() < epsilon:
        return torch.tensor(int(rng.integers(q_network.n_actions)))
    with torch.no_grad():
        return q_network(torch.as_tensor(obs)).argmax()


def _act_never_explores(q_network, obs, epsilon, rng):
    return _act_reference(q_network, obs, 0.0, rng)


def _act_harness(fn: Callable[..., Any]) -> Callable[[ActCase], ActOutcome | None]:
    return functools.partial(_run_act, fn)


EPSILON_GREEDY = Exercise(
    name="epsilon_greedy",
    reference=_act_reference,
    cases=((ActCase(0, 0.0),), (ActCase(1, 1.0),), (ActCase(2, 0.3),)),
    mistakes=(
        Mistake(
            "explored with probability 1 - epsilon",
            "epsilon is the probability of a *random* action: explore when "
            "`rng.random() < epsilon`, act greedily otherwise.",
            _act_inverted,
        ),
        Mistake(
            "took the action with the smallest Q-value",
            "greedy means the action with the *largest* Q-value: `argmax`.",
            _act_argmin,
        ),
        Mistake(
            "returned a tensor instead of an int",
            "`env.step` and the buffer want a plain Python int: wrap the result in `int(...)`.",
            _act_tensor,
        ),
        Mistake(
            "never explored",
            "with probability epsilon the action must be uniformly random "
            "(`rng.integers(n_actions)`), whatever the network says.",
            _act_never_explores,
        ),
    ),
    hint="with probability epsilon return `int(rng.integers(n_actions))`; otherwise "
    "`int(q_network(torch.as_tensor(obs)).argmax())` (under `torch.no_grad()`).",
    solution=SOLUTIONS["epsilon_greedy"],
    compare=_act_same,
    harness=_act_harness,
)


def check_epsilon_greedy(fn: Callable[..., Any]) -> Verdict:
    """Check ``epsilon_greedy(q_network, obs, epsilon, rng) -> int``; print and return a verdict.

    Judged over many calls: the greedy action's share must be about ``1 - epsilon / 2``
    (two actions), and every answer a plain ``int``.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return EPSILON_GREEDY.check(fn)


# --------------------------------------------------------------------------------------
# dqn_loss: the value and the gradient it gives the online network
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LossCase:
    """An input of the loss check: two different networks, a minibatch, gamma and the loss."""

    seed: int
    loss: str
    gamma: float = 0.99

    def __repr__(self) -> str:
        return (
            f"an online and a different frozen QNetwork(4, 2), a minibatch of 16 with some "
            f"terminated transitions, gamma={self.gamma}, loss={self.loss!r}"
        )


@dataclass(frozen=True)
class LossOutcome:
    """The loss value, the online network's gradient, and whether the target got one."""

    value: float
    grad: np.ndarray
    target_grad: bool

    def __repr__(self) -> str:
        return f"<loss {self.value:.5g}{'; gradient reached the target' * self.target_grad}>"


def _loss_inputs(case: LossCase) -> tuple[QNetwork, QNetwork, Batch]:
    torch.manual_seed(case.seed)
    online = QNetwork(4, 2, (8,))
    target = QNetwork(4, 2, (8,))
    with torch.no_grad():  # a target that predicts values of the size DQN meets
        target.linears()[-1].bias.add_(torch.tensor([5.0, 7.0]))
    target.requires_grad_(False)
    rng = np.random.default_rng(case.seed)
    batch = Batch(
        obs=torch.tensor(rng.normal(size=(16, 4)), dtype=torch.float32),
        actions=torch.tensor(rng.integers(2, size=16)),
        rewards=torch.ones(16),
        next_obs=torch.tensor(rng.normal(size=(16, 4)), dtype=torch.float32),
        terminated=torch.tensor(np.arange(16) % 4 == 0, dtype=torch.float32),
    )
    return online, target, batch


def _run_loss(fn: Callable[..., Any], case: LossCase) -> LossOutcome | None:
    # the exercise's harness: a stub is found before this runs, by Exercise.check
    online, target, batch = _loss_inputs(case)
    loss = fn(online, target, batch, case.gamma, case.loss)
    if loss is None:
        return None
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1 or not loss.requires_grad:
        raise TypeError(
            "dqn_loss must return a one-element tensor that requires a gradient "
            f"(the loss to call .backward() on), got {type(loss).__name__}"
            + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
        )
    params = list(online.parameters()) + list(target.parameters())
    for p in params:
        p.requires_grad_(True)
    loss.reshape(()).backward()
    grad = np.concatenate([p.grad.reshape(-1).numpy() for p in online.parameters()])
    return LossOutcome(
        value=float(loss.detach()),
        grad=grad,
        target_grad=any(p.grad is not None and bool(p.grad.any()) for p in target.parameters()),
    )


def _loss_same(got: Any, expected: Any) -> bool:
    return (
        isinstance(got, LossOutcome)
        and isinstance(expected, LossOutcome)
        and got.target_grad == expected.target_grad
        and bool(np.isclose(got.value, expected.value, rtol=1e-4, atol=1e-6))
        and bool(np.allclose(got.grad, expected.grad, rtol=1e-3, atol=1e-6))
    )


def _loss_variant(*, net="target", mask="terminated", loss_name=None, grad_target=False,
                  next_state=True):  # fmt: skip
    """A (possibly wrong) dqn_loss: where the label comes from and how it is masked."""

    def fn(q_network, target_network, batch, gamma, loss):
        labeller = target_network if net == "target" else q_network
        with torch.enable_grad() if grad_target else torch.no_grad():
            states = batch.next_obs if next_state else batch.obs
            next_q = labeller(states).max(dim=1).values
            keep = {"terminated": 1 - batch.terminated, "none": 1.0, "inverted": batch.terminated}
            y = batch.rewards + gamma * keep[mask] * next_q
        q_taken = q_network(batch.obs).gather(1, batch.actions[:, None]).squeeze(1)
        kind = loss if loss_name is None else loss_name
        if kind == "huber":
            return torch.nn.functional.smooth_l1_loss(q_taken, y)
        return torch.nn.functional.mse_loss(q_taken, y)

    return fn


def _loss_harness(fn: Callable[..., Any]) -> Callable[[LossCase], LossOutcome | None]:
    return functools.partial(_run_loss, fn)


DQN_LOSS = Exercise(
    name="dqn_loss",
    reference=_loss_variant(),
    cases=((LossCase(0, "mse"),), (LossCase(1, "huber"),), (LossCase(2, "mse", 0.9),)),
    mistakes=(
        Mistake(
            "forgot the terminal mask",
            "a terminated transition has no future: its label is just r. Multiply the "
            "bootstrap term by `(1 - batch.terminated)`.",
            _loss_variant(mask="none"),
        ),
        Mistake(
            "masked the wrong transitions (terminated instead of 1 - terminated)",
            "the future counts where the episode goes on: `(1 - batch.terminated)`.",
            _loss_variant(mask="inverted"),
        ),
        Mistake(
            "computed the label with the online network (one network again)",
            "the label comes from the frozen copy: `target_network(batch.next_obs)`.",
            _loss_variant(net="online"),
        ),
        Mistake(
            "let the gradient flow through the label (and took it from the online network)",
            "compute the label from `target_network` inside `with torch.no_grad():`: it is a "
            "fixed number to regress onto, not something to move.",
            _loss_variant(net="online", grad_target=True),
        ),
        Mistake(
            "used Q(s, .) instead of Q(s', .) in the label",
            "the bootstrap term looks one step ahead: `batch.next_obs`, not `batch.obs`.",
            _loss_variant(next_state=False),
        ),
        Mistake(
            "ignored the `loss` argument (always the squared error)",
            "'huber' is `torch.nn.functional.smooth_l1_loss`, 'mse' is "
            "`torch.nn.functional.mse_loss`.",
            _loss_variant(loss_name="mse"),
        ),
        Mistake(
            "ignored the `loss` argument (always Huber)",
            "'huber' is `torch.nn.functional.smooth_l1_loss`, 'mse' is "
            "`torch.nn.functional.mse_loss`.",
            _loss_variant(loss_name="huber"),
        ),
    ),
    hint="y = r + gamma * (1 - terminated) * max_a' Q_target(s', a') under torch.no_grad(); "
    "Q(s, a) = q_network(obs).gather(1, actions[:, None]).squeeze(1); then the loss named by "
    "`loss` between them.",
    solution=SOLUTIONS["dqn_loss"],
    compare=_loss_same,
    harness=_loss_harness,
)


def check_dqn_loss(fn: Callable[..., Any]) -> Verdict:
    """Check ``dqn_loss(q_network, target_network, batch, gamma, loss)``; print the verdict.

    Compared with the reference by its value and by the gradient it gives the online network.

    Raises:
        TypeError: If ``fn`` is not callable.
    """
    return DQN_LOSS.check(fn)
