"""`make setup` takes PyTorch's CPU build on Linux, and never hangs on an unreachable index.

``scripts/pip_install.py`` (what the Makefile runs) probes PyTorch's CPU index, adds it to
pip only when it answers, and stops before downloading a CUDA build. Checked here:

- the exact install command ``make setup`` runs, as ``pip install --dry-run --report``
  with nothing installed: no ``nvidia-*``/``cuda-*``/``triton`` package, torch at its pin;
- on a "fresh Linux machine" (pip isolated from this machine's local wheels and mirrors,
  PyPI only): with a reachable CPU index the resolve takes ``+cpu`` and no CUDA package
  (a local stand-in for download.pytorch.org serves the CPU wheel); without one the script
  refuses, before downloading, and says what to do;
- the probe: fast when the index is unreachable, bounded when it hangs.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import http.server
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import zipfile
from pathlib import Path

import pytest
from _helpers import pip_find_links

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import pip_install  # noqa: E402

SCRIPT = [sys.executable, str(ROOT / "scripts" / "pip_install.py")]
CUDA_NAME = re.compile(r"^(nvidia|cuda|triton)", re.IGNORECASE)


def _torch_pin() -> str:
    text = (ROOT / "requirements.txt").read_text()
    return re.search(r"^torch==(\S+)", text, re.MULTILINE).group(1)


def _makefile_install_command(tmp_path: Path) -> list[str]:
    """Return the pip_install.py command that `make setup` runs, as an argument list."""
    venv = tmp_path / "venv"
    dry = subprocess.run(
        ["make", "-n", "-B", "setup", f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    joined = dry.replace("\\\n", " ")
    (line,) = [ln for ln in joined.splitlines() if "scripts/pip_install.py" in ln]
    command = shlex.split(line)
    assert command[0] == f"{venv}/bin/python"
    return [sys.executable, *command[1:]]


def _report(path: Path) -> dict[str, str]:
    """Return {name: version} of what a pip report would install."""
    report = json.loads(path.read_text())
    return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in report["install"]}


def test_the_resolve_make_setup_runs_here_pulls_no_cuda_packages(tmp_path):
    command = _makefile_install_command(tmp_path)
    assert "--torch-index" in command and "requirements-dev.txt" in command
    report = tmp_path / "report.json"
    dry_run = ["--dry-run", "--ignore-installed", "--report", str(report)]
    result = subprocess.run([*command, *dry_run], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    installs = _report(report)
    assert installs["torch"].split("+")[0] == _torch_pin()
    assert not [name for name in installs if CUDA_NAME.match(name)], sorted(installs)
    assert pip_install.cuda_requirements(json.loads(report.read_text())) == []
    assert "(CPU build)" in result.stdout


def _local_torch_wheel() -> Path | None:
    for folder in pip_find_links():
        found = glob.glob(os.path.join(folder, "torch-*+cpu-*.whl"))
        found = [w for w in found if f"torch-{_torch_pin()}+cpu" in w]
        if found:
            return Path(found[0])
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def cpu_index(tmp_path):
    """Serve a stand-in of https://download.pytorch.org/whl/cpu: the local CPU wheel of torch.

    A PEP 503 page for torch whose link carries PEP 658 metadata, so a dry run reads the
    wheel's METADATA and downloads nothing. Yields the index address.
    """
    wheel = _local_torch_wheel()
    if wheel is None:
        pytest.skip(f"no CPU wheel of torch {_torch_pin()} on local disk (pip find-links)")
    site = tmp_path / "index"
    (site / "torch").mkdir(parents=True)
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        data = archive.read(metadata)
    (site / "torch" / (wheel.name + ".metadata")).write_bytes(data)
    os.symlink(wheel, site / "torch" / wheel.name)
    href = urllib.parse.quote(wheel.name)
    digest = hashlib.sha256(data).hexdigest()
    (site / "torch" / "index.html").write_text(
        f'<html><body><a href="{href}" data-dist-info-metadata="sha256={digest}">'
        f"{wheel.name}</a></body></html>"
    )
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _fresh_linux_pip(tmp_path: Path) -> list[str]:
    """pip arguments that see PyPI only, as on a fresh machine (no local wheels, no mirror)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the CUDA build is what PyPI serves on Linux only")
    if not pip_install.index_reachable("https://pypi.org/simple", timeout=5):
        pytest.skip("PyPI cannot be reached: the fresh-machine resolve needs it")
    # Everything pip would read from this machine's config or environment is left out.
    return ["--isolated", "--index-url", "https://pypi.org/simple", "--no-cache-dir"]


