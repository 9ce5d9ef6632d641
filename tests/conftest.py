"""Shared test settings: headless plotting and rendering, one torch thread."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
