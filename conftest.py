"""Root pytest hooks: record how long each notebook takes under nbval.

The per-notebook totals (with the command, date, machine and their sum) go to
``test-artifacts/notebook_times.json`` after every run that executed notebooks; copy them to
``benchmarks/results/notebook_times.json`` (``make times``) and ``scripts/sync_notebooks.py``
puts them in the README's course map.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from collections import defaultdict
from pathlib import Path

_durations: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _durations[Path(path).name] += report.duration


def pytest_sessionfinish(session, exitstatus):
    if _durations:
        out = Path(session.config.rootpath) / "test-artifacts" / "notebook_times.json"
        out.parent.mkdir(exist_ok=True)
        times = {k: round(v, 1) for k, v in sorted(_durations.items())}
        record = {
            "command": "python -m pytest " + " ".join(sys.argv[1:]),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} logical cores, {platform.system()}",
            "total_s": round(sum(times.values()), 1),
            "notebooks": times,
        }
        out.write_text(json.dumps(record, indent=2) + "\n")
