"""Helpers for the border tests: a test pseudonymiser, file writing and a one-call reader."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from bastide.sources import (
    QUARANTINE_SCHEMA,
    FileReconciliation,
    LogicalType,
    SourceField,
    SourceSchema,
    read_source,
)
from bastide.sources.reading import DEFAULT_BLOCK_BYTES


def pseudonym(value: str) -> str:
    return "P" + hashlib.sha256(value.strip().upper().encode()).hexdigest()[:31]


def fake_pseudonymise(values: pa.Array) -> pa.Array:
    """Deterministic, one-way and obviously different from any raw value."""
    return pa.array([None if v is None else pseudonym(v) for v in values.to_pylist()], pa.string())


@dataclass
class Outcome:
    valid: pa.Table
    valid_lines: list[int]
    quarantine: pa.Table
    reconciliation: FileReconciliation

    def reasons_by_line(self) -> dict[int, tuple[str, str | None]]:
        rows = self.quarantine.to_pylist()
        return {r["line_number"]: (r["reason"], r["column"]) for r in rows}


def read_all(
    path: Path,
    schema: SourceSchema | None = None,
    *,
    source: str = "snds",
    pseudonymise: Callable[[pa.Array], pa.Array] = fake_pseudonymise,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    **options: object,
) -> Outcome:
    reader = read_source(
        path, schema, pseudonymise=pseudonymise, source=source, block_bytes=block_bytes, **options
    )
    batches = list(reader)
    assert batches or reader.reconciliation.rows_read == 0
    valid_schema = batches[0].valid.schema if batches else None
    valid = (
        pa.Table.from_batches([b.valid for b in batches], schema=valid_schema)
        if batches
        else pa.table({})
    )
    quarantine = pa.Table.from_batches([b.quarantine for b in batches]) if batches else None
    lines = [line for b in batches for line in b.valid_lines.to_pylist()]
    return Outcome(
        valid,
        lines,
        quarantine if quarantine is not None else QUARANTINE_SCHEMA.empty_table(),
        reader.reconciliation,
    )


def write(
    directory: Path, name: str, text: str, *, encoding: str = "utf-8", gz: bool = False
) -> Path:
    path = directory / name
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# A small declared table: a key, a label and a count.
LABELS = SourceSchema(
    "LABELS",
    "snds",
    (
        SourceField("CODE", LogicalType.STRING, max_length=6, required=True, is_key=True),
        SourceField("LABEL", LogicalType.STRING),
        SourceField("N", LogicalType.INTEGER),
    ),
    primary_key=("CODE",),
)
