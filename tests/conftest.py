"""Shared test settings (headless plotting and rendering, one torch thread) and fixtures."""

import contextlib
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import matplotlib
import pytest

matplotlib.use("Agg")

import torch

# The course's networks are tiny; extra threads only fight over the 2 cores.
torch.set_num_threads(1)


@pytest.fixture
def recording_redraws():
    """``with recording_redraws(explorer) as calls:`` lists the arguments of each redraw.

    Wraps the explorer's ``figure`` method for the block, so a test can check that moving a
    control redraws once, with the values the control now shows.
    """

    @contextlib.contextmanager
    def record(explorer):
        calls, original = [], explorer.figure

        def counting(*args):
            calls.append(args)
            return original(*args)

        explorer.figure = counting
        try:
            yield calls
        finally:
            del explorer.figure

    return record
