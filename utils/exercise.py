"""The exercise framework: run a learner's function on fixed inputs, print a friendly verdict.

Every lesson's checkers stand on it:

- :class:`Exercise` holds a reference solution, a few fixed input cases, a catalogue of
  typical :class:`Mistake` s (each a deliberately wrong implementation plus a hint), a
  general hint and the solution text.
- :meth:`Exercise.check` calls the learner's function on every case (through the
  exercise's ``harness``, for a function judged by what it does to its inputs) and returns a
  :class:`Verdict`: ``"correct"``, ``"wrong"`` (naming the likely bug when the wrong answers
  match one of the catalogued mistakes on every case, or saying that the function returned
  ``None``: a forgotten ``return``), ``"not attempted"`` (the function is still the stub,
  returns ``...`` or raises ``NotImplementedError``) or ``"error"`` (it raised: the error,
  the line of the learner's code it came from and a hint on finding it, never the
  solution).
- Messages are wrapped at word boundaries (:func:`wrap_message`), so a front end that
  breaks long lines anywhere (JupyterLab breaks them mid-word) never has to.
- :func:`is_stub` says whether a function is still an untouched stub, by comparing its code
  with stubs compiled by the running interpreter (as Kaggle's learntools does), so no
  bytecode detail of any Python release is written down here.

A lesson exposes one ``check_<name>(fn)`` per exercise, in its own module
(``utils.lessons.lessonN``); ``CONTRIBUTING.md`` shows how to add one.
"""

from __future__ import annotations

import copy
import functools
import inspect
import linecache
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "CORRECT",
    "ERROR",
    "ERROR_HINT",
    "FORGOT_RETURN",
    "MESSAGE_WIDTH",
    "NOT_ATTEMPTED",
    "WRONG",
    "Exercise",
    "Mistake",
    "Verdict",
    "is_stub",
    "is_stub_answer",
    "wrap_message",
]

CORRECT = "correct"
WRONG = "wrong"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"

FORGOT_RETURN = "forgot `return`"
"""The mistake name of an answer that returned ``None`` without being a stub."""

MESSAGE_WIDTH = 88
"""Verdict lines are wrapped to this many characters (fits a notebook's output area)."""

ERROR_HINT = (
    "the error says what went wrong and where; print the shapes or values used there "
    "(e.g. `print(x.shape)` just before that line) to see what is off, fix it, and run "
    "this cell again."
)
"""The hint shown when an answer raises: how to find the problem, not the answer."""

# The bodies a stub may have: `...`, `pass`, a docstring, `return None` or `return ...`.
# (`...` and `pass` compile alike, and so do `return None` and an empty body, in the
# releases seen so far; listing them all costs nothing and assumes nothing.)
_STUB_BODIES = ("...", "pass", "return None", "return ...")


@functools.cache
def _stub_codes() -> frozenset[tuple[bytes, tuple]]:
    """``(bytecode, constants without the docstring)`` of every stub shape, compiled here."""
    sources = []
    for body in _STUB_BODIES:
        sources.append(f"def stub():\n    {body}\n")
        sources.append(f'def stub():\n    """A docstring."""\n    {body}\n')
    sources.append('def stub():\n    """A docstring."""\n')
    codes = set()
    for source in sources:
        namespace: dict[str, Any] = {}
        exec(compile(source, "<stub>", "exec"), namespace)
        codes.add(_code_key(namespace["stub"]))
    for body in ("None", "..."):
        codes.add(_code_key(eval(compile(f"lambda: {body}", "<stub>", "eval"))))
    return frozenset(codes)


def _code_key(fn: Any) -> tuple[bytes, tuple]:
    code = fn.__code__
    doc = fn.__doc__
    consts = tuple(
        c for c in code.co_consts if not (doc is not None and isinstance(c, str) and c == doc)
    )
    return code.co_code, consts


def is_stub(fn: Any) -> bool:
    """Return True if ``fn`` is still an exercise stub: its body does nothing.

    A stub's body is ``...``, ``pass``, a docstring, ``return None`` or ``return ...``
    (with or without a docstring, any parameters, also as a lambda). ``fn`` is compared with
    stubs compiled by the running interpreter, whatever its release; decorators that keep the
    original in ``__wrapped__`` (``functools.wraps``, ``@torch.no_grad()``) are looked through.

    Args:
        fn: Any object; callables without Python code (builtins, partials) are not stubs.

    Returns:
        Whether ``fn`` is a stub.
    """
    try:
        fn = inspect.unwrap(fn)
    except ValueError:  # a __wrapped__ cycle: not something a learner wrote
        return False
    fn = getattr(fn, "__func__", fn)  # a bound method's function
    if not inspect.isfunction(fn):
        return False
    if fn.__code__.co_flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE):
        return False
    return _code_key(fn) in _stub_codes()


