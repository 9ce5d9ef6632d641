"""Lesson 2's second exercise: generalise by hand, filling never-visited states from neighbours.

A table learns nothing about a state it never visited. The crudest repair borrows from
similar states: give every unvisited state the values of the *nearest visited* state
(Euclidean distance between the states' positions, ties to the lowest state number), and
leave visited states alone. The learner writes it; :func:`utils.lessons.lesson2_grids.
fill_unvisited` is the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.exercise import Exercise, Mistake, Verdict
from utils.lessons.lesson2_grids import fill_unvisited

__all__ = ["FILL_FROM_NEAREST", "check_fill_from_nearest"]

# Signature the learner fills in:
#   fill_from_nearest(q_table, visited, centres) -> np.ndarray
# q_table (n_states, n_actions), visited (n_states,) bool, centres (n_states, D).


def _reference(q_table, visited, centres):
    return fill_unvisited(q_table, visited, centres)


def _nearest_any(q_table, visited, centres):
    # Nearest other state, visited or not: may copy another empty row.
    filled = np.array(q_table, dtype=float)
    for s in np.flatnonzero(~visited):
        d2 = ((centres - centres[s]) ** 2).sum(axis=1)
        d2[s] = np.inf
        filled[s] = q_table[int(np.argmin(d2))]
    return filled


def _nearest_number(q_table, visited, centres):
    # Nearest by state number, not by position.
    filled = np.array(q_table, dtype=float)
    sources = np.flatnonzero(visited)
    for s in np.flatnonzero(~visited):
        filled[s] = q_table[sources[int(np.argmin(np.abs(sources - s)))]]
    return filled


def _farthest(q_table, visited, centres):
    filled = np.array(q_table, dtype=float)
    sources = np.flatnonzero(visited)
    for s in np.flatnonzero(~visited):
        d2 = ((centres[sources] - centres[s]) ** 2).sum(axis=1)
        filled[s] = q_table[sources[int(np.argmax(d2))]]
    return filled


def _mean_of_visited(q_table, visited, centres):
    filled = np.array(q_table, dtype=float)
    filled[~visited] = np.asarray(q_table, dtype=float)[visited].mean(axis=0)
    return filled


def _everything_refilled(q_table, visited, centres):
    # Every state, visited ones too, takes its nearest *other* visited state's row.
    filled = np.array(q_table, dtype=float)
    sources = np.flatnonzero(visited)
    for s in range(len(filled)):
        d2 = ((centres[sources] - centres[s]) ** 2).sum(axis=1)
        d2[sources == s] = np.inf
        if np.isfinite(d2).any():
            filled[s] = q_table[sources[int(np.argmin(d2))]]
    return filled


def _first_coordinate_only(q_table, visited, centres):
    filled = np.array(q_table, dtype=float)
    sources = np.flatnonzero(visited)
    for s in np.flatnonzero(~visited):
        d = np.abs(centres[sources, 0] - centres[s, 0])
        filled[s] = q_table[sources[int(np.argmin(d))]]
    return filled


_SOLUTION = """\
def fill_from_nearest(q_table, visited, centres):
    filled = q_table.copy()  # a new table: visited rows stay as they are
    sources = np.flatnonzero(visited)  # the states that learned something
    for s in np.flatnonzero(~visited):
        d2 = ((centres[sources] - centres[s]) ** 2).sum(axis=1)  # squared distances
        filled[s] = q_table[sources[np.argmin(d2)]]  # argmin: the first nearest on ties
    return filled"""


def _case(q, visited, centres) -> tuple:
    return (np.array(q, dtype=float), np.array(visited, dtype=bool), np.array(centres, float))


# Cases that tell the catalogued mistakes apart: a line of states where the nearest by
# number and by position differ, an unvisited state between two empty ones, a tie, and a
# 2-D grid where the second coordinate decides.
_CASES = (
    _case([[1, 0], [0, 0], [0, 0], [0, 5]], [1, 0, 0, 1], [[0.0], [1.0], [2.4], [3.0]]),
    _case(
        [[2, 1], [0, 0], [0, 0], [0, 0], [7, 3]],
        [1, 0, 0, 0, 1],
        [[0.0], [3.0], [0.5], [3.5], [4.0]],
    ),
    _case([[0, 0], [4, 4], [0, 0], [6, 1]], [0, 1, 0, 1], [[1.0], [0.0], [3.0], [2.0]]),
    _case(
        [[1, 2], [0, 0], [3, 4], [0, 0], [0, 0], [5, 6]],
        [1, 0, 1, 0, 0, 1],
        [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]],
    ),
    _case([[9, 8], [0, 0], [0, 0]], [1, 0, 0], [[0.0, 0.0], [5.0, 5.0], [1.0, 1.0]]),
)

FILL_FROM_NEAREST = Exercise(
    name="fill_from_nearest",
    reference=_reference,
    cases=_CASES,
    mistakes=(
        Mistake(
            "copied from the nearest state even when it was never visited",
            "look for the nearest state among the *visited* ones only "
            "(`np.flatnonzero(visited)`); an unvisited neighbour has nothing to lend.",
            _nearest_any,
        ),
        Mistake(
            "took the nearest state number instead of the nearest position",
            "neighbouring state numbers need not be neighbouring states: measure the "
            "distance between `centres[s]` and the visited centres.",
            _nearest_number,
        ),
        Mistake(
            "took the farthest visited state",
            "the nearest state has the smallest distance: `np.argmin`, not `np.argmax`.",
            _farthest,
        ),
        Mistake(
            "gave every unvisited state the mean of all visited rows",
            "borrow from the nearest visited state only: far states may want the other action.",
            _mean_of_visited,
        ),
        Mistake(
            "overwrote the visited states too",
            "visited rows hold what the table learned: keep them, fill only `~visited`.",
            _everything_refilled,
        ),
        Mistake(
            "measured the distance along the first coordinate only",
            "sum the squared differences over all coordinates: `.sum(axis=1)`.",
            _first_coordinate_only,
        ),
    ),
    hint="start from a copy of q_table; for each unvisited s, compute the squared distance "
    "from centres[s] to every visited state's centre, and copy the row of the nearest one "
    "(np.argmin keeps the first on ties).",
    solution=_SOLUTION,
)


def check_fill_from_nearest(fn: Callable[..., Any]) -> Verdict:
    """Check the Lesson 2 exercise: fill never-visited states from the nearest visited one.

    Args:
        fn: The learner's ``fill_from_nearest(q_table, visited, centres)``; it must return
            a new table (shape of ``q_table``, ``(n_states, n_actions)``) where every state
            with ``visited[s] == False`` holds the row of the visited state whose
            ``centres`` row is nearest (Euclidean, ties to the lowest number) and visited
            rows are unchanged.

    Returns:
        The verdict, also printed (:meth:`utils.exercise.Exercise.check`, which raises
        TypeError if ``fn`` is not callable).
    """
    return FILL_FROM_NEAREST.check(fn)
