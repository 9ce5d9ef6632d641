"""The repository keeps its promises: one environment, generated cells in sync, CI = make test,
and a library whose imports flow one way, in files short enough to read."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _requirement_pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, version = re.fullmatch(r"([A-Za-z0-9_.\-\[\]]+)==(\S+)", line).groups()
        pins[name.lower()] = version
    return pins


def test_environment_yml_and_requirements_name_the_same_pins():
    req = _requirement_pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = _requirement_pins([p for p in pip_section if not p.startswith("-e")])
    assert conda_pins == req
    assert req["torch"] == "2.13.0"  # the CPU wheel on disk; a range would pull a CUDA build


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make lab" in readme
    commands = [ln for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert commands[-1].strip() == "make test"


def test_generated_badges_install_cells_and_course_map_are_in_sync():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync_notebooks.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_notebook_is_committed_executed_without_errors():
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
        assert counts == list(range(1, len(counts) + 1)), f"{path.name}: re-run top to bottom"
        errors = [
            o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"
        ]
        assert not errors, f"{path.name} has stored error outputs"


def test_importing_utils_has_no_side_effects():
    modules = ", ".join(sorted(MODULES))
    code = (
        "import random, numpy, torch; s = torch.random.get_rng_state();"
        f"import {modules};"
        "assert torch.equal(s, torch.random.get_rng_state()); print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "ok", out.stderr


# --- the library's layout: which part may import which ----------------------------------------

UTILS = ROOT / "utils"
#: Figure, widget and exercise primitives shared by the lessons.
PRIMITIVES = {
    "utils.figures",
    "utils.run_figures",
    "utils.frames",
    "utils.explorer",
    "utils.exercise",
}
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(UTILS.rglob("*.py"))}


def part(module: str) -> str:
    """``"engine"``, ``"lesson N"``, ``"lessons"`` (the package), ``"primitive"`` or ``"core"``."""
    if module == "utils.engine" or module.startswith("utils.engine."):
        return "engine"
    if module.startswith("utils.lessons."):
        lesson = re.match(r"lesson(\d+)", module.split(".")[2])
        return f"lesson {int(lesson.group(1))}" if lesson else "lessons"
    if module == "utils.lessons":
        return "lessons"
    return "primitive" if module in PRIMITIVES else "core"


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every ``utils`` module that ``source`` imports, at the top or inside a function."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from utils.lessons import lesson3` imports the module utils.lessons.lesson3
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES}


def forbidden(importer: str, imported: str) -> bool:
    """True if ``importer`` may not import ``imported`` (imports flow core <- engine <-
    primitives <- lessons, and a lesson never imports another lesson)."""
    mine, theirs = part(importer), part(imported)
    if mine == "core":
        return theirs != "core"
    if mine == "engine":
        return theirs not in ("core", "engine")
    if mine == "primitive":
        return theirs not in ("core", "engine", "primitive")
    if mine.startswith("lesson "):
        return theirs.startswith("lesson ") and theirs != mine
    return False


def test_imports_flow_one_way_and_lessons_never_import_each_other():
    violations = []
    for module, path in MODULES.items():
        source = path.read_text()
        for imported in imported_modules(source, module, path.name == "__init__.py"):
            if forbidden(module, imported):
                violations.append(
                    f"{module} ({part(module)}) imports {imported} ({part(imported)})"
                )
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize(
    ("importer", "source", "bad"),
    [
        ("utils.lessons.lesson3", "from utils.lessons.lesson4 import plot_one_vs_two", True),
        ("utils.lessons.lesson3", "from utils.lessons import lesson2", True),
        ("utils.lessons.lesson6", "from utils.lessons.lesson6_diagnostics import x", False),
        ("utils.lessons.lesson5", "from .lesson4 import x", True),
        ("utils.lessons.lesson5", "from utils.figures import new_figure", False),
        ("utils.lessons.lesson5", "from utils.engine import train_many", False),
        ("utils.dqn", "def f():\n    from utils.engine import train_many", True),
        ("utils.dqn", "import utils.figures", True),
        ("utils.dqn", "from utils.lessons.lesson1 import check_q_update", True),
        ("utils.dqn", "from utils.networks import QNetwork", False),
        ("utils.engine", "from utils.run_figures import run_groups", True),
        ("utils.figures", "from utils.lessons.lesson1 import plot_q_scatter", True),
        ("utils.run_figures", "from utils.figures import new_figure", False),
    ],
)
def test_the_import_check_catches_what_it_should(importer, source, bad):
    imported = imported_modules(source, importer)
    assert imported, f"nothing recognised in {source!r}"
    assert any(forbidden(importer, m) for m in imported) == bad


def test_every_part_of_the_layout_exists():
    parts = {part(m) for m in MODULES}
    assert {"core", "engine", "primitive", "lessons"} <= parts
    assert {f"lesson {n}" for n in range(6)} <= parts
    assert PRIMITIVES <= set(MODULES)


def test_no_utils_file_is_longer_than_500_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in MODULES.values()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these files (at most {MAX_LINES} lines each): {long}"
