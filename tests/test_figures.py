"""Figure primitives: each returns a Figure (or numbers), draws what it says, names bad input."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from utils.figures import (
    block_reduce,
    draw_band,
    finish_axes,
    new_figure,
    plot_learning_curves,
    plot_q_table,
    rolling_mean,
    seed_band,
)

LAKE_4X4 = ["SFFF", "FHFH", "FFFH", "HFFG"]


def test_rolling_mean_by_hand():
    np.testing.assert_allclose(rolling_mean(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])
    np.testing.assert_allclose(
        rolling_mean(np.array([[0, 0, 3], [3, 3, 3]]), 3), [[0, 0, 1], [3, 3, 3]]
    )
    np.testing.assert_allclose(rolling_mean(np.array([1.0, 2.0]), 10), [1.0, 1.5])
    with pytest.raises(ValueError, match="window"):
        rolling_mean(np.ones(3), 0)


def test_learning_curves_mean_line_and_minmax_band():
    runs = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])
    fig = plot_learning_curves({"agent": runs}, x=np.array([10, 20, 30]), reference={"best": 5})
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), [10, 20, 30])
    np.testing.assert_allclose(line.get_ydata(), [1.0, 2.0, 3.0])
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    vertices = bands[0].get_paths()[0].vertices
    assert vertices[:, 1].min() == pytest.approx(0.0) and vertices[:, 1].max() == pytest.approx(4.0)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["agent (2 seeds)", "best"]


def test_learning_curves_several_variants_on_one_axes():
    rng = np.random.default_rng(0)
    curves = {"one network": rng.random((3, 50)), "two networks": rng.random((3, 50))}
    fig = plot_learning_curves(curves, window=5, band="ci", ylabel="return")
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    assert "rolling mean of 5" in ax.get_ylabel()


def test_learning_curves_single_seed_has_no_band():
    fig = plot_learning_curves(np.arange(5.0))
    ax = fig.axes[0]
    assert len(ax.lines) == 1 and not ax.collections
    assert ax.get_legend() is None


def test_learning_curves_draw_on_given_axes():
    fig, (left, right) = new_figure(2)
    assert plot_learning_curves({"a": np.ones(4)}, ax=right) is fig
    assert len(right.lines) == 1 and not left.lines


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "name"),
    [
        (({"a": np.ones(4)},), {"band": "sd"}, ValueError, "band"),
        (({"a": np.ones(4)},), {"window": 0}, ValueError, "window"),
        (({"a": np.ones(4)},), {"x": np.arange(3)}, ValueError, "x"),
        (({"a": np.ones((2, 2, 2))},), {}, ValueError, "curves"),
        (({},), {}, ValueError, "curves"),
        (({"a": np.ones(4)},), {"ax": "left"}, TypeError, "ax"),
    ],
)
def test_learning_curves_name_bad_arguments(args, kwargs, error, name):
    with pytest.raises(error, match=name):
        plot_learning_curves(*args, **kwargs)


def test_q_table_heatmap_arrows_letters_and_values():
    q = np.zeros((16, 4))
    q[0, 2] = 0.5  # start: right
    q[14, 1] = 0.9  # next to the goal: down
    fig = plot_q_table(q, LAKE_4X4, title="test")
    ax = fig.axes[0]
    assert ax.get_title() == "test"
    np.testing.assert_allclose(ax.images[0].get_array()[0, 0], 0.5)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("H") == 4 and texts.count("G") == 1
    # Two states have a preference (arrows); the other 9 non-terminal states are tied (dots).
    annotations = [child for child in ax.get_children() if type(child).__name__ == "Annotation"]
    assert len(annotations) == 2
    assert len([line for line in ax.lines if line.get_marker() == "o"]) == 9


def test_q_table_heatmap_on_8x8_and_from_env_desc():
    from utils.envs import make_env

    env = make_env("FrozenLake-v1", map_name="8x8")
    q = np.random.default_rng(0).random((64, 4))
    fig = plot_q_table(q, env.unwrapped.desc)
    assert fig.axes[0].images[0].get_array().shape == (8, 8)


def test_q_table_heatmap_rejects_mismatched_table():
    with pytest.raises(ValueError, match="q_table"):
        plot_q_table(np.zeros((15, 4)), LAKE_4X4)
    with pytest.raises(ValueError, match="grid_map"):
        plot_q_table(np.zeros((16, 4)), ["SFFF", "FHF"])
    with pytest.raises(TypeError, match="grid_map"):
        plot_q_table(np.zeros((16, 4)), "SFFFFHFHFFFHHFFG")


def test_new_figure_is_not_managed_by_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    _fig, axes = new_figure(3)
    assert len(axes) == 3 and plt.get_fignums() == before
    with pytest.raises(ValueError, match="ncols"):
        new_figure(0)


def test_new_figure_grid_rows_shared_axes_and_dpi():
    fig, axes = new_figure(3, nrows=2, dpi=80, sharey=True)
    assert len(axes) == 6 and fig.dpi == 80
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[5])
    with pytest.raises(ValueError, match="nrows"):
        new_figure(2, nrows=0)


# --- blocks and bands ---------------------------------------------------------------------


def test_block_reduce_by_hand():
    values = np.array([[1.0, 5.0, 2.0, 200.0, 3.0], [0.0, 2.0, 4.0, 6.0, 8.0]])
    maxima, ends = block_reduce(values, 2, "max")
    np.testing.assert_array_equal(maxima, [[5.0, 200.0, 3.0], [2.0, 6.0, 8.0]])
    np.testing.assert_array_equal(ends, [1, 3, 4])  # the last block is shorter
    means, _ = block_reduce(values, 2)
    np.testing.assert_allclose(means, [[3.0, 101.0, 3.0], [1.0, 5.0, 8.0]])
    np.testing.assert_allclose(block_reduce(np.arange(4.0), 10)[0], [1.5])


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        ((np.ones(3), 0), ValueError, "block"),
        ((np.ones(3), 2, "median"), ValueError, "how"),
        ((np.ones(0), 2), ValueError, "values"),
        ((np.ones(3), 2.0), TypeError, "block"),
    ],
)
def test_block_reduce_names_bad_arguments(args, error, name):
    with pytest.raises(error, match=name):
        block_reduce(*args)


def test_seed_band_ignores_missing_seeds():
    curves = np.array(
        [[np.nan, 1.0, 2.0, 3.0], [np.nan, np.nan, 4.0, 5.0], [np.nan, 3.0, 9.0, 4.0]]
    )
    mean, low, high = seed_band(curves)
    np.testing.assert_allclose(mean, [np.nan, 2.0, 5.0, 4.0])
    np.testing.assert_allclose(low, [np.nan, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(high, [np.nan, 3.0, 9.0, 5.0])
    median, _, _ = seed_band(curves, center="median")
    np.testing.assert_allclose(median, [np.nan, 2.0, 4.0, 4.0])
    mean, low, high = seed_band(curves[:, 1:], band="ci")
    half = 1.96 * np.std([1.0, 3.0], ddof=1) / np.sqrt(2)
    assert (low[0], high[0]) == pytest.approx((2.0 - half, 2.0 + half))
    with pytest.raises(ValueError, match="center"):
        seed_band(curves, center="mode")
    with pytest.raises(ValueError, match="curves"):
        seed_band(np.ones(3))


def test_draw_band_line_band_and_dots():
    _fig, (ax,) = new_figure()
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])
    line = draw_band(ax, np.array([1, 2, 3]), curves, color="C3", label="a", dots=True)
    np.testing.assert_allclose(line.get_ydata(), [1.0, 2.0, 3.0])
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1 and line.get_label() == "a"
    assert len(ax.collections) == 3  # the band and one row of dots per seed
    _fig, (ax,) = new_figure()
    draw_band(ax, np.arange(3), curves[:1])
    assert not ax.collections  # one seed: no band


def test_draw_band_and_finish_axes_name_bad_arguments():
    _fig, (ax,) = new_figure()
    with pytest.raises(TypeError, match="ax"):
        draw_band("left", np.arange(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match="x must have shape"):
        draw_band(ax, np.arange(4), np.ones((2, 3)))
    with pytest.raises(ValueError, match="band"):
        draw_band(ax, np.arange(3), np.ones((2, 3)), band="sd")
    with pytest.raises(TypeError, match="ax"):
        finish_axes(None, "title")
