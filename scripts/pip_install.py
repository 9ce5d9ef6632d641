"""Install requirements with pip, taking PyTorch's CPU build on Linux (what `make setup` runs).

On Linux, PyPI's ``torch`` is a CUDA build that pulls several GB of ``nvidia-*`` packages the
course never uses. PyTorch's CPU index (``--torch-index``, by default
https://download.pytorch.org/whl/cpu) serves ``torch==X+cpu``, which pip prefers to PyPI's
``X`` whenever it sees both. Whether that index can be reached is decided here, at install
time, not written into a requirements file: a file that names an unreachable index makes
pip retry every package about five times (CI, firewalls, machines with a local mirror).

1. On Linux, probe the index (``<index>/torch/``) for at most ``PROBE_SECONDS``. Reachable:
   pip gets ``--extra-index-url <index>``. Unreachable: pip uses only its usual sources
   (PyPI, a mirror, local wheels in ``PIP_FIND_LINKS``).
2. On Linux, before anything is downloaded, ask pip which torch it would take
   (``pip install --dry-run --no-deps --report``) and stop, saying what to do, if that
   torch is a CUDA build (it requires ``nvidia-*`` or ``cuda-*`` packages).
3. Run ``pip install`` with the given arguments.

``--cuda`` skips 1 and 2 (PyTorch's default build, for GPU experiments).
Usage: ``python scripts/pip_install.py [--torch-index URL] [--cuda] -- PIP_INSTALL_ARGS...``
(an empty ``--torch-index ""`` never probes). Standard library only: it runs in a bare venv.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
PROBE_SECONDS = 3.0
# Requirements that only a CUDA build of torch has (its Linux wheels on PyPI).
CUDA_REQUIREMENT = re.compile(r"^\s*(nvidia|cuda|triton)[-_.\w]*", re.IGNORECASE)
PIP = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]


def index_reachable(index: str, timeout: float = PROBE_SECONDS) -> bool:
    """Return True if ``<index>/torch/`` answers with a success status within ``timeout`` s.

    The request runs in a daemon thread so that a slow DNS lookup (which socket timeouts do
    not cover) cannot hold the install up for longer than ``timeout`` either.

    Args:
        index: Address of a PEP 503 package index, e.g. https://download.pytorch.org/whl/cpu.
        timeout: Seconds to wait at most, > 0.

    Raises:
        TypeError: If ``index`` is not a str or ``timeout`` not a number.
        ValueError: If ``index`` is not an http(s) or file address, or ``timeout`` <= 0.
    """
    if not isinstance(index, str):
        raise TypeError(f"index must be a str, got {type(index).__name__}")
    if not re.match(r"^(https?|file)://", index):
        raise ValueError(f"index must start with http://, https:// or file://, got {index!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(f"timeout must be a number of seconds, got {type(timeout).__name__}")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    page = index.rstrip("/") + "/torch/"
    if index.startswith("file://"):  # a mirror on disk: is there a page for torch?
        return os.path.exists(urllib.request.url2pathname(urllib.parse.urlparse(page).path))
    answer: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(page, timeout=timeout) as r:
                answer.append(200 <= getattr(r, "status", 200) < 300)
        except (OSError, ValueError, urllib.error.URLError):
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


def cuda_requirements(report: dict) -> list[str]:
    """Return the CUDA requirements of the torch that a ``pip --report`` would install.

    Args:
        report: A pip installation report (``pip install --dry-run --report FILE``), as
            decoded JSON: ``{"install": [{"metadata": {"name", "version", "requires_dist"}}]}``.

    Returns:
        The ``nvidia-*``, ``cuda-*`` and ``triton`` requirements of the reported torch; empty
        for a CPU build or when no torch is in the report.

    Raises:
        TypeError: If ``report`` is not a dict.
        ValueError: If ``report`` has no ``install`` list.
    """
    if not isinstance(report, dict):
        raise TypeError(f"report must be a dict (decoded pip report), got {type(report).__name__}")
    if not isinstance(report.get("install"), list):
        raise ValueError("report must have an 'install' list, as pip's --report writes")
    found = []
    for item in report["install"]:
        metadata = item.get("metadata", {})
        if metadata.get("name", "").lower() == "torch":
            found += [r for r in metadata.get("requires_dist") or [] if CUDA_REQUIREMENT.match(r)]
    return found


def torch_choice(pip_args: list[str], index_args: list[str]) -> tuple[str, list[str]] | None:
    """Ask pip which torch it would install; return (version and source, CUDA requirements).

    Resolves the top-level requirements only (``--no-deps``, ``--dry-run``), so nothing is
    downloaded but metadata. Returns None when the arguments name no torch.

    Raises:
        SystemExit: If pip cannot resolve the requirements (pip has printed why).
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "report.json")
        command = [*PIP, *index_args, *pip_args, "--dry-run", "--no-deps", "--ignore-installed"]
        result = subprocess.run([*command, "--quiet", "--report", path])
        if result.returncode != 0:
            raise SystemExit(result.returncode)
        with open(path) as f:
            report = json.load(f)
    for item in report["install"]:
        if item["metadata"]["name"].lower() == "torch":
            where = item.get("download_info", {}).get("url", "?")
            return f"{item['metadata']['version']} from {where}", cuda_requirements(report)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-index", default=DEFAULT_TORCH_INDEX, help="CPU wheel index")
    parser.add_argument("--cuda", action="store_true", help="allow PyPI's CUDA build of torch")
    parser.add_argument("pip_args", nargs="+", help="arguments for pip install (after --)")
    args = parser.parse_args(argv)

    index_args: list[str] = []
    if sys.platform.startswith("linux") and not args.cuda:
        if args.torch_index and index_reachable(args.torch_index):
            index_args = ["--extra-index-url", args.torch_index]
            print(f"torch: using PyTorch's CPU builds from {args.torch_index}", flush=True)
        elif args.torch_index:
            print(
                f"torch: {args.torch_index} cannot be reached (waited {PROBE_SECONDS:.0f} s "
                "at most); pip uses its usual sources",
                flush=True,
            )
        choice = torch_choice(args.pip_args, index_args)
        if choice is not None:
            torch, cuda = choice
            if cuda:
                names = [re.split(r"[\s\[<>=!~;]", r.strip(), maxsplit=1)[0] for r in cuda]
                index = args.torch_index or DEFAULT_TORCH_INDEX
                print(
                    "torch: stopped before installing anything. pip would take torch "
                    f"{torch},\n  a CUDA build that pulls several GB "
                    f"({', '.join(names[:4])}, ...) the course does not use. Instead:\n"
                    f"  - let this machine reach {index} (behind a proxy: HTTPS_PROXY=...),\n"
                    "    or name a mirror of it: make setup TORCH_INDEX=URL\n"
                    "  - or put a CPU wheel of torch where pip finds it: "
                    "PIP_FIND_LINKS=FOLDER make setup\n"
                    "  - or take the CUDA build anyway (for a GPU): make setup CUDA=1",
                    file=sys.stderr,
                )
                return 1
            print(f"torch: {torch} (CPU build)", flush=True)
    return subprocess.run([*PIP, *index_args, *args.pip_args]).returncode


if __name__ == "__main__":
    sys.exit(main())
