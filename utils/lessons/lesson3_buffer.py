"""Lesson 3's first exercise: the learner's replay buffer, checked against ``utils.replay``.

:func:`check_replay_buffer` runs the learner's buffer class through a fixed script (fill part
of it, sample, fill it past its capacity, sample again) next to
:class:`utils.replay.ReplayBuffer` fed the same transitions, and names the first thing that
differs: no wrap-around, the wrong slot overwritten, samples from unfilled slots, wrong dtypes
or shapes, ``truncated`` stored as terminal, arrays that are not preallocated, ...
:class:`SolutionReplayBuffer` is the solution the notebook folds away (its solution cell is
this class's source; a test keeps them equal).
"""

from __future__ import annotations

import functools
import traceback
import warnings
from typing import Any

import numpy as np
import torch

from utils.exercise import CORRECT, ERROR, ERROR_HINT, NOT_ATTEMPTED, WRONG, Verdict, is_stub
from utils.replay import ReplayBuffer

__all__ = ["BUFFER_MISTAKES", "SolutionReplayBuffer", "check_replay_buffer"]


class SolutionReplayBuffer:
    # a ring buffer of the last `capacity` transitions, in NumPy arrays allocated once

    def __init__(self, capacity, obs_dim):
        self.capacity, self.pos, self.size = capacity, 0, 0
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)

    def __len__(self):
        return self.size

    def add(self, obs, action, reward, next_obs, terminated, truncated):
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i] = next_obs
        self.terminated[i] = terminated  # not truncated: after a time limit s' has a future
        self.pos = (i + 1) % self.capacity  # wrap around: the oldest slot is written next
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size, rng):
        idx = rng.integers(0, self.size, batch_size)  # uniform over the filled slots only
        return (
            torch.from_numpy(self.obs[idx]),
            torch.from_numpy(self.actions[idx]),
            torch.from_numpy(self.rewards[idx]),
            torch.from_numpy(self.next_obs[idx]),
            torch.from_numpy(self.terminated[idx]),
        )


# --------------------------------------------------------------------------------------
# The replay buffer checker
# --------------------------------------------------------------------------------------

CAPACITY, OBS_DIM = 5, 3
_N_ADDED = 7  # past the capacity: the first two are overwritten
_TERMINATED = {1, 4}  # transition ids whose next_obs is terminal
_TRUNCATED = {2, 5}  # transition ids cut by the time limit (not terminal)
_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")
_DTYPES = (torch.float32, torch.int64, torch.float32, torch.float32, torch.float32)

BUFFER_MISTAKES = {
    "not preallocated": (
        "allocate every array once in `__init__` (`np.zeros((capacity, obs_dim), "
        "dtype=np.float32)`, ...) and write into slot `self.pos` in `add`; lists that grow, "
        "or `np.append`/`np.concatenate`, copy the whole buffer on every step."
    ),
    "did not count the transitions in len()": (
        "`len(buffer)` must be the number of stored transitions: 1 after the first `add`, "
        "and never more than `capacity`."
    ),
    "did not wrap around": (
        "when `self.pos` reaches `capacity` it must go back to 0 (`(self.pos + 1) % "
        "self.capacity`), so the oldest transition is overwritten."
    ),
    "stopped storing new transitions once full": (
        "a full buffer keeps the *latest* `capacity` transitions: overwrite the oldest slot "
        "instead of ignoring what comes in."
    ),
    "overwrote the wrong slot": (
        "once full, the next write goes to the slot of the oldest transition: keep one write "
        "position, `self.pos`, advance it by one after every add and wrap it with "
        "`% self.capacity`."
    ),
    "let the size grow past the capacity": (
        "`self.size = min(self.size + 1, self.capacity)`: a full buffer holds `capacity` "
        "transitions, however many were added."
    ),
    "sampled from slots that are not filled yet": (
        "before the buffer is full, only the first `self.size` slots hold transitions; the "
        "rest are the zeros from `np.zeros`. Draw indices from `range(self.size)`, not "
        "`range(self.capacity)`."
    ),
    "sampled only part of the filled slots": (
        "every stored transition must be equally likely: `rng.integers(0, self.size, batch_size)`."
    ),
    "sampled without replacement": (
        "early in training the batch can be larger than what is stored; draw with "
        "replacement (`rng.integers(0, self.size, batch_size)`)."
    ),
    "ignored the rng argument": (
        "draw the indices with the generator you are given (`rng.integers(...)`), not with "
        "`np.random` or `random`: then the same seed gives the same batches."
    ),
    "drew a separate random index for each field": (
        "one transition is one index: draw `idx` once and use it for all five arrays, or "
        "obs, action and reward come from different transitions."
    ),
    "stored truncated as terminal": (
        "store `terminated` only. A time limit (`truncated`) ends the episode but s' still "
        "has a future, so the target must keep bootstrapping there."
    ),
    "stored truncated instead of terminated": (
        "the flag that says s' has no future is `terminated`; `truncated` is not stored at all."
    ),
    "stored the transitions wrongly": (
        "each slot must hold the transition as given: obs, action, reward, next_obs and "
        "terminated of one `add` call."
    ),
    "returned the wrong fields": (
        "`sample` returns a tuple of five tensors, in this order: (obs, actions, rewards, "
        "next_obs, terminated)."
    ),
    "returned the wrong type, dtype or shape": (
        "return torch tensors (`torch.from_numpy(array[idx])`): obs and next_obs "
        "(batch, obs_dim) float32, actions (batch,) int64, rewards and terminated (batch,) "
        "float32; preallocate the arrays with these dtypes."
    ),
}
"""Every mistake :func:`check_replay_buffer` can name, with its hint."""


