"""One helper seeds every random number generator the course uses."""

from __future__ import annotations

import random

import numpy as np
import torch

from utils._checks import check_seed


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and PyTorch.

    Environments are seeded separately, through ``env.reset(seed=...)`` (see
    :func:`utils.envs.make_env`), because Gymnasium keeps its own generator per env.
    The same seed then gives the same numbers on the same machine.

    Args:
        seed: An integer in [0, 2**32 - 1].

    Raises:
        TypeError: If ``seed`` is not an integer.
        ValueError: If ``seed`` is out of range.
    """
    seed = check_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - learners' own np.random calls should repeat too
    torch.manual_seed(seed)


def make_rng(seed: int) -> np.random.Generator:
    """Return a NumPy generator for ``seed``: the course's source of exploration noise."""
    return np.random.default_rng(check_seed("seed", seed))
