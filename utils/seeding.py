"""One helper seeds every random number generator the course uses."""

from __future__ import annotations

import random

import numpy as np
import torch

from utils._checks import check_int, check_seed


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


def spawn_rngs(seed: int, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent NumPy generators from one seed (one per source of randomness).

    A trainer that explores with one generator and samples its replay buffer with another
    gets the same exploration whatever the sampling does, and vice versa.

    Args:
        seed: An integer in [0, 2**32 - 1].
        n: Number of generators (>= 1).
    """
    seed = check_seed("seed", seed)
    n = check_int("n", n, minimum=1)
    return [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(n)]


def episode_seeds(seed: int, episodes: int) -> list[int]:
    """Return one reset seed per evaluation episode, all derived from ``seed``.

    The first ``m`` of ``episode_seeds(seed, n)`` are ``episode_seeds(seed, m)``, so a longer
    evaluation starts with the same episodes as a shorter one.

    Args:
        seed: An integer in [0, 2**32 - 1].
        episodes: Number of episodes (>= 1).
    """
    seed = check_seed("seed", seed)
    episodes = check_int("episodes", episodes, minimum=1)
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(episodes)]
