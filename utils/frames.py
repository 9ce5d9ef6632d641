"""Episode frames as pictures: a strip of stills and an animation that plays in Jupyter and Colab.

Frames come from :func:`utils.envs.record_episode` (``(H, W, 3)`` uint8 images). Neither
function needs a display: the strip is a Figure and the animation is HTML/JavaScript with
the frames embedded as PNG images.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from utils._checks import check_float, check_int
from utils.figures import new_figure

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = ["animate_frames", "plot_frame_strip"]


def _check_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(frames, np.ndarray) and frames.ndim == 4:
        frames = list(frames)
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence) or not frames:
        raise TypeError("frames must be a non-empty list of (H, W, 3) uint8 arrays")
    shape = np.shape(frames[0])
    if len(shape) != 3 or shape[2] not in (3, 4):
        raise ValueError(f"frames must be (H, W, 3) images, got shape {shape}")
    if any(np.shape(f) != shape for f in frames):
        raise ValueError("frames must all have the same shape")
    return [np.asarray(f) for f in frames]


def plot_frame_strip(
    frames: Sequence[np.ndarray],
    n: int = 6,
    *,
    shrink: int = 2,
    width: float = 12.0,
    title: str | None = None,
) -> Figure:
    """Show ``n`` evenly spaced frames of an episode side by side (a still of an animation).

    Args:
        frames: ``(H, W, 3)`` uint8 images, e.g. from :func:`utils.envs.record_episode`.
        n: Number of frames shown (>= 1; fewer if the episode is shorter).
        shrink: Keep every ``shrink``-th pixel row and column (>= 1): smaller output.
        width: Figure width in inches.
        title: Figure title.

    Returns:
        The Figure.
    """
    frames = _check_frames(frames)
    n = min(check_int("n", n, minimum=1), len(frames))
    shrink = check_int("shrink", shrink, minimum=1)
    width = check_float("width", width, low=0.0, low_inclusive=False)
    picks = np.linspace(0, len(frames) - 1, n).round().astype(int)
    h, w = frames[0].shape[:2]
    fig, axes = new_figure(n, figsize=(width, width / n * h / w + (0.5 if title else 0.3)))
    for ax, i in zip(axes, picks, strict=True):
        ax.imshow(frames[i][::shrink, ::shrink])
        ax.set_title(f"step {i}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_color("0.75")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def animate_frames(
    frames: Sequence[np.ndarray],
    *,
    every: int = 4,
    shrink: int = 2,
    fps: float | None = None,
    width: float = 3.0,
    dpi: int = 72,
) -> HTML:
    """Turn an episode's frames into an HTML/JavaScript animation (no display needed).

    The result plays in Jupyter and Colab with play/pause/step buttons and shows the first
    frame at once (also where no script runs). The frames are embedded as PNG images, so
    its size is roughly ``len(frames) / every`` small PNGs: keep ``every`` and ``shrink``
    up to keep notebooks small.

    Args:
        frames: ``(H, W, 3)`` uint8 images, e.g. from :func:`utils.envs.record_episode`.
        every: Keep every ``every``-th frame (>= 1); the last frame is always kept.
        shrink: Keep every ``shrink``-th pixel row and column (>= 1).
        fps: Frames per second of the animation; default ``50 / every`` (CartPole's real
            time: its physics step is 0.02 s).
        width: Width of the picture in inches.
        dpi: Dots per inch of the embedded frames.

    Returns:
        An ``IPython.display.HTML`` holding the animation (``.data`` is the HTML text).
    """
    from IPython.display import HTML
    from matplotlib.animation import FuncAnimation

    frames = _check_frames(frames)
    every = check_int("every", every, minimum=1)
    shrink = check_int("shrink", shrink, minimum=1)
    fps = 50.0 / every if fps is None else check_float("fps", fps, low=0.0, low_inclusive=False)
    width = check_float("width", width, low=0.0, low_inclusive=False)
    dpi = check_int("dpi", dpi, minimum=10)
    picks = list(range(0, len(frames), every))
    if picks[-1] != len(frames) - 1:
        picks.append(len(frames) - 1)
    images = [frames[i][::shrink, ::shrink] for i in picks]
    h, w = images[0].shape[:2]
    fig = plt.figure(figsize=(width, width * h / w), dpi=dpi)
    plt.close(fig)  # not managed by pyplot: only the HTML is shown
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.axis("off")
    image = ax.imshow(images[0])
    label = ax.text(0.02, 0.95, "", transform=ax.transAxes, fontsize=8, va="top")

    def draw(k: int) -> list:
        image.set_data(images[k])
        label.set_text(f"step {picks[k]}")
        return [image, label]

    animation = FuncAnimation(fig, draw, frames=len(images), interval=1000.0 / fps, blit=False)
    return HTML(_show_first_frame(animation.to_jshtml(fps=fps, default_mode="once")))


# matplotlib's player: an empty <img> that its script fills once it has run, and the frames
# as JavaScript strings `frames[i] = "data:image/png;base64,..."` (with `\` line breaks).
_PLAYER_IMG = re.compile(r'<img id="(_anim_img\w+)">')
_FIRST_FRAME = re.compile(r'frames\[0\] = "(data:image/[^"]+)"')


def _show_first_frame(html: str) -> str:
    """Put the first frame into the player's ``<img>``, so it shows before any script runs.

    matplotlib's player starts as an empty ``<img>`` that its script fills in; a front end
    that runs the script late, or not at all, shows a 0 x 0 box until a button is pressed.
    """
    frame = _FIRST_FRAME.search(html)
    if frame is None or not _PLAYER_IMG.search(html):
        raise RuntimeError("matplotlib's animation HTML changed: no first frame or <img> found")
    src = frame.group(1).replace("\\\n", "")
    return _PLAYER_IMG.sub(lambda m: f'<img id="{m.group(1)}" src="{src}" alt="frame 0">', html, 1)
