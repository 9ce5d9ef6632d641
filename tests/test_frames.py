"""Episode frames: the still strip and the HTML animation, with their argument checks."""

from __future__ import annotations

import base64
import io
import re

import matplotlib.pyplot as plt
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


def _player_frames(text):
    """The frames the player's script holds, in order (not the one in its <img>)."""
    return re.findall(r'frames\[\d+\] = "data:image/png;base64,', text)


def test_animation_is_html_with_every_kept_frame():
    html = animate_frames(frames(), every=4, shrink=2)
    text = html.data
    assert "<script" in text and "data:image/png;base64" in text
    assert len(_player_frames(text)) == 3  # frames 0, 4, 8
    assert len(text) < 200_000


def test_the_first_frame_shows_before_any_button_or_script():
    text = animate_frames(frames(), every=4, shrink=2).data
    img = re.search(r"<img [^>]*>", text).group(0)
    src = re.search(r'src="data:image/png;base64,([^"]+)"', img)
    assert src, f"the player's <img> has no picture until a button is pressed: {img}"
    picture = plt.imread(io.BytesIO(base64.b64decode(src.group(1))), format="png")
    assert picture.shape[0] > 0 and picture.shape[1] > 0 and picture.std() > 0.05  # not blank
    # the bar of frame 0 sits at the left edge: the dark pixels are in the first columns
    dark_columns = np.flatnonzero(picture[..., :3].mean(axis=(0, 2)) < 0.5)
    assert dark_columns.size and dark_columns.max() < picture.shape[1] / 4


def test_animation_keeps_the_last_frame_and_checks_arguments():
    assert len(_player_frames(animate_frames(frames(10), every=4).data)) == 4
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
