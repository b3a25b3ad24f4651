"""Helpers of the disclosure tests: tables with margins, and an independent computation of
what a reader can work out about each suppressed cell (linear programming, scipy)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
from scipy.optimize import linprog

TOTAL = "Total"


def with_margins(dims: Sequence[str], cells: Mapping[tuple[str, ...], int]) -> pa.Table:
    """A long table with every margin (``Total`` in any subset of the dimensions)."""
    categories = [sorted({c[i] for c in cells}) for i in range(len(dims))]
    rows = []
    for coord in itertools.product(*[[*cats, TOTAL] for cats in categories]):
        value = sum(
            v
            for c, v in cells.items()
            if all(x in (TOTAL, y) for x, y in zip(coord, c, strict=True))
        )
        rows.append((*coord, value))
    data = {d: [r[i] for r in rows] for i, d in enumerate(dims)}
    data["count"] = [r[-1] for r in rows]
    return pa.table(
        {
            **{d: pa.array(data[d], pa.string()) for d in dims},
            "count": pa.array(data["count"], pa.int64()),
        }
    )


def feasible_intervals(
    dims: Sequence[str], original: pa.Table, released: pa.Table, column: str = "count"
) -> dict[tuple[str, ...], tuple[float, float]]:
    """For each suppressed cell, the smallest and largest value it can take in a
    non-negative table that has every published cell of ``released`` (the true values)
    and whose margins add up. Computed by linear programming, independently of bastide."""
    coords = [tuple(original.column(d)[i].as_py() for d in dims) for i in range(original.num_rows)]
    values = original.column(column).to_pylist()
    hidden = [i for i, v in enumerate(released.column(column).to_pylist()) if v is None]
    if not hidden:
        return {}
    position = {cell: j for j, cell in enumerate(hidden)}
    a_eq, b_eq = [], []
    for i, coord in enumerate(coords):
        for d, x in enumerate(coord):
            if x != TOTAL:
                continue
            members = [
                j
                for j, c in enumerate(coords)
                if c[d] != TOTAL and all(c[e] == coord[e] for e in range(len(dims)) if e != d)
            ]
            if not members:
                continue
            row = np.zeros(len(hidden))
            constant = 0.0
            for cell, sign in [(i, 1.0), *((m, -1.0) for m in members)]:
                if cell in position:
                    row[position[cell]] += sign
                else:
                    constant -= sign * values[cell]
            if row.any():
                a_eq.append(row)
                b_eq.append(constant)
    bounds = [(0, None)] * len(hidden)
    out = {}
    for cell, j in position.items():
        objective = np.zeros(len(hidden))
        objective[j] = 1.0
        low = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        high = linprog(-objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds)
        top = -high.fun if high.status == 0 else float("inf")  # unbounded: no margin above
        out[coords[cell]] = (low.fun, top)
    return out
