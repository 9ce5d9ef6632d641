"""One config per agent: which settings may differ inside one batch, and each agent's values.

:func:`utils.engine.train_many` trains agents whose configs differ (a sweep, or the arms of
an experiment) as one batch. Settings that fix array shapes or the steps at which every agent
updates (:data:`SHARED_FIELDS`) must agree; the rest become per-agent values here, chosen so
that agent ``k`` computes exactly what it would in a batch of its own config.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from utils.config import DQNConfig
from utils.schedules import LinearSchedule

SHARED_FIELDS = (
    "hidden_sizes",
    "batch_size",
    "buffer_size",
    "total_steps",
    "learning_starts",
    "train_frequency",
)
"""The :class:`~utils.config.DQNConfig` fields every agent of one batch must share: the network,
minibatch and buffer shapes, and the steps at which the agents update."""


def check_configs(config: DQNConfig | Sequence[DQNConfig], n_agents: int) -> list[DQNConfig]:
    """Return one validated config per agent, or raise naming the bad entry or field.

    Args:
        config: One :class:`~utils.config.DQNConfig` for every agent, or a sequence of
            ``n_agents`` of them, one per agent.
        n_agents: The number of agents (seeds).

    Raises:
        TypeError: If ``config`` is neither a config nor a sequence of configs.
        ValueError: If the sequence has the wrong length, a config is invalid, or a field of
            :data:`SHARED_FIELDS` differs between agents.
    """
    if isinstance(config, DQNConfig):
        return [config.validate()] * n_agents
    if isinstance(config, (str, bytes)) or not isinstance(config, Sequence):
        raise TypeError(
            f"config must be a DQNConfig or a sequence of them, got {type(config).__name__}"
        )
    if len(config) != n_agents:
        raise ValueError(f"config must hold one DQNConfig per seed ({n_agents}), got {len(config)}")
    for k, c in enumerate(config):
        if not isinstance(c, DQNConfig):
            raise TypeError(f"config[{k}] must be a DQNConfig, got {type(c).__name__}")
        c.validate()
    for name in SHARED_FIELDS:
        for k, c in enumerate(config):
            if getattr(c, name) != getattr(config[0], name):
                raise ValueError(
                    f"config[{k}].{name} = {getattr(c, name)!r} differs from config[0].{name} = "
                    f"{getattr(config[0], name)!r}: agents trained together must share "
                    f"{', '.join(SHARED_FIELDS)}; train the others in a separate call"
                )
    return list(config)


def _per_agent(values: list, as_tensor=None):
    """``values[0]`` if all agents agree, else ``as_tensor(values)`` (or the list itself)."""
    if all(v == values[0] for v in values):
        return values[0]
    return values if as_tensor is None else as_tensor(values)


class AgentSettings:
    """Each agent's settings in the form the training loop uses them.

    A setting all agents share stays a Python value (the uniform batch runs exactly the code it
    always ran); one that differs becomes an array or a ``(K, 1)`` tensor. Per-agent
    arithmetic is element-wise, so an agent's numbers do not depend on the others'.
    """

    def __init__(self, configs: list[DQNConfig], device: torch.device):
        self.configs = configs
        k = len(configs)

        def column(values, dtype=torch.float32):
            return torch.tensor(values, dtype=dtype, device=device)[:, None]

        schedules = [LinearSchedule(c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps)
                     for c in configs]  # fmt: skip
        self.schedules = list(dict.fromkeys(schedules))
        self.schedule_of = np.array([self.schedules.index(s) for s in schedules])
        self.gamma = _per_agent([c.gamma for c in configs], column)
        self.huber = _per_agent([c.loss == "huber" for c in configs], lambda v: column(v, bool))
        self.double_dqn = _per_agent([c.double_dqn for c in configs],
                                     lambda v: column(v, bool))  # fmt: skip
        scales = [c.reward_scale for c in configs]
        self.reward_scale = None if set(scales) == {1.0} else np.array(scales)
        norms = [c.max_grad_norm for c in configs]
        self.max_grad_norm = _per_agent(
            norms, lambda v: torch.tensor([np.inf if x is None else x for x in v], device=device)
        )
        schedules = [(c.learning_rate, c.learning_rate_end) for c in configs]
        self.lr_schedules = list(dict.fromkeys(schedules))
        self.lr_configs = [configs[schedules.index(key)] for key in self.lr_schedules]
        self.lr_of = [self.lr_schedules.index(key) for key in schedules]
        self.one_network = [c.target_update_period is None for c in configs]
        self.any_target = not all(self.one_network)
        # No target network is a hard copy after every step: the next update's targets then
        # come from the online network as it is (tested). Agents synced alike form one group.
        syncs = [(1, 1.0) if c.target_update_period is None else (c.target_update_period, c.tau)
                 for c in configs]  # fmt: skip
        self.sync_groups = [
            (period, tau, None if len(set(syncs)) == 1 else
             torch.tensor([i for i in range(k) if syncs[i] == (period, tau)], device=device))
            for period, tau in dict.fromkeys(syncs)
        ]  # fmt: skip
        self.any_eval = any(c.eval_every for c in configs)

    def epsilon(self, t: int) -> float | np.ndarray:
        """Return the exploration rate at step ``t``: one float, or ``(K,)`` per agent."""
        if len(self.schedules) == 1:
            return self.schedules[0](t)
        return np.array([s(t) for s in self.schedules])[self.schedule_of]

    def learning_rate_at(self, step: int) -> float | list[float]:
        """Return the step size at ``step``: one float, or a list of one per agent."""
        if len(self.lr_configs) == 1:
            return self.lr_configs[0].learning_rate_at(step)
        values = [c.learning_rate_at(step) for c in self.lr_configs]
        return [values[i] for i in self.lr_of]

    def evaluations_due(self, step: int, skip: dict) -> dict[int, list[int]]:
        """Return ``{episodes: agents}`` of the agents (not in ``skip``) to evaluate at ``step``."""
        due: dict[int, list[int]] = {}
        for k, c in enumerate(self.configs):
            if c.eval_every and step % c.eval_every == 0 and k not in skip:
                due.setdefault(c.eval_episodes, []).append(k)
        return due
