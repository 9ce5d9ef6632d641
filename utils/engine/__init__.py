"""The fast engine: many DQN agents trained at once, off the path a learner reads.

:func:`train_many` trains K seeds of the agent :func:`utils.train.train` defines, with one
config or one config per seed, as one batched computation: stacked networks
(:class:`StackedQNetwork`) trained by autograd and a fused Adam per agent, replay
indices drawn for all agents in one NumPy computation, NumPy-vectorised CartPoles, and a fast
greedy evaluation. Agent ``k`` is the reference trainer's agent for ``seeds[k]`` (tested).

The core modules (``dqn``, ``train``, ``networks``, ``replay``, ...) never import this
package; it imports them.
"""

from utils.engine.many import (
    AUTO_THREADS_MIN_AGENTS,
    DEVICE_ENV_VAR,
    TERMINAL_FLAGS,
    auto_threads,
    default_device,
    targets,
    train_many,
)
from utils.engine.settings import SHARED_FIELDS, check_configs
from utils.engine.stacked import StackedAdam, StackedQNetwork, clip_per_agent, per_agent_loss
from utils.engine.vector_envs import (
    CartPoles,
    SyncEnvs,
    evaluate_greedy_many,
    is_plain_cartpole,
    make_envs,
)

__all__ = [
    "AUTO_THREADS_MIN_AGENTS",
    "DEVICE_ENV_VAR",
    "SHARED_FIELDS",
    "TERMINAL_FLAGS",
    "CartPoles",
    "StackedAdam",
    "StackedQNetwork",
    "SyncEnvs",
    "auto_threads",
    "check_configs",
    "clip_per_agent",
    "default_device",
    "evaluate_greedy_many",
    "is_plain_cartpole",
    "make_envs",
    "per_agent_loss",
    "targets",
    "train_many",
]
