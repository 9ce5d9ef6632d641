"""Generate the Colab badge and install cell of every lesson, and the README's course map.

Everything comes from one repository address (pyproject.toml) and the notebooks themselves
(the README's Binder badge, between its ``binder-badge`` markers, too):
the course map lists each lesson's title (its first ``# Lesson N · Title`` heading), the
learner's time (its ``**Time:** about ...`` line), the measured run time under nbval (from
``benchmarks/results/notebook_times.json``, written by ``make test``) and its Colab badge.

Usage: ``python scripts/sync_notebooks.py`` (rewrites in place), or ``--check`` (exit 1 if
anything is out of date; the test suite runs this).

Each notebook gets two generated cells at the top, found again by their metadata tags:
``colab-badge`` (markdown) and ``colab-setup`` (code). The setup cell does nothing outside
Colab; in Colab it pip-installs the course package from the repository, which brings
gymnasium but leaves Colab's own torch alone (the package asks only for ``torch>=2.4``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TIMES = ROOT / "benchmarks" / "results" / "notebook_times.json"
MAP_START, MAP_END = "<!-- course-map:start -->", "<!-- course-map:end -->"
BINDER_START, BINDER_END = "<!-- binder-badge:start -->", "<!-- binder-badge:end -->"
BADGE_TAG = "colab-badge"
SETUP_TAG = "colab-setup"


def repository_url() -> str:
    """Return the repository address from pyproject.toml, without a trailing slash."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"].rstrip("/")


def colab_url(repo: str, notebook: str) -> str:
    """Return the Colab address that opens ``notebooks/<notebook>`` from GitHub."""
    slug = re.sub(r"^https://github\.com/", "", repo)
    return f"https://colab.research.google.com/github/{slug}/blob/main/notebooks/{notebook}"


def badge_markdown(repo: str, notebook: str) -> str:
    """Return the 'Open in Colab' badge for one notebook."""
    return (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(repo, notebook)})"
    )


def binder_badge(repo: str) -> str:
    """Return the 'launch Binder' badge: JupyterLab on mybinder.org, opened at notebooks/."""
    slug = re.sub(r"^https://github\.com/", "", repo)
    return (
        "[![Binder](https://mybinder.org/badge_logo.svg)]"
        f"(https://mybinder.org/v2/gh/{slug}/HEAD?urlpath=lab/tree/notebooks)"
    )


def setup_source(repo: str) -> str:
    """Return the Colab install cell. ``DQN_COURSE_SOURCE`` overrides where it installs from."""
    return (
        "# Colab only: install what Colab lacks (gymnasium, this course's `utils`).\n"
        "# Colab's own torch is kept (the course asks for torch>=2.4).\n"
        "# Elsewhere this cell does nothing.\n"
        "import os\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    source = os.environ.get("DQN_COURSE_SOURCE", "git+{repo}")\n'
        '    pip = [sys.executable, "-m", "pip", "install", "--quiet", source]\n'
        "    subprocess.run(pip, check=True)"
    )


def _cell(cell_type: str, source: str, tag: str) -> dict:
    cell = {"cell_type": cell_type, "metadata": {"tags": [tag]}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _tagged(nb: dict, tag: str) -> int | None:
    for i, cell in enumerate(nb["cells"]):
        if tag in cell.get("metadata", {}).get("tags", []):
            return i
    return None


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def sync_notebook(path: Path, repo: str) -> bool:
    """Bring the badge and setup cells of ``path`` up to date; return True if it changed."""
    nb = json.loads(path.read_text())
    changed = False
    wanted = [
        ("markdown", badge_markdown(repo, path.name), BADGE_TAG, 0),
        ("code", setup_source(repo), SETUP_TAG, None),
    ]
    for cell_type, source, tag, position in wanted:
        index = _tagged(nb, tag)
        if index is None:
            if position is None:  # the setup cell goes right before the first code cell
                position = next(
                    (i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"),
                    len(nb["cells"]),
                )
            nb["cells"].insert(position, _cell(cell_type, source, tag))
            changed = True
        elif _source(nb["cells"][index]) != source:
            nb["cells"][index]["source"] = source
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def _lesson_facts(nb: dict) -> tuple[str, str]:
    """Return (title, learner time) read from a notebook's markdown."""
    text = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    title = re.search(r"^# (.+)$", text, re.MULTILINE)
    minutes = re.search(r"\*\*Time:\*\*\s*(?:about\s*)?([^.*(\n]+)", text)
    return (
        title.group(1).strip() if title else "(untitled)",
        minutes.group(1).strip() if minutes else "?",
    )


def course_map(repo: str, notebooks: list[Path]) -> str:
    """Return the README's course-map table."""
    record = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    times = record.get("notebooks", record)  # older files held only the per-notebook times
    rows = [
        "| notebook | lesson | your time | runs in (CI, 2 cores) | open |",
        "|---|---|---|---|---|",
    ]
    for path in notebooks:
        title, learner = _lesson_facts(json.loads(path.read_text()))
        seconds = times.get(path.name)
        ran = f"{seconds:.0f} s" if seconds is not None else "not measured"
        rows.append(
            f"| [`{path.name}`](notebooks/{path.name}) | {title} | {learner} | {ran} "
            f"| {badge_markdown(repo, path.name)} |"
        )
    total = sum(times.get(path.name, 0.0) for path in notebooks)
    if total and all(path.name in times for path in notebooks):
        rows += ["", f"Whole course under nbval: {total:.0f} s ({total / 60:.1f} minutes)."]
    return "\n".join(rows)


def sync_readme(repo: str, notebooks: list[Path], check: bool) -> bool:
    """Rewrite the course map between its markers; return True if it was (or would be) changed."""
    text = README.read_text()
    start, end = text.index(MAP_START) + len(MAP_START), text.index(MAP_END)
    new = text[:start] + "\n" + course_map(repo, notebooks) + "\n" + text[end:]
    if BINDER_START in new:  # the Binder badge, from the same repository address
        start, end = new.index(BINDER_START) + len(BINDER_START), new.index(BINDER_END)
        new = new[:start] + binder_badge(repo) + new[end:]
    if new == text:
        return False
    if not check:
        README.write_text(new)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    repo = repository_url()
    stale = []
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in notebooks:
        if args.check:
            nb = json.loads(path.read_text())
            for tag, source in (
                (BADGE_TAG, badge_markdown(repo, path.name)),
                (SETUP_TAG, setup_source(repo)),
            ):
                i = _tagged(nb, tag)
                if i is None or _source(nb["cells"][i]) != source:
                    stale.append(f"{path.name}: {tag}")
        elif sync_notebook(path, repo):
            print(f"updated {path.relative_to(ROOT)}")
    if sync_readme(repo, notebooks, args.check):
        if args.check:
            stale.append("README.md: course map")
        else:
            print("updated README.md")
    if stale:
        print("out of date (run python scripts/sync_notebooks.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
