"""benchmarks/ablation_2x2.py runs on a tiny budget and writes the results schema Lesson 4 reads."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ARM_KEYS = {
    "replay", "target_network", "config", "seeds", "final_returns", "max_q", "over_bound",
    "q_s0", "return_s0", "max_q_trace", "iqm", "iqm_ci", "mean", "mean_ci", "share_over_bound",
    "median_max_q", "median_q_s0", "median_return_s0", "wall_s",
}  # fmt: skip
TINY = ["--steps", "1200", "--tuning-seeds", "300", "--comparison-seeds", "400-401",
        "--learning-rates", "1e-3", "--losses", "mse", "--episodes", "3",
        "--trace-every", "400"]  # fmt: skip


@pytest.fixture(scope="module")
def ablation():
    spec = importlib.util.spec_from_file_location(
        "ablation_2x2", ROOT / "benchmarks" / "ablation_2x2.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def written(ablation, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    argv = sys.argv
    sys.argv = ["ablation_2x2.py", *TINY, "--out", str(out / "ablation"),
                "--save-tuning", str(out / "tuning.json")]  # fmt: skip
    try:
        ablation.main()
    finally:
        sys.argv = argv
    return out


def test_the_script_writes_the_schema_it_documents(ablation, written):
    result = json.loads((written / "ablation.json").read_text())
    for key in ("command", "date", "machine", "steps", "bound", "tuning", "arms", "note"):
        assert key in result, key
    assert result["steps"] == 1200 and result["bound"] == pytest.approx(100.0)
    assert set(result["arms"]) == set(ablation.ARMS)
    assert len(result["tuning"]) == 4 and all(r["chosen"] for r in result["tuning"])
    for name, arm in result["arms"].items():
        assert set(arm) == ARM_KEYS, name
        assert arm["seeds"] == [400, 401]
        for key in ("final_returns", "max_q", "over_bound", "q_s0", "return_s0"):
            assert len(arm[key]) == 2, (name, key)
        assert arm["max_q_trace"]["steps"] == [400, 800, 1200]
        assert [len(t) for t in arm["max_q_trace"]["per_seed"]] == [3, 3]
        assert arm["iqm_ci"][0] <= arm["iqm"] <= arm["iqm_ci"][1]
        assert arm["config"]["learning_rate"] == 1e-3 and arm["config"]["loss"] == "mse"
        assert ("target_update_period" in arm["config"]) != arm["target_network"]
        assert (arm["config"].get("batch_size") == 1) != arm["replay"]
    # replay starts learning after 1,000 steps: its first bins have no updates
    assert result["arms"]["replay_two"]["max_q_trace"]["per_seed"][0][:2] == [None, None]
    text = (written / "ablation.md").read_text()
    assert "316.8" in text and "replay_one" in text and result["command"] in text


def test_tuning_can_be_reused_and_must_match_the_budget(ablation, written):
    tuning = json.loads((written / "tuning.json").read_text())
    with pytest.raises(ValueError, match="1200 steps"):
        ablation.run_ablation(steps=400, tuning=tuning, trace_every=400)
    with pytest.raises(ValueError, match="fresh"):
        ablation.run_ablation(steps=1000, tuning_seeds=[1, 2], comparison_seeds=[2, 3])
    with pytest.raises(ValueError, match="trace_every"):
        ablation.run_ablation(steps=1000, trace_every=300)


def test_measure_evaluates_as_the_run_does(ablation):
    runs, _ = ablation.train_batch(300, [({"learning_rate": 1e-3}, 7)])
    (measured,) = ablation.measure(runs, 4, 100)
    run = runs[0]
    returns = run.evaluate(4)
    assert measured["final_return"] == pytest.approx(returns.mean())
    assert measured["return_s0"] == pytest.approx(
        np.mean([sum(0.99**t for t in range(int(n))) for n in returns])
    )
    assert ablation.discounted_from_length(np.array([500]), 0.99)[0] == pytest.approx(99.34, 1e-3)
    assert measured["trace"] == [None, None, None]  # no update before learning_starts
