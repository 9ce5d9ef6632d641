"""`make lab`, `make reset-lesson` and `make notebooks`: what a learner's first commands do.

- ``make lab`` adds ``--allow-root`` for root only (Jupyter refuses root without it), keeps
  ``PORT`` and ``LAB_FLAGS``, registers no kernel of its own, and really serves JupyterLab
  on the learner's working copy, with one Python kernel: the venv's ``python3``, the
  kernel every lesson asks for.
- The working copy (``scripts/my_notebooks.py``): new lessons are copied in, the learner's
  changes are never overwritten, ``reset`` keeps the old copy in ``backup/``, and a lesson
  runs there as well as in ``notebooks/`` (it reads no file by a path relative to it).
- ``make notebooks`` runs nbconvert on the chosen lessons, in the same environment as nbval.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import my_notebooks  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
VENV = Path(sys.prefix)  # the venv running the tests: `make test` made it with `make setup`
# make, on the test's venv, which is set up already: never reinstall into it from a test.
MAKE = ["make", f"VENV={VENV}", "-o", str(VENV / ".installed")]


def _dry_make(tmp_path: Path, *args: str, uid: str | None = None) -> str:
    """Return what ``make -n`` would run; ``uid`` fakes what ``id -u`` says."""
    env = dict(os.environ)
    if uid is not None:
        fake = tmp_path / "fakebin"
        fake.mkdir(exist_ok=True)
        (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
        (fake / "id").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.replace("\\\n", " ")


def _jupyter_lab_line(text: str) -> list[str]:
    (line,) = [ln for ln in text.splitlines() if "jupyter lab" in ln]
    return shlex.split(line)


@pytest.mark.parametrize(("uid", "root"), [("0", True), ("1000", False)])
def test_make_lab_allows_root_for_root_only_and_keeps_port_and_lab_flags(tmp_path, uid, root):
    text = _dry_make(tmp_path, "lab", "PORT=9999", "LAB_FLAGS=--no-browser --ip=0.0.0.0", uid=uid)
    command = _jupyter_lab_line(text)
    assert ("--allow-root" in command) is root
    assert "--port=9999" in command
    assert command[-2:] == ["--no-browser", "--ip=0.0.0.0"]
    assert "--notebook-dir=my-notebooks" in command
    assert "ipykernel install" not in text  # no extra kernel in the user's home
    default = _jupyter_lab_line(_dry_make(tmp_path, "lab", uid=uid))
    assert "--port=8888" in default


def test_make_notebooks_executes_the_chosen_lessons_in_place(tmp_path):
    text = _dry_make(tmp_path, "notebooks", "LESSONS=00,03")
    (line,) = [ln for ln in text.splitlines() if "nbconvert" in ln]
    command = shlex.split(line)
    assert {"--execute", "--inplace", "--ExecutePreprocessor.kernel_name=python3"} <= set(command)
    chosen = [c for c in command if c.endswith(".ipynb")]
    assert chosen == ["notebooks/00_gymnasium_and_mdps.ipynb", "notebooks/03_one_network.ipynb"]
    everything = _dry_make(tmp_path, "notebooks")
    assert all(f"notebooks/{p.name}" in everything for p in LESSONS)
    wrong = subprocess.run(
        ["make", "-n", "notebooks", "LESSONS=42"], cwd=ROOT, capture_output=True, text=True
    )
    assert wrong.returncode != 0 and "no notebooks/42*.ipynb" in wrong.stderr


def test_every_lesson_asks_for_the_python3_kernel():
    for path in LESSONS:
        spec = json.loads(path.read_text())["metadata"]["kernelspec"]
        assert spec["name"] == "python3", path.name


def test_the_venv_python3_kernel_wins_over_one_in_the_users_home(tmp_path):
    # A learner who once ran `python -m ipykernel install --user` has a "python3" kernel in
    # their home pointing at another Python; the venv's own must still be the one used.
    home = tmp_path / "home"
    theirs = home / ".local" / "share" / "jupyter" / "kernels" / "python3"
    theirs.mkdir(parents=True)
    (theirs / "kernel.json").write_text(
        json.dumps({"argv": ["/usr/bin/python3", "-m", "ipykernel"], "display_name": "Other"})
    )
    env = {**os.environ, "HOME": str(home)}
    env = {k: v for k, v in env.items() if not k.startswith("JUPYTER")}
    listed = subprocess.run(
        [str(VENV / "bin" / "jupyter"), "kernelspec", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    specs = json.loads(listed.stdout)["kernelspecs"]
    assert Path(specs["python3"]["resource_dir"]).is_relative_to(VENV)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_working_copy_with_one_python_kernel(tmp_path):
    """The real command, started as `make lab` is (as root here under CI), then stopped."""
    home, work, port, token = tmp_path / "home", tmp_path / "work", _free_port(), "dqn-test"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["HOME"] = str(home)  # what Jupyter writes in a home lands here
    command = [
        *MAKE,
        "lab",
        f"PORT={port}",
        f"MY_NOTEBOOKS={work}",
        f"LAB_FLAGS=--no-browser --IdentityProvider.token={token}",
    ]
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        lab = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def get(path: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()

    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                status, _ = get("/api/status")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, log.read_text()[-3000:]
        assert get("/lab")[0] == 200
        specs = json.loads(get("/api/kernelspecs")[1])
        assert list(specs["kernelspecs"]) == ["python3"] and specs["default"] == "python3"
        listing = json.loads(get("/api/contents/")[1])
        assert sorted(c["name"] for c in listing["content"]) == [p.name for p in LESSONS]
    finally:
        if lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
    text = log.read_text()
    assert ("--allow-root" in text) is (os.getuid() == 0)
    assert not (home / ".local" / "share" / "jupyter" / "kernels").exists()


# --- the working copy -------------------------------------------------------------------


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    for name in ("00_intro.ipynb", "01_table.ipynb"):
        _write_lesson(course / name, f"print('{name}')")
    return course


def _write_lesson(path: Path, source: str, output: str = "") -> None:
    cell = {"cell_type": "code", "source": [source], "outputs": [output], "metadata": {}}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}))


def test_sync_copies_new_lessons_and_never_overwrites_the_learners_work(tmp_path):
    course, work = _course(tmp_path), tmp_path / "my-notebooks"
    assert my_notebooks.sync(course, work) == ["copied 00_intro.ipynb", "copied 01_table.ipynb"]
    assert my_notebooks.sync(course, work) == []

    # The learner answers Lesson 0; the course then changes both lessons and adds one.
    answered = (work / "00_intro.ipynb").read_text().replace("print", "answer = 42; print")
    (work / "00_intro.ipynb").write_text(answered)
    _write_lesson(course / "00_intro.ipynb", "print('new 00')")
    _write_lesson(course / "01_table.ipynb", "print('new 01')")
    _write_lesson(course / "02_net.ipynb", "print('02')")
    said = my_notebooks.sync(course, work)

    assert (work / "00_intro.ipynb").read_text() == answered  # kept
    assert any("00_intro.ipynb: the course has a new version" in s for s in said)
    assert any("make reset-lesson L=00" in s for s in said)
    assert "new 01" in (work / "01_table.ipynb").read_text()  # untouched copy: updated
    assert "copied 02_net.ipynb" in said
    # Re-executing a lesson (new outputs, same cells) is not a new version of it.
    _write_lesson(course / "02_net.ipynb", "print('02')", output="fresh output")
    assert my_notebooks.sync(course, work) == [said[0]]


def test_reset_keeps_the_old_copy_in_backup_and_takes_a_fresh_one(tmp_path):
    course, work = _course(tmp_path), tmp_path / "my-notebooks"
    my_notebooks.sync(course, work)
    (work / "01_table.ipynb").write_text("my answers")
    said = my_notebooks.reset(course, work, ["01"])
    (backup,) = (work / "backup").iterdir()
    assert backup.read_text() == "my answers" and backup.name.startswith("01_table-")
    assert (work / "01_table.ipynb").read_text() == (course / "01_table.ipynb").read_text()
    assert said[-1] == "fresh copy of 01_table.ipynb from the course"
    assert my_notebooks.sync(course, work) == []


def test_reset_checks_every_lesson_before_moving_anything(tmp_path):
    course, work = _course(tmp_path), tmp_path / "my-notebooks"
    my_notebooks.sync(course, work)
    (work / "01_table.ipynb").write_text("my answers")
    with pytest.raises(ValueError, match="lesson '0' matches 2 notebooks"):
        my_notebooks.reset(course, work, ["01", "0"])
    with pytest.raises(ValueError, match="lesson '7' matches 0 notebooks"):
        my_notebooks.reset(course, work, ["7"])
    with pytest.raises(ValueError, match="at least one lesson"):
        my_notebooks.reset(course, work, [])
    assert (work / "01_table.ipynb").read_text() == "my answers"
    assert not (work / "backup").exists()
    with pytest.raises(ValueError, match="another folder"):
        my_notebooks.sync(course, course)
    with pytest.raises(TypeError, match=r"path must be a pathlib\.Path"):
        my_notebooks.course_fingerprint(str(course))


def test_make_reset_lesson_resets_the_lessons_named_and_asks_when_none_is(tmp_path):
    work = tmp_path / "my-notebooks"
    make = [*MAKE, "reset-lesson", f"MY_NOTEBOOKS={work}"]
    asked = subprocess.run(make, cwd=ROOT, capture_output=True, text=True)
    assert asked.returncode != 0 and "make reset-lesson L=03" in asked.stdout
    my_notebooks.sync(ROOT / "notebooks", work)
    first, second = LESSONS[0].name, LESSONS[1].name
    (work / first).write_text("my answers")
    done = subprocess.run([*make, "L=00,01"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"fresh copy of {first}" in done.stdout and f"fresh copy of {second}" in done.stdout
    assert [p.read_text() for p in (work / "backup").iterdir()] == ["my answers"]
    wrong = subprocess.run([*make, "L=0"], cwd=ROOT, capture_output=True, text=True)
    assert wrong.returncode != 0 and "matches" in wrong.stderr


def test_lessons_read_no_file_by_a_path_relative_to_their_folder():
    # The working copy sits elsewhere than notebooks/: a lesson must not open
    # ../benchmarks/..., notebooks/... or files beside it (utils comes from the install).
    relative = re.compile(r"""["'](\.\.?/|notebooks/|benchmarks/|utils/|tests/)""")
    for path in LESSONS:
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                source = "".join(cell["source"])
                assert not relative.search(source), f"{path.name}: {source[:200]}"
                assert "os.chdir" not in source and "sys.path" not in source, path.name


def test_a_lesson_runs_from_a_working_copy_outside_the_repository(tmp_path):
    from nbclient import NotebookClient
    from nbformat import read

    work = tmp_path / "my-notebooks"
    my_notebooks.sync(ROOT / "notebooks", work)
    lesson = work / "00_gymnasium_and_mdps.ipynb"
    nb = read(lesson, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    ).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


def test_make_lab_removes_the_kernel_older_versions_registered_in_the_home(tmp_path):
    home = tmp_path / "home"
    kernels = home / ".local" / "share" / "jupyter" / "kernels"
    ours, other = kernels / "dqn-course", kernels / "someone-else"
    for folder, python in ((ours, VENV / "bin" / "python"), (other, "/usr/bin/python3")):
        folder.mkdir(parents=True)
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        (folder / "kernel.json").write_text(json.dumps({"argv": argv}, indent=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env["HOME"] = str(home)
    result = subprocess.run(
        [*MAKE, "lab", f"MY_NOTEBOOKS={tmp_path / 'work'}", "LAB_FLAGS=--version"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "removed the kernel 'Python (dqn-course)'" in result.stdout
    assert not ours.exists() and other.exists()