def _transition(i: int) -> tuple:
    """The ``i``-th transition of the script; its reward ``i + 1`` identifies it."""
    obs = np.array([i + 1.0, -(i + 1.0), 0.5 * (i + 1)], dtype=np.float32)
    return obs, i % 2, float(i + 1), obs + 10.0, i in _TERMINATED, i in _TRUNCATED


@functools.cache
def _reference_contents() -> tuple[tuple[int, ...], tuple[int, ...], dict[int, float]]:
    """What :class:`utils.replay.ReplayBuffer` holds after 3 and after 7 of the transitions.

    Returns:
        The ids stored after 3 adds, after all 7, and each id's stored ``terminated`` flag.
    """
    buffer = ReplayBuffer(CAPACITY, (OBS_DIM,))
    stored, flags = [], {}
    for i in range(_N_ADDED):
        obs, action, reward, next_obs, terminated, _ = _transition(i)
        buffer.add(obs, action, reward, next_obs, terminated)
        if i in (2, _N_ADDED - 1):
            n = len(buffer)
            ids = [round(float(r)) - 1 for r in buffer.rewards[0, :n]]
            flags.update(zip(ids, buffer.terminated[0, :n].tolist(), strict=True))
            stored.append(tuple(sorted(ids)))
    return stored[0], stored[1], flags


class _Found(Exception):
    """Raised inside the script when a named mistake is found."""

    def __init__(self, mistake: str, detail: str = "") -> None:
        super().__init__(mistake)
        self.mistake, self.detail = mistake, detail


def _arrays(buffer: Any) -> dict[str, np.ndarray]:
    return {k: v for k, v in vars(buffer).items() if isinstance(v, np.ndarray)}


def _check_format(batch: Any, batch_size: int) -> list[np.ndarray]:
    """Check the five sampled fields' type, dtype and shape; return them as arrays."""
    if not isinstance(batch, tuple | list) or len(batch) != 5:
        got = f"a {type(batch).__name__}" + (
            f" of {len(batch)}" if isinstance(batch, tuple | list) else ""
        )
        raise _Found("returned the wrong fields", f"`sample` returned {got}.")
    shapes = ((batch_size, OBS_DIM), (batch_size,), (batch_size,), (batch_size, OBS_DIM))
    shapes += ((batch_size,),)
    out = []
    for name, value, dtype, shape in zip(_FIELDS, batch, _DTYPES, shapes, strict=True):
        if not isinstance(value, torch.Tensor):
            got = f"a {type(value).__name__}"
        elif value.dtype != dtype or tuple(value.shape) != shape:
            got = f"dtype {value.dtype}, shape {tuple(value.shape)}"
        else:
            out.append(value.detach().cpu().numpy())
            continue
        raise _Found(
            "returned the wrong type, dtype or shape",
            f"`{name}`: expected a tensor of dtype {dtype}, shape {shape}; got {got}.",
        )
    return out


