"""Outputs to check: a table and what its columns are.

Tables are in long form, one row per cell:

- ``frequency``: dimension columns and one or more count columns (persons, events...).
  Margins are rows whose value in a dimension is the total label (``"Total"``): the
  row ``sex=F, age=Total`` is the margin of the ``sex=F`` cells over age. Other columns
  (percentages, rates...) are *derived*: hidden wherever their row's counts are hidden.
- ``rate``: the same, with the count columns ``events`` (and ``persons`` when present)
  and derived columns such as person-time, rate and confidence limits.
- ``magnitude``: dimension columns and a summed value (costs, days...), with, for each
  cell, the number of contributors and the two largest contributions: what the
  threshold, dominance and p-percent rules need. Those three columns are never released.
- ``survival``: strata columns, a time column and the counts at risk, of events and
  (optionally) censored at each time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pyarrow as pa

from bastide.disclosure.errors import InvalidOutput

OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
POPULATION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
TOTAL = "Total"
DEFAULT_POPULATION = "all"


class Kind(StrEnum):
    FREQUENCY = "frequency"
    RATE = "rate"
    MAGNITUDE = "magnitude"
    SURVIVAL = "survival"


@dataclass(frozen=True)
class Output:
    """An output table and the role of each of its columns (build with ``Output.of``).

    ``population`` names the population the table counts (a cohort): tables of the same
    population share their cells (``sex=F`` is the same group of persons in each), which
    is how a new table is checked against what the project released before.
    """

    name: str
    kind: Kind
    table: pa.Table
    dims: tuple[str, ...]
    counts: tuple[str, ...] = ()  # frequency, rate: counts; survival: at risk, events...
    value: str | None = None  # magnitude: the summed value
    contributors: str | None = None
    largest: str | None = None
    second_largest: str | None = None
    time: str | None = None  # survival
    derived: tuple[str, ...] = ()
    total_label: str = TOTAL
    population: str = DEFAULT_POPULATION

    @classmethod
    def of(
        cls,
        name: str,
        table: pa.Table,
        kind: Kind | str = Kind.FREQUENCY,
        *,
        dims: tuple[str, ...] | list[str] | None = None,
        counts: tuple[str, ...] | list[str] | None = None,
        value: str | None = None,
        contributors: str = "contributors",
        largest: str = "largest",
        second_largest: str = "second_largest",
        time: str = "time",
        total_label: str = TOTAL,
        population: str | None = None,
    ) -> Output:
        """An output with the usual column names filled in, validated.

        Defaults: counts ``count`` or ``n`` (frequency), ``events`` and ``persons``
        (rate), ``at_risk``, ``events``, ``censored`` (survival); value ``value``
        (magnitude); dimensions: the text columns; derived: every other column.
        """
        try:
            kind = Kind(kind)
        except ValueError:
            kinds = ", ".join(k.value for k in Kind)
            raise InvalidOutput(f"output kind {kind!r}: use one of {kinds}") from None
        columns = list(table.column_names)
        present = set(columns)
        role: dict[str, Any] = {}
        if kind is Kind.FREQUENCY:
            if counts is None:
                found = [c for c in ("count", "n") if c in present]
                if not found:
                    raise InvalidOutput(
                        f"output {name!r}: no count column 'count' or 'n'; name it (--count)"
                    )
                counts = found[:1]
        elif kind is Kind.RATE:
            if counts is None:
                counts = [c for c in ("events", "persons") if c in present]
        elif kind is Kind.SURVIVAL:
            if counts is None:
                counts = [c for c in ("at_risk", "events", "censored") if c in present]
            role["time"] = time
        else:
            counts = []
            role |= {
                "value": value or "value",
                "contributors": contributors,
                "largest": largest,
                "second_largest": second_largest,
            }
        counts = tuple(counts)
        used = set(counts) | {v for v in role.values() if v}
        if dims is None:
            dims = tuple(
                c
                for c in columns
                if c not in used
                and (
                    pa.types.is_string(table.schema.field(c).type)
                    or pa.types.is_large_string(table.schema.field(c).type)
                    or pa.types.is_dictionary(table.schema.field(c).type)
                    or pa.types.is_boolean(table.schema.field(c).type)
                )
            )
        dims = tuple(dims)
        derived = tuple(c for c in columns if c not in used and c not in dims)
        output = cls(
            name=name,
            kind=kind,
            table=table,
            dims=dims,
            counts=counts,
            derived=derived,
            total_label=total_label,
            population=population or DEFAULT_POPULATION,
            **role,
        )
        output.validate()
        return output

    # -- validation ------------------------------------------------------------------
    def validate(self) -> None:
        where = f"output {self.name!r}"
        if not OUTPUT_NAME.match(self.name):
            raise InvalidOutput(
                f"output name {self.name!r}: letters, digits, '.', '_' or '-', at most 80"
            )
        if not POPULATION_NAME.match(self.population):
            raise InvalidOutput(f"{where}: population name {self.population!r} is not valid")
        if self.table.num_rows == 0:
            raise InvalidOutput(f"{where}: the table is empty")
        named = [*self.dims, *self.counts, *self.derived]
        named += [c for c in self.measure_columns() if c not in named]
        missing = [c for c in named if c not in self.table.column_names]
        if missing:
            raise InvalidOutput(f"{where}: no column {', '.join(missing)}")
        if len(set(named)) != len(named):
            raise InvalidOutput(f"{where}: a column has two roles")
        if self.kind in (Kind.FREQUENCY, Kind.RATE) and not self.counts:
            raise InvalidOutput(f"{where}: a {self.kind} table needs at least one count column")
        if self.kind is Kind.RATE and "events" not in self.counts:
            raise InvalidOutput(f"{where}: a rate table needs an 'events' count column")
        if self.kind is Kind.SURVIVAL:
            for needed in ("at_risk", "events"):
                if needed not in self.counts:
                    raise InvalidOutput(f"{where}: a survival table needs a {needed!r} column")
            unknown = [c for c in self.counts if c not in ("at_risk", "events", "censored")]
            if unknown:
                raise InvalidOutput(
                    f"{where}: survival counts are at_risk, events and censored, not "
                    f"{', '.join(unknown)}"
                )
        for column in self.counts:
            self._check_counts(column)
        if self.kind is Kind.MAGNITUDE:
            assert self.contributors is not None
            self._check_counts(self.contributors)
            for measure in (self.value, self.largest, self.second_largest):
                assert measure is not None
                self._check_numbers(measure)
        if self.kind is Kind.SURVIVAL:
            assert self.time is not None
            self._check_numbers(self.time)
            if self.total_label in {str(v) for d in self.dims for v in self.column(d)}:
                raise InvalidOutput(f"{where}: survival tables have no margins")
        keys = [self.coordinates(i) for i in range(self.table.num_rows)]
        if len(set(keys)) != len(keys):
            what = "strata and time" if self.kind is Kind.SURVIVAL else "dimension values"
            raise InvalidOutput(f"{where}: two rows have the same {what}")

    def _check_counts(self, column: str) -> None:
        where = f"output {self.name!r}"
        for value in self.column(column):
            if value is None:
                raise InvalidOutput(f"{where}: column {column!r} has missing counts")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOutput(f"{where}: column {column!r} holds non-numbers")
            if value < 0 or value != math.floor(value):
                raise InvalidOutput(f"{where}: column {column!r} holds non-counts")

    def _check_numbers(self, column: str) -> None:
        where = f"output {self.name!r}"
        for value in self.column(column):
            if value is None or isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidOutput(f"{where}: column {column!r} needs a number in every row")
            if math.isnan(value) or math.isinf(value):
                raise InvalidOutput(f"{where}: column {column!r} holds a NaN or an infinity")

    # -- access ------------------------------------------------------------------------
    def measure_columns(self) -> tuple[str, ...]:
        """Columns checked by the rules (counts, magnitudes, survival time)."""
        extra = (self.value, self.contributors, self.largest, self.second_largest, self.time)
        return tuple(self.counts) + tuple(c for c in extra if c)

    def additive_columns(self) -> tuple[str, ...]:
        """Columns whose margins are the sums of their cells (what suppression protects)."""
        if self.kind is Kind.SURVIVAL:
            return ()
        if self.kind is Kind.MAGNITUDE:
            assert self.value is not None
            return (self.value,)
        return self.counts

    def column(self, name: str) -> list[Any]:
        return self.table.column(name).to_pylist()

    def coordinates(self, row: int) -> tuple[str | None, ...]:
        """The row's dimension values as text (``None`` for a missing value); for survival
        tables the time is the last coordinate."""
        values = [_text(self.table.column(d)[row].as_py()) for d in self.dims]
        if self.kind is Kind.SURVIVAL:
            assert self.time is not None
            values.append(_text(self.table.column(self.time)[row].as_py()))
        return tuple(values)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == math.floor(value):
        return str(int(value))
    return str(value)
