"""Shared test settings: headless plotting and rendering, one torch thread."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import matplotlib

matplotlib.use("Agg")

import torch

# The course's networks are tiny; extra threads only fight over the 2 cores.
torch.set_num_threads(1)
