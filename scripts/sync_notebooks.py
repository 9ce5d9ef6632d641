"""Generate the Colab badge and Colab install cell of every lesson, and the README's course map
badges, from the one repository address in pyproject.toml.

Usage: ``python scripts/sync_notebooks.py`` (rewrites in place), or ``--check`` (exit 1 if
anything is out of date; the test suite runs this).

Each notebook gets two generated cells at the top, found again by their metadata tags:
``colab-badge`` (markdown) and ``colab-setup`` (code). The setup cell does nothing outside
Colab; in Colab it pip-installs the course package from the repository, which brings
gymnasium but leaves Colab's own torch alone (the package asks only for ``torch>=2.3``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def setup_source(repo: str) -> str:
    """Return the Colab install cell. ``DQN_COURSE_SOURCE`` overrides where it installs from."""
    return (
        "# Colab only: install what Colab lacks (gymnasium, this course's `utils`).\n"
        "# Colab's own torch is kept (the course asks for torch>=2.3).\n"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    repo = repository_url()
    stale = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
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
    if stale:
        print("out of date (run python scripts/sync_notebooks.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
