"""Lesson 4: the loaded 2 x 2 ablation is read, checked, labelled as loaded, and drawn."""

from __future__ import annotations

import json

import pytest
from matplotlib.figure import Figure

from utils.lessons.lesson4_ablation import (
    ABLATION_FILE,
    ARMS,
    LOADED,
    ablation_table,
    load_ablation,
    plot_ablation,
)


def _arm(seed0: int) -> dict:
    seeds = [seed0, seed0 + 1]
    return {
        "config": {}, "seeds": seeds, "final_returns": [10.0, 20.0], "max_q": [5.0, 500.0],
        "q_s0": [4.0, 6.0], "return_s0": [3.0, 5.0],
        "max_q_trace": {"steps": [1000, 2000], "per_seed": [[1.0, 5.0], [2.0, None]]},
        "iqm": 15.0, "iqm_ci": [10.0, 20.0], "mean": 15.0, "mean_ci": [10.0, 20.0],
        "share_over_bound": 0.5,
    }  # fmt: skip


@pytest.fixture()
def results_file(tmp_path):
    results = {"command": "python benchmarks/ablation_2x2.py", "date": "2026-12-01T00:00:00",
               "steps": 2000, "bound": 100.0, "eval_episodes": 100,
               "arms": {arm: _arm(10 * i) for i, arm in enumerate(ARMS)}}  # fmt: skip
    path = tmp_path / "ablation.json"
    path.write_text(json.dumps(results))
    return path


def test_loaded_results_are_labelled_and_drawn(results_file):
    results = load_ablation(results_file)
    table = ablation_table(results)
    assert table.startswith(LOADED) and "not run in this notebook" in table
    assert len(table.splitlines()) == 2 + len(ARMS)
    assert isinstance(plot_ablation(results), Figure)


def test_the_committed_file_loads():
    if not ABLATION_FILE.is_file():
        pytest.skip("no committed ablation results")
    results = load_ablation()
    assert set(ARMS) <= set(results["arms"])


def test_missing_or_incomplete_files_are_refused(tmp_path, results_file):
    with pytest.raises(FileNotFoundError, match=r"ablation_2x2\.py"):
        load_ablation(tmp_path / "absent.json")
    with pytest.raises(TypeError, match="path"):
        load_ablation(3)
    broken = json.loads(results_file.read_text())
    del broken["arms"]["replay_two"]["iqm_ci"]
    results_file.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="replay_two"):
        load_ablation(results_file)
    with pytest.raises(TypeError, match="results"):
        ablation_table([])
