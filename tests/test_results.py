"""Tests for utils.results: the committed results files the lessons load."""

from __future__ import annotations

import json

import pytest

import utils.results
from utils.lessons import lesson4_ablation
from utils.results import load_result, results_dir


def test_load_result_reads_a_file_and_names_its_source(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"rows": []}))
    data = load_result("x", tmp_path)
    assert data["rows"] == [] and data["_source"] == str(tmp_path / "x.json")


@pytest.mark.parametrize("name", ["x.json", "", "a/b"])
def test_load_result_refuses_a_name_that_is_not_a_stem(tmp_path, name):
    with pytest.raises(ValueError, match="name"):
        load_result(name, tmp_path)


def test_load_result_refuses_a_bad_directory():
    with pytest.raises(TypeError, match="directory"):
        load_result("x", 3)


def test_load_result_without_the_file_tries_the_url_then_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(utils.results, "RESULTS_URL", (tmp_path / "nowhere").as_uri())
    with pytest.raises(FileNotFoundError, match="missing"):
        load_result("missing", tmp_path)


def test_load_result_downloads_what_the_repository_lacks(tmp_path, monkeypatch):
    online = tmp_path / "online"
    online.mkdir()
    (online / "y.json").write_text(json.dumps({"a": 1}))
    monkeypatch.setattr(utils.results, "RESULTS_URL", online.as_uri())
    data = load_result("y", tmp_path / "empty")
    assert data["a"] == 1 and data["_source"] == f"{online.as_uri()}/y.json"


def test_the_results_folder_is_the_repositorys():
    assert results_dir().parts[-2:] == ("benchmarks", "results")
    assert (results_dir() / "ablation_2x2.json").is_file()


def test_the_ablation_falls_back_to_the_online_copy(tmp_path, monkeypatch):
    """Without the repository (Colab), Lesson 4 reads the same file from the course's GitHub."""
    source = lesson4_ablation.ABLATION_FILE
    online = tmp_path / "online"
    online.mkdir()
    (online / source.name).write_text(source.read_text())
    monkeypatch.setattr(utils.results, "results_dir", lambda: tmp_path / "no-repository")
    monkeypatch.setattr(utils.results, "RESULTS_URL", online.as_uri())
    results = lesson4_ablation.load_ablation()
    assert results["_source"].startswith(online.as_uri())
    assert set(lesson4_ablation.ARMS) <= set(results["arms"])
