"""Lesson 4: the loaded 2 x 2 ablation is read, checked, labelled as loaded, and drawn."""

from __future__ import annotations

import json

import pytest
from matplotlib.figure import Figure

from utils.lessons.lesson4_ablation import (
    ABLATION_FILE,
    ARMS,
    LOADED,
    ablation_reading,
    ablation_table,
    command_line,
    first_crossings,
    interval_order,
    load_ablation,
    plot_ablation,
    q_gap,
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


def _with_iqm(arm: dict, iqm: float, low: float, high: float) -> dict:
    return {**arm, "iqm": iqm, "iqm_ci": [low, high]}


def test_the_reading_ranks_separates_and_compares_with_nature(results_file):
    results = load_ablation(results_file)
    arms = results["arms"]
    arms["replay_two"] = _with_iqm(arms["replay_two"], 480.0, 450.0, 500.0)
    arms["online_one"] = _with_iqm(arms["online_one"], 460.0, 340.0, 500.0)
    arms["replay_one"] = _with_iqm(arms["replay_one"], 300.0, 280.0, 360.0)
    arms["online_two"] = _with_iqm(arms["online_two"], 180.0, 100.0, 240.0)
    lines = ablation_reading(results).splitlines()
    assert lines[0].startswith(LOADED) and "2 fresh seeds per arm" in lines[0]
    assert lines[1].startswith(
        "ranking (equal IQMs ordered by their mean): replay+two (DQN) 480 [450, 500] > "
        "online+one 460"
    )
    apart, together = lines[2], lines[3]
    assert "replay+two (DQN) > replay+one" in apart and "online+one > online+two" in apart
    assert "replay+two (DQN) vs online+one" in together and "online+one vs replay+one" in together
    switches = dict(line.split(": ", 1) for line in lines[4:8])
    assert switches["target network on, online"].endswith("hurts; Nature's Breakout 3.2 -> "
                                                          "10.2: opposite to Nature")  # fmt: skip
    assert switches["target network on, with replay"].endswith("same direction as Nature")
    assert "not separated" in switches["replay on, one network"]
    assert switches["replay on, one network"].endswith("direction not settled by these seeds")
    assert interval_order(results, "replay_two", "replay_one") == 1
    assert interval_order(results, "online_two", "online_one") == -1
    assert interval_order(results, "online_one", "replay_two") == 0
    with pytest.raises(ValueError, match="other"):
        interval_order(results, "replay_two", "dqn")
    with pytest.raises(TypeError, match="results"):
        interval_order([], "replay_two", "replay_one")
    arms["online_one"] = {**arms["online_one"], "iqm": 480.2, "mean": 490.0}  # ties: by mean
    ranking = ablation_reading(results).splitlines()[1]
    assert ranking.endswith("online+one 480 [340, 500] = replay+two (DQN) 480 [450, 500] > "
                            "replay+one 300 [280, 360] > online+two 180 [100, 240]")  # fmt: skip


def test_the_reading_finds_when_seeds_crossed_the_bound_and_the_q_gap(results_file):
    results = load_ablation(results_file)
    # online_one's traces: seed 0 [1, 5] never above 100; seed 1 [2, None]: diverged (null
    # after an update) in the bin ending at 2000. A null before any update is an empty bin.
    results["arms"]["replay_one"]["max_q_trace"]["per_seed"] = [[None, 150.0], [None, 50.0]]
    results["arms"]["online_two"]["max_q_trace"]["per_seed"] = [[1.0, 5.0], [2.0, 3.0]]
    lines = ablation_reading(results).splitlines()
    crossing = {line.split(":")[0]: line for line in lines[8:12]}
    assert crossing["online+one"].endswith(
        "1 of 2 seeds predicted a Q above 100, first by step 2,000"
    )
    assert crossing["replay+one"].endswith(
        "1 of 2 seeds predicted a Q above 100, first by step 2,000"
    )
    assert crossing["online+two"].endswith("0 of 2 seeds predicted a Q above 100")
    # q_s0 [4, 6] against return_s0 [3, 5]: Q above the return by 1 on both seeds
    assert "median +1.0, mean +1.0 [95% CI +1.0, +1.0]; Q above the return in 2 of 2" in lines[12]
    assert first_crossings(results, "online_one") == [None, 2000]
    assert first_crossings(results, "replay_one") == [2000, None]
    assert q_gap(results, "online_one").tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="results"):
        ablation_reading([])
    with pytest.raises(ValueError, match="arm"):
        q_gap(results, "both")
    with pytest.raises(ValueError, match="arm"):
        first_crossings(results, "both")


def test_the_printed_command_has_no_absolute_paths_and_no_note():
    command = (
        "python benchmarks/ablation_2x2.py --reuse-tuning /tmp/abl/tuning.json "
        "--note 'it'\"'\"'s a/b note' --out=/tmp/x.json"
    )
    shown = command_line({"command": command})
    assert shown == (
        "python benchmarks/ablation_2x2.py --reuse-tuning .../tuning.json --note '(the note)' "
        "--out=.../x.json"
    )
    assert command_line({"command": "python benchmarks/ablation_2x2.py"}).endswith("2x2.py")
    assert command_line({"command": "python x.py --note 'open"}) == "python x.py --note 'open"
    with pytest.raises(TypeError, match="results"):
        command_line({})
