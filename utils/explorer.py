"""The base of every lesson's "Try it" widget: controls above a picture that redraws.

A lesson's explorer subclasses :class:`Explorer`: it builds its ``controls`` (name ->
ipywidget), implements ``figure(*values)`` (the picture for those control values, in the
order of ``controls``), and calls :meth:`Explorer._start`. The base wires the controls to a
timed redraw, shows the picture once at build, lets code and tests ``move`` controls by name
as a learner would, and displays itself in a notebook. ``figure`` also gives a static copy of
the picture (it shows on GitHub, and tests use it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure

__all__ = ["Explorer"]


class Explorer:
    """What the lesson widgets share: a timed redraw, ``move`` by control name, and display.

    Attributes:
        controls: ``{name: widget}``, in the order ``figure`` takes their values.
        widget: The ``ipywidgets.VBox`` to display (controls above the picture).
        last_seconds: Wall time of the last redraw, in seconds (NaN before the first).
    """

    noun = "control"  # how error messages name the controls ("slider", ...)
    controls: dict[str, Any]
    widget: Any
    last_seconds: float = float("nan")

    def figure(self, *values: Any) -> Figure:
        """Return the picture for these control values (in the order of ``controls``)."""
        raise NotImplementedError

    def _start(self, box: Any = None) -> None:
        """Wire the controls to the redraw, build ``widget`` and draw the first picture.

        Args:
            box: The widget that lays out the controls; default all of them in one row.
        """
        box = widgets.HBox(list(self.controls.values())) if box is None else box
        self._output = widgets.interactive_output(self._redraw, self.controls)
        self.widget = widgets.VBox([box, self._output])

    def _ready(self, values: Mapping[str, Any]) -> bool:
        """Return False to skip a redraw (e.g. while one control updates another)."""
        return True

    def _redraw(self, **values: Any) -> None:
        if self._ready(values):
            self._show(*values.values())

    def _show(self, *values: Any) -> None:
        """Display the figure for ``values``; keep how long that took in ``last_seconds``."""
        start = time.perf_counter()
        display(self.figure(*values))
        self.last_seconds = time.perf_counter() - start

    def _check_move(self, values: Mapping[str, Any]) -> None:
        """Raise ValueError if ``values`` cannot be set (called before anything is set)."""

    def move(self, **values: Any) -> float:
        """Set controls as a learner would (``move(alpha=0.5)``) and return the redraw time.

        Setting a value fires the same callback as moving the control by hand. Every name
        and value is checked before anything is set.

        Returns:
            Seconds from the change to the redrawn picture.

        Raises:
            ValueError: If a name is not one of the controls, or a value cannot be set.
        """
        for name in values:
            if name not in self.controls:
                raise ValueError(
                    f"{self.noun} name must be one of {tuple(self.controls)}, got {name!r}"
                )
        self._check_move(values)
        start = time.perf_counter()
        for name, value in values.items():
            self.controls[name].value = value
        return time.perf_counter() - start

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
