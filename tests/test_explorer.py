"""The widget base: draws once at build, redraws per control moved, checks before it sets."""

from __future__ import annotations

import math

import ipywidgets as widgets
import pytest
from matplotlib.figure import Figure

from utils.explorer import Explorer
from utils.figures import new_figure


class Toy(Explorer):
    """Two sliders; ``b`` may not exceed 5 through ``move``."""

    noun = "slider"

    def __init__(self) -> None:
        self.drawn: list[tuple] = []
        self.controls = {"a": widgets.IntSlider(value=1), "b": widgets.IntSlider(value=2)}
        self._start()

    def figure(self, a: int, b: int) -> Figure:
        self.drawn.append((a, b))
        return new_figure()[0]

    def _check_move(self, values) -> None:
        if values.get("b", 0) > 5:
            raise ValueError(f"b must be <= 5, got {values['b']}")


def test_draws_once_at_build_and_once_per_control_moved():
    toy = Toy()
    assert toy.drawn == [(1, 2)] and not math.isnan(toy.last_seconds)
    assert toy.move(a=3, b=4) >= 0
    assert toy.drawn == [(1, 2), (3, 2), (3, 4)]  # values in the order of the controls
    assert isinstance(toy.widget, widgets.VBox)
    assert "application/vnd.jupyter.widget-view+json" in toy._repr_mimebundle_()


def test_names_and_values_are_checked_before_anything_is_set():
    toy = Toy()
    with pytest.raises(ValueError, match="slider name must be one of"):
        toy.move(a=4, c=1)
    with pytest.raises(ValueError, match="b must be <= 5"):
        toy.move(a=4, b=9)
    assert (toy.controls["a"].value, toy.controls["b"].value) == (1, 2)
    assert toy.drawn == [(1, 2)]
