"""Episode frames: the still strip and the HTML animation, with their argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from utils.frames import animate_frames, plot_frame_strip


def frames(n=9, h=40, w=60):
    out = []
    for i in range(n):
        frame = np.full((h, w, 3), 255, dtype=np.uint8)
        frame[:, i * 5 : i * 5 + 5] = 0  # a bar that moves right
        out.append(frame)
    return out


def test_animation_is_html_with_every_kept_frame():
    html = animate_frames(frames(), every=4, shrink=2)
    text = html.data
    assert "<script" in text and "data:image/png;base64" in text
    assert text.count("data:image/png;base64") == 3  # frames 0, 4, 8
    assert len(text) < 200_000


def test_animation_keeps_the_last_frame_and_checks_arguments():
    assert animate_frames(frames(10), every=4).data.count("data:image/png;base64") == 4
    with pytest.raises(ValueError, match="every"):
        animate_frames(frames(), every=0)
    with pytest.raises(TypeError, match="frames"):
        animate_frames([])
    with pytest.raises(ValueError, match="frames"):
        animate_frames([np.zeros((4, 4))])


def test_frame_strip_shows_evenly_spaced_frames():
    fig = plot_frame_strip(frames(11), n=3)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["step 0", "step 5", "step 10"]
    assert len(plot_frame_strip(frames(2), n=6).axes) == 2
