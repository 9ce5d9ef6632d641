"""Lesson 2's second exercise: fill never-visited states from the nearest visited one."""

from __future__ import annotations

import numpy as np

from utils.lessons.lesson2_exercise import FILL_FROM_NEAREST, check_fill_from_nearest


def test_fill_checker_accepts_right_answers():
    def loop_answer(q_table, visited, centres):
        filled = q_table.copy()
        sources = np.flatnonzero(visited)
        for s in np.flatnonzero(~visited):
            d2 = ((centres[sources] - centres[s]) ** 2).sum(axis=1)
            filled[s] = q_table[sources[np.argmin(d2)]]
        return filled

    assert check_fill_from_nearest(loop_answer).status == "correct"

    def distance_answer(q_table, visited, centres):  # np.linalg.norm, not squared: same order
        filled = np.array(q_table, dtype=float)
        sources = np.flatnonzero(visited)
        for s in range(len(filled)):
            if not visited[s]:
                d = np.linalg.norm(centres[sources] - centres[s], axis=1)
                filled[s] = q_table[sources[np.argmin(d)]]
        return filled

    assert check_fill_from_nearest(distance_answer).status == "correct"


def test_fill_checker_names_the_mistake():
    def from_any_neighbour(q_table, visited, centres):
        filled = q_table.copy()
        for s in np.flatnonzero(~visited):
            d2 = ((centres - centres[s]) ** 2).sum(axis=1)
            d2[s] = np.inf
            filled[s] = q_table[np.argmin(d2)]
        return filled

    verdict = check_fill_from_nearest(from_any_neighbour)
    assert verdict.status == "wrong"
    assert verdict.mistake == "copied from the nearest state even when it was never visited"

    def unchanged(q_table, visited, centres):
        return q_table.copy()

    verdict = check_fill_from_nearest(unchanged)
    assert verdict.status == "wrong" and verdict.mistake is None


def test_fill_checker_stub_and_error_and_forgotten_return():
    def stub(q_table, visited, centres): ...

    assert check_fill_from_nearest(stub).status == "not attempted"

    def broken(q_table, visited, centres):
        return q_table[visited.nonzero()[0][99]]

    assert check_fill_from_nearest(broken).status == "error"

    def in_place(q_table, visited, centres):
        q_table[~visited] = 0.0

    assert check_fill_from_nearest(in_place).mistake == "forgot `return`"


def test_every_catalogued_fill_mistake_is_told_apart():
    for mistake in FILL_FROM_NEAREST.mistakes:
        verdict = FILL_FROM_NEAREST.check(mistake.implementation, verbose=False)
        assert verdict.mistake == mistake.name