def is_stub_answer(value: Any) -> bool:
    """Return True for the value a stub returns: ``None`` or ``...``."""
    return value is None or value is Ellipsis


# A line that starts with a short label ("Hint: ", "Error: ") keeps its continuation lines
# aligned after the label.
_LABEL = re.compile(r"^(\s*)((?:[A-Z][\w ]{0,20}|Not quite|Not attempted yet): )")


def wrap_message(text: str, width: int = MESSAGE_WIDTH) -> str:
    """Wrap every line of ``text`` at word boundaries to at most ``width`` characters.

    Continuation lines keep the line's indentation (after a label such as ``"  Hint: "``,
    they line up with the text after it). Lines indented by four spaces or more are code
    and stay as they are; a single word longer than ``width`` is never split.

    Args:
        text: The message, one paragraph per line.
        width: Largest line length (>= 20).

    Returns:
        The wrapped message.

    Raises:
        TypeError: If ``text`` is not a string.
        ValueError: If ``width`` is below 20.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 20:
        raise ValueError(f"width must be an int >= 20, got {width!r}")
    lines = []
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if len(line) <= width or indent >= 4:
            lines.append(line)
            continue
        label = _LABEL.match(line)
        hanging = len(label.group(0)) if label else indent + 2
        lines.extend(
            textwrap.wrap(
                line,
                width=width,
                initial_indent="",
                subsequent_indent=" " * hanging,
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [""]
        )
    return "\n".join(lines)


def _your_line(error: BaseException) -> str | None:
    """Return ``"line N: <source>"`` of the last traceback frame in the learner's own code.

    The learner's code is anything outside this package and outside the Python installation
    (a notebook cell, a test file); library frames (torch, numpy) are skipped, so the line
    shown is the one the learner wrote.
    """
    package = str(Path(__file__).resolve().parent)
    installed = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    found = None
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        resolved = str(Path(filename).resolve()) if not filename.startswith("<") else filename
        if not resolved.startswith(package) and not any(resolved.startswith(p) for p in installed):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    source = linecache.getline(*found).strip()
    return f"line {found[1]}: {source}" if source else f"line {found[1]}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking one answer.

    Attributes:
        status: ``"correct"``, ``"wrong"``, ``"not attempted"`` or ``"error"``.
        message: The friendly text printed for the learner.
        mistake: Name of the catalogued mistake the answer matches, if any.
    """

    status: str
    message: str = field(repr=False)
    mistake: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", wrap_message(self.message))

    @property
    def passed(self) -> bool:
        """True only for a correct answer."""
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer: an implementation of the bug and the hint that fixes it.

    Attributes:
        name: Short name, e.g. ``"forgot the terminal mask"``.
        hint: What to look at, without giving the solution away.
        implementation: The buggy function (same signature as the exercise).
    """

    name: str
    hint: str
    implementation: Callable[..., Any]


def _default_compare(got: Any, expected: Any) -> bool:
    try:
        return bool(np.allclose(np.asarray(got, dtype=float), expected, rtol=1e-6, atol=1e-8))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Exercise:
    """One exercise: reference answer, test cases, typical mistakes, hint and solution.

    Attributes:
        name: The function the learner writes, as named in the notebook.
        reference: The correct implementation.
        cases: Positional-argument tuples the answer is called with (copied for each call,
            so an answer that changes its inputs cannot spoil the next case).
        mistakes: Catalogued wrong answers, tried in order to name the likely bug.
        hint: A general hint, shown for a wrong answer that matches no catalogued mistake.
        solution: The solution as source text (the notebook also folds it in ``<details>``).
        compare: ``compare(got, expected) -> bool``; default: ``numpy.allclose``.
        error_hint: Shown when the answer raises: how to find the problem, never the
            solution (the general ``hint`` may spell out the formula).
        harness: ``harness(fn) -> run``: for a function judged by what it does rather than
            by what it returns (it changes a network in place, say), ``run(*case)`` calls
            ``fn`` on fresh inputs and returns an outcome to compare. Applied alike to the
            learner's answer, the reference and every mistake; stub detection looks at the
            learner's own function, before the harness. None: compare what ``fn`` returns.
    """

    name: str
    reference: Callable[..., Any]
    cases: Sequence[tuple]
    mistakes: Sequence[Mistake] = ()
    hint: str = ""
    solution: str = ""
    compare: Callable[[Any, Any], bool] = field(default=_default_compare)
    error_hint: str = ERROR_HINT
    harness: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None

    def check(self, fn: Callable[..., Any], *, verbose: bool = True) -> Verdict:
        """Run ``fn`` on every case and return (and, if ``verbose``, print) the verdict.

        Args:
            fn: The learner's function.
            verbose: Print the verdict's message.

        Returns:
            A :class:`Verdict`.

        Raises:
            TypeError: If ``fn`` is not callable.
        """
        if not callable(fn):
            raise TypeError(f"fn must be a function (callable), got {type(fn).__name__}")
        verdict = self.not_attempted() if is_stub(fn) else self._judge(self._run(fn))
        if verbose:
            print(verdict.message)
        return verdict

    def _run(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Return what is called on each case: ``fn`` itself, or ``fn`` in the harness."""
        return fn if self.harness is None else self.harness(fn)

    def _judge(self, fn: Callable[..., Any]) -> Verdict:
        answers = []
        for args in self.cases:
            try:
                got = fn(*copy.deepcopy(args))
            except NotImplementedError:
                return self.not_attempted()
            except Exception as error:  # the learner's code may raise anything
                return self._error(error, args)
            if got is None:
                return Verdict(
                    WRONG,
                    f"Your function `{self.name}` returned None: did you forget `return`?\n"
                    "  It ran to its end without returning a value; finish it with "
                    "`return <your result>`.\n"
                    f"  On input {self._show(args)}.",
                    mistake=FORGOT_RETURN,
                )
            if is_stub_answer(got):
                return self.not_attempted()
            answers.append(got)

        reference = self._run(self.reference)
        expected = [reference(*copy.deepcopy(args)) for args in self.cases]
        wrong = [
            i
            for i, (g, e) in enumerate(zip(answers, expected, strict=True))
            if not self.compare(g, e)
        ]
        if not wrong:
            return Verdict(
                CORRECT, f"Correct! `{self.name}` agrees on all {len(self.cases)} test cases."
            )

        for mistake in self.mistakes:
            implementation = self._run(mistake.implementation)
            buggy = [implementation(*copy.deepcopy(args)) for args in self.cases]
            if all(self.compare(g, b) for g, b in zip(answers, buggy, strict=True)):
                return Verdict(
                    WRONG,
                    f"Not quite: it looks like you {mistake.name}.\n  Hint: {mistake.hint}",
                    mistake=mistake.name,
                )
        i = wrong[0]
        return Verdict(
            WRONG,
            f"Not quite: {len(wrong)} of {len(self.cases)} test cases differ.\n"
            f"  For input {self._show(self.cases[i])}\n"
            f"  expected {self._show_value(expected[i])}, got {self._show_value(answers[i])}.\n"
            f"  Hint: {self.hint}",
        )

    def _error(self, error: Exception, args: tuple) -> Verdict:
        """Return the verdict for an answer that raised: the error, where, and how to look."""
        where = _your_line(error)
        lines = [f"Error: `{self.name}` raised {type(error).__name__}: {error}"]
        if where is not None:
            lines.append(f"  In your code, {where}")
        lines.append(f"  Hint: {self.error_hint}")
        lines.append(f"  On input {self._show(args)}.")
        return Verdict(ERROR, "\n".join(lines))

    def not_attempted(self) -> Verdict:
        """Return the verdict for an answer that is still the stub."""
        return Verdict(
            NOT_ATTEMPTED,
            f"Not attempted yet: `{self.name}` still returns the stub's value.\n"
            "Replace the `...` with your code and run this cell again.",
        )

    @staticmethod
    def _show_value(value: Any) -> str:
        if isinstance(value, float | np.floating):
            return f"{float(value):.6g}"
        if isinstance(value, np.ndarray):
            return np.array2string(value, precision=4)
        return repr(value)

    def _show(self, args: tuple) -> str:
        return "(" + ", ".join(self._show_value(a) for a in args) + ")"

    def show_hint(self) -> None:
        """Print the general hint."""
        print(wrap_message(f"Hint: {self.hint}"))

    def show_solution(self) -> None:
        """Print the solution."""
        print(self.solution)
