"""Tables the release tests request."""

from __future__ import annotations

import pyarrow as pa

PROJECT = "asthma-care"


def crosstab(cells: dict[tuple[str, str], int], total: str = "Total") -> pa.Table:
    """A two-way frequency table with every margin, in long form."""
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    out: list[tuple[str, str, int]] = []
    for r in [*rows, total]:
        for c in [*cols, total]:
            out.append(
                (
                    r,
                    c,
                    sum(
                        v
                        for (a, b), v in cells.items()
                        if (r == total or a == r) and (c == total or b == c)
                    ),
                )
            )
    return pa.table(
        {
            "sex": [o[0] for o in out],
            "age": [o[1] for o in out],
            "count": pa.array([o[2] for o in out], pa.int64()),
        }
    )