def _sampled_ids(
    buffer: Any, stored: tuple[int, ...], seed: int, *, uniform: bool = True
) -> np.ndarray:
    """Sample 3,000 transitions; check each is one of ``stored`` (and, if ``uniform``, that
    each of those is drawn about equally often); return their ids."""
    rng = np.random.default_rng(seed)
    ids = []
    flags = _reference_contents()[2]
    for _ in range(100):
        obs, actions, rewards, next_obs, terminated = _check_format(buffer.sample(30, rng), 30)
        for row in range(30):
            i = round(float(rewards[row])) - 1
            if i not in stored:
                if not obs[row].any() and rewards[row] == 0:
                    raise _Found("sampled from slots that are not filled yet")
                raise _Found("stored the transitions wrongly", f"a sampled reward {rewards[row]}.")
            o, a, _, n, te, tr = _transition(i)
            if not (
                np.allclose(obs[row], o) and actions[row] == a and np.allclose(next_obs[row], n)
            ):
                raise _Found("drew a separate random index for each field")
            if terminated[row] != flags[i]:
                if terminated[row] == float(te or tr):
                    raise _Found("stored truncated as terminal")
                if terminated[row] == float(tr):
                    raise _Found("stored truncated instead of terminated")
                raise _Found("stored the transitions wrongly", "a wrong `terminated` flag.")
            ids.append(i)
    counts = np.array([np.sum(np.array(ids) == i) for i in stored])
    expected = len(ids) / len(stored)
    if uniform and (counts.min() < 0.7 * expected or counts.max() > 1.3 * expected):
        raise _Found(
            "sampled only part of the filled slots",
            f"stored transitions drawn {counts.tolist()} times in {len(ids)} samples.",
        )
    return np.array(ids)


def _run_script(cls: type) -> None:
    """Run the buffer script on ``cls``; raise :class:`_Found` at the first mistake."""
    after_three, after_all, _ = _reference_contents()
    buffer = cls(CAPACITY, OBS_DIM)
    arrays = _arrays(buffer)
    if not any(a.shape[:1] == (CAPACITY,) for a in arrays.values()):
        raise _Found("not preallocated", "`__init__` made no NumPy array of `capacity` rows.")
    for i in range(3):
        buffer.add(*_transition(i))
        if len(buffer) != i + 1:
            raise _Found(
                "did not count the transitions in len()",
                f"after {i + 1} add(s) len(buffer) is {len(buffer)}.",
            )
    now = _arrays(buffer)
    if any(now.get(k) is not v for k, v in arrays.items()) or len(now) != len(arrays):
        raise _Found("not preallocated", "`add` replaced the arrays made in `__init__`.")

    try:
        buffer.sample(2 * CAPACITY, np.random.default_rng(0))  # larger than what is stored
    except ValueError as error:
        buffer.sample(2, np.random.default_rng(0))  # a small batch works: replacement it is
        raise _Found("sampled without replacement", f"ValueError: {error}") from error
    _sampled_ids(buffer, after_three, seed=1)
    first, second = (_check_format(buffer.sample(30, np.random.default_rng(7)), 30)
                     for _ in range(2))  # fmt: skip
    if not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True)):
        raise _Found(
            "ignored the rng argument", "two generators with one seed drew different batches."
        )

    for i in range(3, _N_ADDED):
        try:
            buffer.add(*_transition(i))
        except IndexError as error:
            raise _Found(
                "did not wrap around", f"add number {i + 1} raised IndexError: {error}"
            ) from error
        if len(buffer) != min(i + 1, CAPACITY):
            mistake = "let the size grow past the capacity" if len(buffer) > CAPACITY else (
                "did not count the transitions in len()")  # fmt: skip
            raise _Found(mistake, f"after {i + 1} adds len(buffer) is {len(buffer)}.")
    if any(_arrays(buffer).get(k) is not v for k, v in arrays.items()):
        raise _Found("not preallocated", "`add` replaced the arrays made in `__init__`.")
    kept = set(_sampled_ids(buffer, tuple(range(_N_ADDED)), seed=2, uniform=False).tolist())
    if kept - set(after_all):  # it still holds a transition that should be overwritten
        if kept == set(range(CAPACITY)):
            raise _Found("stopped storing new transitions once full")
        raise _Found(
            "overwrote the wrong slot",
            f"after {_N_ADDED} adds into {CAPACITY} slots it holds transitions "
            f"{sorted(kept)} (numbered from 0); the latest {CAPACITY} are {list(after_all)}.",
        )
    _sampled_ids(buffer, after_all, seed=3)


