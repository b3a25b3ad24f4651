"""The additive structure of a table: cells addressed by coordinates, and lines.

A cell's coordinates hold one value per dimension, or ``ALL`` where the cell is a margin
over that dimension. A *line* is a margin cell together with the cells it sums: for the
margin ``(F, ALL)`` over the second dimension, the cells ``(F, a)`` for every category
``a``. Each line is one linear equation ``total = sum(members)`` that someone reading the
released table can use; secondary suppression works on these equations.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

ALL = "\x00ALL"  # a margin over this dimension (never a category: text has no NUL)

Coord = tuple[str | None, ...]
Key = tuple[tuple[str, str | None], ...]  # (dimension, category) pairs, margins left out


def key_of(dims: Sequence[str], coord: Coord) -> Key:
    """The cell's identity across tables: its non-margin (dimension, category) pairs."""
    return tuple(sorted((d, v) for d, v in zip(dims, coord, strict=True) if v != ALL))


def key_json(key: Key) -> str:
    return json.dumps([list(pair) for pair in key], ensure_ascii=False, separators=(",", ":"))


def key_from_json(text: str) -> Key:
    return tuple((str(d), v) for d, v in json.loads(text))


def describe(key: Key) -> dict[str, str | None]:
    """A cell as the record shows it: its categories, ``Total`` for a grand total."""
    return dict(key)


@dataclass(frozen=True)
class Line:
    total: int
    members: tuple[int, ...]

    @property
    def cells(self) -> tuple[int, ...]:
        return (self.total, *self.members)


@dataclass(frozen=True)
class Grid:
    dims: tuple[str, ...]
    coords: tuple[Coord, ...]
    lines: tuple[Line, ...]

    @classmethod
    def build(cls, dims: Sequence[str], coords: Iterable[Coord]) -> Grid:
        coords = tuple(coords)
        width = len(dims)
        buckets: list[dict[Coord, list[int]]] = [defaultdict(list) for _ in range(width)]
        for i, c in enumerate(coords):
            for d in range(width):
                if c[d] != ALL:
                    buckets[d][c[:d] + c[d + 1 :]].append(i)
        lines = []
        for i, c in enumerate(coords):
            for d in range(width):
                if c[d] == ALL:
                    members = buckets[d].get(c[:d] + c[d + 1 :], [])
                    if members:
                        lines.append(Line(i, tuple(members)))
        return cls(tuple(dims), coords, tuple(lines))

    def key(self, cell: int) -> Key:
        return key_of(self.dims, self.coords[cell])

    def is_margin(self, cell: int) -> bool:
        return ALL in self.coords[cell]


def additive(line: Line, values: Sequence[float]) -> bool:
    """Whether the margin is the sum of its cells (within floating-point error)."""
    total = values[line.total]
    parts = math.fsum(values[m] for m in line.members)
    return math.isclose(total, parts, rel_tol=1e-9, abs_tol=1e-9)


def place(dims: Sequence[str], key: Mapping[str, str | None] | Key) -> Coord:
    """A key's coordinates in a grid over ``dims`` (``ALL`` where the key has no value)."""
    pairs = dict(key)
    return tuple(pairs.get(d, ALL) for d in dims)
