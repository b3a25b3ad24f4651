"""What analyses return: aggregate tables (Arrow) and figures drawn from them.

Every output a study writes is an `OutputTable` or a `Figure`. An output table says which
of its columns count people or events (``count_columns``), so that the disclosure checks
know which cells to test; a figure names the tables it is drawn from, so that it is
released only with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,79}")
# What the disclosure checks make of a table (bastide.disclosure.Kind), or "summary" for
# tables without cells to count (model estimates, descriptive statistics): those are
# reviewed by a steward.
KINDS = ("frequency", "rate", "survival", "summary")
TOTAL = "Total"  # the label of margin rows, as the disclosure checks expect


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"output name {name!r}: letters, digits, '_', '.', '-', at most 80")


@dataclass(frozen=True)
class OutputTable:
    name: str  # unique within a study run; the file name of the table
    title: str
    table: pa.Table
    count_columns: tuple[str, ...] = ()  # counts of persons or events (small-cell checks)
    description: str = ""
    # Columns computed from individual values (means, quantiles, survival estimates).
    statistic_columns: tuple[str, ...] = ()
    kind: str = "summary"
    dims: tuple[str, ...] = ()  # the columns that say which cell a row is
    time: str | None = None  # survival tables: the time column
    population: str = "all"  # the cohort the table counts

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.kind not in KINDS:
            raise ValueError(f"output {self.name}: kind {self.kind!r} is not one of {KINDS}")
        named = (*self.count_columns, *self.statistic_columns, *self.dims)
        missing = [c for c in (*named, self.time or "") if c and c not in self.table.column_names]
        if missing:
            raise ValueError(f"output {self.name}: no column {missing}")

    def disclosure_output(self) -> Any:
        """The table as `bastide.disclosure.Output`, ready for a release request (tables of
        kind ``summary`` have no cells to check: `InvalidOutput`)."""
        from bastide.disclosure import InvalidOutput, Output

        if self.kind == "summary":
            raise InvalidOutput(
                f"output {self.name!r} holds estimates, not counts: a steward reviews it"
            )
        return Output.of(
            self.name,
            self.table,
            self.kind,
            dims=self.dims,
            counts=self.count_columns,
            time=self.time or "time",
            population=self.population,
        )


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    png: bytes
    tables: tuple[str, ...]  # the OutputTables it is drawn from
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name)


@dataclass(frozen=True)
class AnalysisOutput:
    """The outputs of one analysis of a study."""

    name: str
    kind: str
    title: str
    tables: tuple[OutputTable, ...] = ()
    figures: tuple[Figure, ...] = ()
    notes: tuple[str, ...] = ()
    parameters: dict[str, object] = field(default_factory=dict)

    def table(self, name: str) -> OutputTable:
        for t in self.tables:
            if t.name == name or t.name.endswith(f".{name}"):
                return t
        raise KeyError(name)


def with_total(
    table: pa.Table, dim: str, counts: tuple[str, ...], *, percent: str | None = None
) -> pa.Table:
    """``table`` with its ``dim`` column as text and a last row ``Total`` summing the
    count columns (percentages of the total: 100)."""
    rows = table.to_pylist()
    total: dict[str, Any] = {c: None for c in table.column_names}
    total[dim] = TOTAL
    for c in counts:
        total[c] = sum(r[c] or 0 for r in rows)
    if percent is not None:
        total[percent] = 100.0 if rows else None
    out = [{**r, dim: str(r[dim])} for r in rows] + [total]
    schema = table.schema.set(table.schema.get_field_index(dim), pa.field(dim, pa.string()))
    return pa.Table.from_pylist(out, schema=schema)
