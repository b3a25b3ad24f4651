"""Small tables and comparisons shared by the storage tests."""

from __future__ import annotations

import pyarrow as pa

PERSON = pa.schema([("person_id", pa.int64()), ("gender", pa.string()), ("year", pa.int32())])


def people(first: int, n: int) -> pa.Table:
    ids = list(range(first, first + n))
    return pa.table(
        {
            "person_id": pa.array(ids, pa.int64()),
            "gender": pa.array(["M" if i % 2 else "F" for i in ids]),
            "year": pa.array([1940 + i % 70 for i in ids], pa.int32()),
        },
        schema=PERSON,
    )


def content(snapshot, table: str) -> list[dict]:
    """A table's rows in a stable order, for comparing snapshots."""
    return sorted(snapshot.dataset(table).to_table().to_pylist(), key=repr)
