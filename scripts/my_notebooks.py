"""Keep the learner's copy of the lessons apart from the course's, so `git pull` always works.

Running a lesson saves its outputs and the learner's answers into the notebook; in the
tracked ``notebooks/`` that would make every later ``git pull`` conflict. So ``make lab``
opens a git-ignored working copy, ``my-notebooks/``, kept up to date by this script:

- ``sync``: copy every course file that the working copy lacks (new lessons after a
  ``git pull``). A lesson the learner never changed is replaced by the course's new
  version; a lesson the learner changed is never overwritten: if the course changed it
  too, ``sync`` says so and how to get the new version.
- ``reset 03 [04 ...]``: move the learner's copy of those lessons to ``backup/`` (with the
  date in the name; unless it is still as copied) and take a fresh one from the course.

What was copied is recorded in ``.course.json`` inside the working copy (fingerprints of
the course's cell sources, and of the copied file), which is how changes are told apart.
Usage: ``python scripts/my_notebooks.py sync|reset [PREFIX ...] [--to DIR] [--course DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ".course.json"
BACKUP = "backup"


def course_fingerprint(path: Path) -> str:
    """Return a hash of what a course file teaches: a notebook's cell sources, else its bytes.

    Outputs and execution counts are left out, so re-executing a lesson (``make notebooks``)
    does not count as a change to it.

    Raises:
        TypeError: If ``path`` is not a Path.
        ValueError: If ``path`` is not a file.
    """
    if not isinstance(path, Path):
        raise TypeError(f"path must be a pathlib.Path, got {type(path).__name__}")
    if not path.is_file():
        raise ValueError(f"path must be an existing file, got {path}")
    if path.suffix != ".ipynb":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    cells = json.loads(path.read_text())["cells"]
    taught = [[c["cell_type"], "".join(c["source"])] for c in cells]
    return hashlib.sha256(json.dumps(taught).encode()).hexdigest()


def file_hash(path: Path) -> str:
    """Return the sha256 of a file's bytes (to tell whether the learner changed a copy)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def course_files(course: Path) -> list[Path]:
    """Return the files of the course folder a learner needs: everything but hidden files."""
    return sorted(
        p
        for p in course.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(course).parts)
    )


def _load_record(work: Path) -> dict[str, dict[str, str]]:
    path = work / RECORD
    return json.loads(path.read_text()) if path.is_file() else {}


def _save_record(work: Path, record: dict[str, dict[str, str]]) -> None:
    (work / RECORD).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


def _copy(source: Path, target: Path, record: dict[str, dict[str, str]], name: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    record[name] = {"course": course_fingerprint(source), "copied": file_hash(target)}


def sync(course: Path, work: Path) -> list[str]:
    """Bring the working copy up to date without touching the learner's changes.

    Args:
        course: The course's lessons (``notebooks/``).
        work: The learner's working copy (``my-notebooks/``); created if missing.

    Returns:
        One line per thing done or to tell the learner (empty when all was up to date).

    Raises:
        ValueError: If ``course`` is not a folder, or ``work`` is the same folder.
    """
    if not course.is_dir():
        raise ValueError(f"course must be a folder of lessons, got {course}")
    if work.resolve() == course.resolve():
        raise ValueError(f"work must be another folder than the course's, got {work}")
    work.mkdir(parents=True, exist_ok=True)
    record, said = _load_record(work), []
    for source in course_files(course):
        name = source.relative_to(course).as_posix()
        target, seen = work / name, record.get(name)
        if not target.exists():
            _copy(source, target, record, name)
            said.append(f"copied {name}")
        elif seen is None or seen["course"] == course_fingerprint(source):
            continue  # up to date, or a file of the learner's own with a course name
        elif file_hash(target) == seen["copied"]:  # never changed by the learner
            _copy(source, target, record, name)
            said.append(f"updated {name} (the course changed it; you had not)")
        else:
            prefix = name.split("_", 1)[0]
            said.append(
                f"{name}: the course has a new version; yours is kept. "
                f"`make reset-lesson L={prefix}` takes the new one "
                f"(yours goes to {work.name}/{BACKUP}/)"
            )
    _save_record(work, record)
    return said


def reset(course: Path, work: Path, prefixes: list[str]) -> list[str]:
    """Replace the learner's copies of some lessons by fresh ones; keep the old in backup/.

    Args:
        course: The course's lessons (``notebooks/``).
        work: The learner's working copy (``my-notebooks/``).
        prefixes: Lesson name prefixes, e.g. ``["03"]``; each must match exactly one lesson.

    Returns:
        One line per lesson: where the old copy went, and that a fresh one is in place.

    Raises:
        ValueError: If ``prefixes`` is empty or a prefix matches no lesson or several,
            before anything is moved.
    """
    if not prefixes:
        raise ValueError("prefixes must name at least one lesson, e.g. ['03']")
    lessons = sorted(course.glob("*.ipynb"))
    chosen = []
    for prefix in prefixes:
        matches = [p for p in lessons if p.name.startswith(prefix)]
        if len(matches) != 1:
            names = ", ".join(p.name for p in lessons)
            raise ValueError(f"lesson {prefix!r} matches {len(matches)} notebooks; one of: {names}")
        chosen.append(matches[0])
    work.mkdir(parents=True, exist_ok=True)
    record, said, stamp = _load_record(work), [], time.strftime("%Y%m%d-%H%M%S")
    for source in chosen:
        target, seen = work / source.name, record.get(source.name)
        if target.exists() and seen is not None and file_hash(target) == seen["copied"]:
            said.append(f"your {source.name} was as copied: nothing to keep")
        elif target.exists():
            backup = work / BACKUP / f"{source.stem}-{stamp}{source.suffix}"
            backup.parent.mkdir(exist_ok=True)
            target.rename(backup)
            said.append(f"your {source.name} is now {work.name}/{BACKUP}/{backup.name}")
        _copy(source, target, record, source.name)
        said.append(f"fresh copy of {source.name} from the course")
    _save_record(work, record)
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["sync", "reset"])
    parser.add_argument("lessons", nargs="*", help="for reset: lesson prefixes, e.g. 03")
    parser.add_argument("--to", default="my-notebooks", help="the working copy")
    parser.add_argument("--course", default=str(ROOT / "notebooks"), help="the course's lessons")
    args = parser.parse_intermixed_args(argv)
    course, work = Path(args.course), Path(args.to)
    try:
        if args.action == "sync":
            said = sync(course, work)
        else:
            said = reset(course, work, args.lessons)
    except ValueError as error:
        print(f"my_notebooks: {error}", file=sys.stderr)
        return 2
    for line in said:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
