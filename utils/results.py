"""Committed benchmark results: where they live and how a lesson loads them.

A lesson that shows a number too expensive to measure live loads it from a results file of
``benchmarks/results`` (written by a script of ``benchmarks/``, never edited by hand) and labels
it as loaded. :func:`load_result` reads the file from this repository, or, where the package
was installed without the repository (Colab), downloads the same file from :data:`RESULTS_URL`.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from utils._checks import check_str

__all__ = ["RESULTS_URL", "load_result", "results_dir"]

RESULTS_URL = "https://raw.githubusercontent.com/dqn-course/dqn-course/main/benchmarks/results"
"""Where :func:`load_result` finds a results file when the repository is not on disk."""


def results_dir() -> Path:
    """Return ``benchmarks/results`` of the repository this package sits in (may not exist)."""
    return Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def load_result(name: str, directory: str | Path | None = None) -> dict[str, Any]:
    """Load the committed results file ``<name>.json``.

    Looked up in ``directory`` (default :func:`results_dir`); where it is missing (a Colab
    install has the package, not the benchmarks), downloaded from :data:`RESULTS_URL`.

    Args:
        name: File stem, e.g. ``'hold_sweep'`` or ``'ablation_2x2'``.
        directory: Folder holding the results files.

    Returns:
        The parsed JSON, with ``'_source'`` added: the path or URL it was read from.

    Raises:
        TypeError, ValueError: On a bad argument (the message names it).
        FileNotFoundError: If the file is neither on disk nor downloadable.
    """
    name = check_str("name", name)
    if not name or "/" in name or name.endswith(".json"):
        raise ValueError(f"name must be a file stem such as 'hold_sweep', got {name!r}")
    if directory is not None and not isinstance(directory, (str, Path)):
        raise TypeError(f"directory must be a str or Path, got {type(directory).__name__}")
    folder = results_dir() if directory is None else Path(directory)
    path = folder / f"{name}.json"
    if path.exists():
        data, source = json.loads(path.read_text()), str(path)
    else:
        url = f"{RESULTS_URL}/{name}.json"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                data, source = json.loads(response.read()), url
        except OSError as error:
            raise FileNotFoundError(f"{path} does not exist and {url} failed: {error}") from error
    data["_source"] = source
    return data
