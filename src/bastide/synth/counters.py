"""Identifier sequences that run across chunks (RSA numbers, DCIR statement numbers,
hospital-local ids). Chunks are processed in order, so the numbers are deterministic."""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class Counters:
    def __init__(self) -> None:
        self._next: defaultdict[str, int] = defaultdict(lambda: 1)

    def take(self, name: str, n: int) -> np.ndarray:
        """The next ``n`` numbers of sequence ``name`` (sequences start at 1)."""
        first = self._next[name]
        self._next[name] = first + n
        return np.arange(first, first + n, dtype=np.int64)

    def peek(self, name: str) -> int:
        return self._next[name]