def _learner_line(error: BaseException, cls: type) -> str | None:
    """Return ``"line N: <source>"`` of the last traceback frame inside ``cls``'s methods."""
    files = {f.__code__.co_filename for f in vars(cls).values() if hasattr(f, "__code__")}
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename in files:
            found = frame
    if found is None:
        return None
    return f"line {found.lineno}: {found.line}" if found.line else f"line {found.lineno}"


def check_replay_buffer(cls: type, *, verbose: bool = True) -> Verdict:
    """Check the Lesson 3 exercise: a preallocated ring buffer of transitions.

    ``cls(capacity, obs_dim)`` must allocate its NumPy arrays once; ``add(obs, action, reward,
    next_obs, terminated, truncated)`` writes one transition into the next slot, wrapping
    around to overwrite the oldest, and stores ``terminated`` only; ``len(buffer)`` counts the
    stored transitions; ``sample(batch_size, rng)`` draws uniformly with replacement from the
    filled slots with ``rng`` and returns five tensors ``(obs, actions, rewards, next_obs,
    terminated)`` of dtypes float32, int64, float32, float32, float32. The learner's class is
    run next to :class:`utils.replay.ReplayBuffer` on the same 7 transitions (capacity 5).

    Args:
        cls: The learner's class (not an instance).
        verbose: Print the verdict's message.

    Returns:
        A :class:`~utils.exercise.Verdict`; ``verdict.mistake`` names the mistake found.

    Raises:
        TypeError: If ``cls`` is not a class.
    """
    if not isinstance(cls, type):
        raise TypeError(
            f"cls must be a class (pass MyReplayBuffer, not MyReplayBuffer()), "
            f"got {type(cls).__name__}"
        )
    name = cls.__name__
    stubs = [m for m in ("add", "sample") if is_stub(getattr(cls, m, None))]
    missing = [m for m in ("__init__", "add", "sample", "__len__") if not hasattr(cls, m)]
    if stubs:
        methods = " and ".join(f"`{name}.{m}`" for m in stubs)
        verdict = Verdict(
            NOT_ATTEMPTED,
            f"Not attempted yet: {methods} {'is a stub' if len(stubs) == 1 else 'are stubs'}.\n"
            "Replace the `...` with your code and run this cell again.",
        )
    elif missing:
        verdict = Verdict(WRONG, f"Not quite: `{name}` has no `{missing[0]}` method.")
    else:
        verdict = _judge_buffer(cls)
    if verbose:
        print(verdict.message)
    return verdict


def _judge_buffer(cls: type) -> Verdict:
    name = cls.__name__
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _run_script(cls)
    except _Found as found:
        detail = f"\n  ({found.detail})" if found.detail else ""
        return Verdict(
            WRONG,
            f"Not quite: it looks like your buffer {found.mistake}.{detail}\n"
            f"  Hint: {BUFFER_MISTAKES[found.mistake]}",
            mistake=found.mistake,
        )
    except NotImplementedError:
        return Verdict(
            NOT_ATTEMPTED,
            f"Not attempted yet: `{name}` raises NotImplementedError.\n"
            "Replace it with your code and run this cell again.",
        )
    except Exception as error:  # the learner's code may raise anything
        where = _learner_line(error, cls)
        lines = [f"Error: `{name}` raised {type(error).__name__}: {error}"]
        if where is not None:
            lines.append(f"  In your code, {where}")
        lines.append(f"  Hint: {ERROR_HINT}")
        lines.append(
            f"  The check makes {name}({CAPACITY}, {OBS_DIM}), adds {_N_ADDED} transitions "
            "(obs of shape (3,), Python int action, float reward, bool flags) and samples."
        )
        return Verdict(ERROR, "\n".join(lines))
    return Verdict(
        CORRECT,
        f"Correct! `{name}` stores and samples like utils.replay.ReplayBuffer: preallocated, "
        f"wraps around after {CAPACITY} transitions, samples uniformly (with your rng) from "
        "the filled slots only, stores `terminated` and not `truncated`, right dtypes and "
        "shapes.",
    )
