"""Fixtures for the real-browser test: a JupyterLab server and a headless Chromium.

Which lessons run is chosen by ``--browser-lessons`` or the ``BROWSER_LESSONS`` environment
variable: ``all``, or notebook prefixes separated by commas (``00,01``). When neither is
given every browser test is skipped, so ``pytest tests`` stays fast; ``make test-browser``
runs them all and ``make test`` runs Lesson 1 (see the README).

The browser is Debian's Chromium at ``/usr/bin/chromium`` (``CHROMIUM`` overrides the
path); Playwright only drives it and never downloads a browser of its own. Without
Chromium or Playwright the tests skip and say why, except under CI (``CI`` set), where a
missing browser is an error: CI must really run them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# BROWSER_NOTEBOOKS: another folder of lessons to try (default: this checkout's notebooks/).
NOTEBOOKS = Path(os.environ.get("BROWSER_NOTEBOOKS", ROOT / "notebooks")).resolve()
# What each lesson measured (filled by the test), printed at the end of the session.
TIMINGS: dict[str, dict] = {}
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The flags that let Chromium start cleanly as root on a machine with no network but
# loopback: no sandbox, no GPU, and none of its background calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
# No "get Jupyter news?" toast over the screenshots, and no request to the internet for it.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--browser-lessons",
        default=None,
        help="lessons to run in JupyterLab in a real browser: 'all' or prefixes like '00,01' "
        "(default: the BROWSER_LESSONS environment variable; unset = skip the browser tests)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: runs a lesson in JupyterLab in headless Chromium")
    config.addinivalue_line("markers", "slow: takes a minute or more (deselect with -m 'not slow')")


def chosen_lessons(config: pytest.Config) -> str | None:
    """Return the ``--browser-lessons`` / ``BROWSER_LESSONS`` choice, or None if not asked."""
    choice = config.getoption("--browser-lessons") or os.environ.get("BROWSER_LESSONS")
    return choice.strip() if choice and choice.strip() else None


def is_chosen(path: Path, choice: str) -> bool:
    """Say whether the lesson at ``path`` is in ``choice`` ('all' or comma-separated prefixes)."""
    if choice.lower() == "all":
        return True
    return any(path.name.startswith(p.strip()) for p in choice.split(",") if p.strip())


def _missing_browser_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: pip install -r requirements-browser.txt"
    if not os.access(CHROMIUM, os.X_OK):
        return (
            f"no Chromium at {CHROMIUM}: `make test-browser` installs Debian's chromium with "
            "apt-get (as root), or set CHROMIUM to a Chromium/Chrome binary"
        )
    return None


@pytest.hookimpl(trylast=True)  # after -m/-k deselection: only what will run matters
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_items = [item for item in items if "browser" in item.keywords]
    if not browser_items:
        return
    choice = chosen_lessons(config)
    if choice is None:
        skip = pytest.mark.skip(
            reason="browser test not requested: `make test-browser` runs every lesson, "
            "or set BROWSER_LESSONS=01 (or 'all')"
        )
        for item in browser_items:
            item.add_marker(skip)
        return
    reason = _missing_browser_reason()
    if reason is not None and os.environ.get("CI"):
        raise pytest.UsageError(f"CI must run the browser test, but: {reason}")
    for item in browser_items:
        lesson = item.callspec.params.get("lesson") if hasattr(item, "callspec") else None
        if lesson is not None and not is_chosen(Path(lesson), choice):
            item.add_marker(pytest.mark.skip(reason=f"not in BROWSER_LESSONS={choice}"))
        elif reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: where it is, how to get in, and the folder it serves."""

    url: str
    token: str
    notebook_dir: Path
    log: Path

    def api(self, method: str, path: str) -> object:
        """Call the Jupyter Server REST API; return the decoded JSON (None if empty)."""
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so the next lesson has the CPU to itself."""
        for session in self.api("GET", "/api/sessions") or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def lab_url(self, notebook: str) -> str:
        """Return the address that opens ``notebook`` in its own fresh workspace."""
        workspace = f"test-{uuid.uuid4().hex[:8]}"
        return f"{self.url}/lab/workspaces/{workspace}/tree/{notebook}?token={self.token}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def lab(artifacts: Path):
    """Start JupyterLab on 127.0.0.1 (free port, token) over a copy of notebooks/."""
    with tempfile.TemporaryDirectory(prefix="dqn-course-lab-") as tmp:
        tmp_path = Path(tmp)
        notebook_dir = tmp_path / "notebooks"
        # A copy: running the lessons must not touch the committed notebooks.
        shutil.copytree(NOTEBOOKS, notebook_dir, ignore=shutil.ignore_patterns(".ipynb_*"))
        settings_dir = tmp_path / "lab-settings"
        for name, value in LAB_SETTINGS.items():
            path = settings_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        token = uuid.uuid4().hex
        port = _free_port()
        env = {
            **os.environ,
            # Nothing from the user's own Jupyter setup leaks in, nothing is left behind.
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_DATA_DIR": str(tmp_path / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
            "IPYTHONDIR": str(tmp_path / "ipython"),
            # The kernel imports this checkout's utils, as `make lab` does.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "SDL_VIDEODRIVER": "dummy",
            "SDL_AUDIODRIVER": "dummy",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        log = artifacts / "jupyterlab.log"
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={notebook_dir}",
        ]
        with open(log, "w") as log_file:
            process = subprocess.Popen(
                command, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=tmp_path
            )
            url = f"http://127.0.0.1:{port}"
            running = Lab(url=url, token=token, notebook_dir=notebook_dir, log=log)
            try:
                deadline = time.monotonic() + 120
                while True:
                    if process.poll() is not None:
                        pytest.fail(f"JupyterLab exited with {process.returncode}; see {log}")
                    try:
                        running.api("GET", "/api/status")
                        break
                    except (urllib.error.URLError, ConnectionError, TimeoutError):
                        if time.monotonic() > deadline:
                            pytest.fail(f"JupyterLab did not answer within 120 s; see {log}")
                        time.sleep(0.5)
                yield running
            finally:
                process.send_signal(signal.SIGTERM)  # the server shuts its kernels down
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory):
    """Launch Debian's Chromium, headless, with a fresh profile; yield its context."""
    from playwright.sync_api import sync_playwright

    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),  # Playwright passes it as --user-data-dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def browser_timings() -> dict[str, dict]:
    return TIMINGS


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("lessons in JupyterLab (headless Chromium)")
    for name, t in TIMINGS.items():
        widgets = ", ".join(
            f"{w['move']} -> new output in {w['seconds_to_new_output']:.1f} s"
            for w in t.get("widgets", [])
        )
        write(
            f"{name}: opened in {t.get('seconds_to_open', '?')} s, Run All in "
            f"{t.get('seconds_run_all', '?')} s; widgets: {widgets or 'none'}"
        )
        if t.get("widget_start"):
            start = ", ".join(f"{label} = {value}" for label, value in t["widget_start"])
            write(f"  widget starts at: {start}")
        for a in t.get("animations", []):
            f = a.get("first_frame", {})
            write(
                f"  animation in cell {a['cell']}: first frame shown at once "
                f"({f.get('width', 0):.0f} x {f.get('height', 0):.0f} px, pixel std "
                f"{f.get('pixel_std', 0)}); steps through frames; "
                f"{a['buttons_with_icons']} of its buttons show an icon"
            )
        if t.get("long_cells_without_progress_bar"):
            write(
                f"  cells over 10 s without a progress bar: {t['long_cells_without_progress_bar']}"
            )
    write(f"screenshots and timings: {ARTIFACTS}")