def test_on_a_fresh_linux_machine_a_reachable_cpu_index_gives_the_cpu_build(tmp_path, cpu_index):
    report = tmp_path / "report.json"
    pip_args = [*_fresh_linux_pip(tmp_path), f"torch=={_torch_pin()}"]
    dry_run = ["--dry-run", "--ignore-installed", "--report", str(report)]
    result = subprocess.run(
        [*SCRIPT, "--torch-index", cpu_index, "--", *pip_args, *dry_run],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert f"using PyTorch's CPU builds from {cpu_index}" in result.stdout
    installs = _report(report)
    assert installs["torch"] == f"{_torch_pin()}+cpu"
    assert not [name for name in installs if CUDA_NAME.match(name)], sorted(installs)


def test_on_a_fresh_linux_machine_without_the_cpu_index_it_stops_before_the_cuda_build(
    tmp_path,
):
    closed = _closed_port_url()
    pip_args = [*_fresh_linux_pip(tmp_path), f"torch=={_torch_pin()}", "--dry-run"]
    started = time.monotonic()
    result = subprocess.run(
        [*SCRIPT, "--torch-index", closed, "--", *pip_args],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert "cannot be reached" in result.stdout
    assert "a CUDA build" in result.stderr and "TORCH_INDEX=" in result.stderr
    assert "nvidia" in result.stderr or "cuda" in result.stderr
    assert time.monotonic() - started < 60


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/whl/cpu"  # nothing listens there any more


def test_the_probe_answers_false_at_once_for_an_unreachable_index():
    started = time.monotonic()
    assert pip_install.index_reachable(_closed_port_url()) is False
    assert time.monotonic() - started < 1


def test_the_probe_gives_up_on_an_index_that_never_answers():
    with socket.socket() as silent:  # accepts connections, never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/whl/cpu"
        assert pip_install.index_reachable(url, timeout=0.5) is False
        assert time.monotonic() - started < 2


def test_the_probe_accepts_a_reachable_index_and_checks_its_arguments(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "index.html").write_text("<html></html>")
    assert pip_install.index_reachable(tmp_path.as_uri()) is True
    assert pip_install.index_reachable((tmp_path / "missing").as_uri()) is False
    with pytest.raises(ValueError, match="index must start with"):
        pip_install.index_reachable("download.pytorch.org/whl/cpu")
    with pytest.raises(TypeError, match="index must be a str"):
        pip_install.index_reachable(None)
    with pytest.raises(ValueError, match="timeout must be > 0"):
        pip_install.index_reachable(tmp_path.as_uri(), timeout=0)
    with pytest.raises(TypeError, match="timeout must be a number"):
        pip_install.index_reachable(tmp_path.as_uri(), timeout="3")


def test_cuda_requirements_are_read_from_the_torch_in_a_pip_report():
    def report(requires):
        torch = {"metadata": {"name": "torch", "version": "2.13.0", "requires_dist": requires}}
        other = {"metadata": {"name": "numpy", "version": "2.4.6", "requires_dist": None}}
        return {"install": [other, torch]}

    cuda = ['nvidia-cudnn-cu13==9.20.0.48; platform_system == "Linux"', "cuda-bindings<14"]
    assert pip_install.cuda_requirements(report([*cuda, "sympy>=1.13.3"])) == cuda
    assert pip_install.cuda_requirements(report(["filelock", "sympy>=1.13.3"])) == []
    assert pip_install.cuda_requirements({"install": []}) == []
    with pytest.raises(ValueError, match="'install' list"):
        pip_install.cuda_requirements({})
    with pytest.raises(TypeError, match="report must be a dict"):
        pip_install.cuda_requirements([])


def test_off_linux_and_with_cuda_it_is_plain_pip(monkeypatch):
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(pip_install.subprocess, "run", fake_run)
    monkeypatch.setattr(pip_install, "index_reachable", lambda *a, **k: pytest.fail("probed"))
    for platform, flags in (("darwin", []), ("win32", []), ("linux", ["--cuda"])):
        calls.clear()
        monkeypatch.setattr(pip_install.sys, "platform", platform)
        assert pip_install.main([*flags, "--", "-r", "requirements.txt"]) == 0
        assert calls == [[*pip_install.PIP, "-r", "requirements.txt"]], platform


def test_an_empty_torch_index_is_never_probed(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(pip_install.sys, "platform", "linux")
    monkeypatch.setattr(pip_install, "index_reachable", lambda *a, **k: pytest.fail("probed"))
    monkeypatch.setattr(pip_install, "torch_choice", lambda *a: ("2.13.0+cpu from here", []))
    monkeypatch.setattr(
        pip_install.subprocess,
        "run",
        lambda c, **k: calls.append(c) or subprocess.CompletedProcess(c, 0),
    )
    assert pip_install.main(["--torch-index", "", "--", "torch"]) == 0
    assert calls == [[*pip_install.PIP, "torch"]]
    assert "(CPU build)" in capsys.readouterr().out
