"""K agents' replay indices in one NumPy computation, equal to K calls of ``rng.integers``.

Each agent draws its minibatch from its own generator, as :func:`utils.train.train` does with
``rng.integers(0, size, batch_size)``. Called K times a step, those calls cost more than the
rest of sampling. NumPy draws such integers with Lemire's method on 32-bit halves of the
generator's 64-bit outputs (lower half first); :class:`IndexSampler` reads each generator's raw
outputs in blocks and applies the same method to all agents at once. A draw the method
rejects (probability ``size / 2**32`` per index) sends that agent through the exact one-by-one
procedure, so the indices are NumPy's to the bit (tested against ``rng.integers``, rejections
included).
"""

from __future__ import annotations

import numpy as np

from utils._checks import check_int

_BLOCK = 4096  # raw 64-bit outputs read per agent at a time
_MARGIN = 256  # 32-bit values kept in stock beyond one batch, for rejected draws


class IndexSampler:
    """Draw ``(K, batch_size)`` indices in ``[0, size)``, agent ``k`` from ``rngs[k]``.

    The generators must be PCG64 (NumPy's default); they are read ahead, so they must not be
    used elsewhere while the sampler draws from them.

    Args:
        rngs: One generator per agent.
        batch_size: Indices per agent per call.
    """

    def __init__(self, rngs: list[np.random.Generator], batch_size: int):
        if not isinstance(rngs, list) or not all(
            isinstance(r, np.random.Generator) and isinstance(r.bit_generator, np.random.PCG64)
            for r in rngs
        ):
            raise TypeError("rngs must be a list of numpy Generators with the PCG64 bit generator")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.bit_generators = [r.bit_generator for r in rngs]
        k = len(rngs)
        self.width = 2 * _BLOCK + self.batch_size + _MARGIN
        self.stock = np.zeros((k, self.width), dtype=np.uint64)
        self.pos = np.zeros(k, dtype=np.int64)
        self.end = np.zeros(k, dtype=np.int64)
        self.rows = np.arange(k)[:, None]
        self.columns = np.arange(self.batch_size)
        for i, bit_generator in enumerate(self.bit_generators):
            state = bit_generator.state
            if state["has_uint32"]:  # half of an output is already drawn: it comes first
                self.stock[i, 0] = state["uinteger"]
                self.end[i] = 1
            self._refill(i)

    def _refill(self, i: int) -> None:
        """Move agent ``i``'s unused values to the front and append a block of new ones."""
        left = self.stock[i, self.pos[i] : self.end[i]].copy()
        new = self.bit_generators[i].random_raw(_BLOCK).view(np.uint32)  # lower half first
        self.stock[i, : len(left)] = left
        self.stock[i, len(left) : len(left) + len(new)] = new
        self.pos[i], self.end[i] = 0, len(left) + len(new)

    def __call__(self, size: int) -> np.ndarray:
        """Return ``(K, batch_size)`` int64 indices in ``[0, size)``, as ``rng.integers`` would."""
        if size == 1:  # NumPy draws nothing for a range of one value
            return np.zeros((len(self.pos), self.batch_size), dtype=np.int64)
        low = np.flatnonzero(self.end - self.pos < self.batch_size + _MARGIN)
        for i in low:
            self._refill(i)
        values = self.stock[self.rows, self.pos[:, None] + self.columns]
        scaled = values * np.uint64(size)
        threshold = (2**32 - size) % size
        rejected = (scaled & np.uint64(0xFFFFFFFF)) < threshold
        indices = (scaled >> np.uint64(32)).astype(np.int64)
        self.pos += self.batch_size
        if rejected.any():
            for i in np.flatnonzero(rejected.any(axis=1)):
                self.pos[i] -= self.batch_size
                indices[i] = self._one_by_one(i, size, threshold)
        return indices

    def _one_by_one(self, i: int, size: int, threshold: int) -> np.ndarray:
        """Agent ``i``'s indices drawn one value at a time, redrawing rejected ones."""
        out = np.empty(self.batch_size, dtype=np.int64)
        for j in range(self.batch_size):
            while True:
                if self.pos[i] == self.end[i]:
                    self._refill(i)
                scaled = int(self.stock[i, self.pos[i]]) * size
                self.pos[i] += 1
                if scaled & 0xFFFFFFFF >= threshold:
                    break
            out[j] = scaled >> 32
        return out
