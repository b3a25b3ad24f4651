"""Benchmarks, run with ``python -m bench`` (see bench/README.md).

A benchmark is a module ``bench/bench_<name>.py`` with ``run(quick: bool) -> list[Row]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    """One measurement: ``items`` processed in ``seconds`` of wall time.

    The row with ``baseline=True`` (at most one per module) is the reference that every other
    row of the same module is compared with, per item, in the same run.
    """

    case: str
    items: int
    seconds: float
    baseline: bool = False
    unit: str = "items"
    notes: str = ""

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Timer:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Timer]:
    """``with timed() as t: ...`` then ``t.seconds``."""
    t = Timer()
    start = time.perf_counter()
    try:
        yield t
    finally:
        t.seconds = time.perf_counter() - start


def best_of(repeat: int, fn: Callable[[], T]) -> tuple[float, T]:
    """The shortest of ``repeat`` timings (machines are shared and noisy) and a result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        with timed() as t:
            result = fn()
        best = min(best, t.seconds)
    return best, result  # type: ignore[return-value]
