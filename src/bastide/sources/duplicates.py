"""Primary-key duplicates across the batches of a file (or of several files of a table).

Each key is remembered as two independent 64-bit hashes (16 bytes a row, whatever the
key's width): runs sorted on the first hash, which merge as they grow, so that
membership is a binary search; the second hash confirms a match. The first occurrence of
a key is kept; later ones are duplicates. Two different keys are taken for one only if
both hashes collide (about 2^-128 a pair).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

_SEEDS = (0x62617374, 0x69646521)


def key_hashes(columns: list[pa.Array]) -> tuple[np.ndarray, np.ndarray]:
    """Two uint64 hashes per row of the key columns (stable within one process)."""
    frame = pl.from_arrow(pa.table(columns, names=[f"k{i}" for i in range(len(columns))]))
    assert isinstance(frame, pl.DataFrame)
    first, second = (frame.hash_rows(seed=seed).to_numpy() for seed in _SEEDS)
    return first, second


class KeyTracker:
    """Remembers keys seen so far and tells which rows of a batch repeat one."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # sorted on the first hash
        self.keys = 0
        self._rows: KeyTracker | None = None

    def rows(self) -> KeyTracker:
        """A companion tracker of whole rows, shared wherever this one is (exact copies
        of earlier rows, for tables whose repeated keys are only reported)."""
        if self._rows is None:
            self._rows = KeyTracker()
        return self._rows

    def duplicates(self, columns: list[pa.Array]) -> np.ndarray:
        """Mark rows whose key was seen before (in an earlier batch or earlier in this one),
        then remember the new keys."""
        n = len(columns[0]) if columns else 0
        if n == 0:
            return np.zeros(0, dtype=bool)
        h1, h2 = key_hashes(columns)
        order = np.argsort(h1, kind="stable")  # equal keys stay in row order
        s1, s2 = h1[order], h2[order]
        dup_sorted = np.zeros(n, dtype=bool)
        dup_sorted[1:] = (s1[1:] == s1[:-1]) & (s2[1:] == s2[:-1])
        for r1, r2 in self._runs:
            dup_sorted |= _member(r1, r2, s1, s2)
        fresh = ~dup_sorted
        self._add(s1[fresh], s2[fresh])
        dup = np.empty(n, dtype=bool)
        dup[order] = dup_sorted
        return dup

    def _add(self, s1: np.ndarray, s2: np.ndarray) -> None:
        if len(s1) == 0:
            return
        self._runs.append((s1, s2))
        self.keys += len(s1)
        # merge while the newest run is at least half the size of the one before; a
        # stable sort of two sorted runs is a linear merge
        while len(self._runs) > 1 and len(self._runs[-1][0]) * 2 >= len(self._runs[-2][0]):
            (a1, a2), (b1, b2) = self._runs[-2], self._runs.pop()
            m1, m2 = np.concatenate((a1, b1)), np.concatenate((a2, b2))
            order = np.argsort(m1, kind="stable")
            self._runs[-1] = (m1[order], m2[order])


def _member(r1: np.ndarray, r2: np.ndarray, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Which of the sorted (s1, s2) are in the run (r1, r2)."""
    at = np.searchsorted(r1, s1)  # sorted needles: cache-friendly
    inside = np.minimum(at, len(r1) - 1)
    same_first = r1[inside] == s1
    found = same_first & (r2[inside] == s2)
    # several remembered keys share this first hash: compare the second over the range
    nxt = np.minimum(at + 1, len(r1) - 1)
    for i in np.flatnonzero(same_first & ~found & (nxt > inside) & (r1[nxt] == s1)):
        end = np.searchsorted(r1, s1[i], side="right")
        found[i] = bool(np.any(r2[at[i] : end] == s2[i]))
    return found
