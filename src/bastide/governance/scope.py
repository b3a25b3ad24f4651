"""What a project asks for and what it is granted: validated, immutable data (pure).

A ``Scope`` names the warehouse tables and columns, a declarative population filter and
a period. A granted scope must be *within* the requested one (``narrowing_problems``);
the project extract materialises exactly the granted scope.

Population semantics (applied by the extract): ``age_min``/``age_max`` are ages in whole
years at the start of the period; ``sex`` keeps persons of those sexes (F, M); a
non-empty ``conditions`` keeps persons with at least one condition occurrence whose
``condition_concept_id`` is one of these OMOP concept ids.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bastide.governance.errors import InvalidRequest

PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{2,62}$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
SEXES = ("F", "M")
MAX_AGE = 130


def _fail(where: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"{where}: {problem}")


def _date(value: Any, where: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(where, f"expected a date YYYY-MM-DD, got {value!r}")


def _age(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE:
        raise _fail(where, f"expected a whole age between 0 and {MAX_AGE}, got {value!r}")
    return value


def _unknown_keys(data: Mapping[str, Any], known: set[str], where: str) -> None:
    extra = sorted(set(data) - known)
    if extra:
        raise _fail(where, f"unknown field(s) {', '.join(extra)} (expected {sorted(known)})")


@dataclass(frozen=True)
class Population:
    age_min: int | None = None
    age_max: int | None = None
    sex: tuple[str, ...] = ()  # empty: any
    conditions: tuple[int, ...] = ()  # OMOP condition concept ids; empty: no condition

    def __post_init__(self) -> None:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise _fail("population", f"age_min {self.age_min} is above age_max {self.age_max}")
        bad = [s for s in self.sex if s not in SEXES]
        if bad:
            raise _fail("population.sex", f"expected F or M, got {bad}")
        if any(isinstance(c, bool) or not isinstance(c, int) or c <= 0 for c in self.conditions):
            raise _fail("population.conditions", "expected positive OMOP concept ids")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Population:
        data = data or {}
        if not isinstance(data, Mapping):
            raise _fail("population", "expected a table of criteria")
        _unknown_keys(data, {"age_min", "age_max", "sex", "conditions"}, "population")
        sex = data.get("sex") or ()
        conditions = data.get("conditions") or ()
        if isinstance(sex, str):
            sex = (sex,)
        if not isinstance(conditions, list | tuple) or not isinstance(sex, list | tuple):
            raise _fail("population", "sex and conditions must be lists")
        return cls(
            age_min=_age(data.get("age_min"), "population.age_min"),
            age_max=_age(data.get("age_max"), "population.age_max"),
            sex=tuple(sorted(set(sex))),
            conditions=tuple(sorted(set(conditions))),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "age_min": self.age_min,
            "age_max": self.age_max,
            "sex": list(self.sex),
            "conditions": list(self.conditions),
        }


@dataclass(frozen=True)
class Scope:
    """Tables (each with its columns), population and period of a project."""

    tables: tuple[tuple[str, tuple[str, ...]], ...]
    population: Population = field(default_factory=Population)
    period_start: date | None = None
    period_end: date | None = None

    def __post_init__(self) -> None:
        if not self.tables:
            raise _fail("tables", "a scope names at least one table")
        for table, columns in self.tables:
            if not IDENTIFIER.match(table):
                raise _fail("tables", f"{table!r} is not a table name")
            if not columns:
                raise _fail(f"tables.{table}", "list the columns needed (at least one)")
            for column in columns:
                if not IDENTIFIER.match(column):
                    raise _fail(f"tables.{table}", f"{column!r} is not a column name")
        if self.period_start and self.period_end and self.period_start > self.period_end:
            raise _fail("period", f"start {self.period_start} is after end {self.period_end}")

    @property
    def table_columns(self) -> dict[str, tuple[str, ...]]:
        return dict(self.tables)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scope:
        if not isinstance(data, Mapping):
            raise _fail("scope", "expected a table with tables, population and period")
        _unknown_keys(data, {"tables", "population", "period"}, "scope")
        raw_tables = data.get("tables") or {}
        if not isinstance(raw_tables, Mapping):
            raise _fail("tables", "expected a table mapping each table name to its columns")
        tables = []
        for table, columns in sorted(raw_tables.items()):
            if not isinstance(columns, list | tuple) or not all(
                isinstance(c, str) for c in columns
            ):
                raise _fail(f"tables.{table}", "expected a list of column names")
            tables.append((str(table).lower(), tuple(sorted({c.lower() for c in columns}))))
        period = data.get("period") or {}
        if not isinstance(period, Mapping):
            raise _fail("period", "expected a table with start and end")
        _unknown_keys(period, {"start", "end"}, "period")
        return cls(
            tables=tuple(tables),
            population=Population.from_dict(data.get("population")),
            period_start=_date(period.get("start"), "period.start"),
            period_end=_date(period.get("end"), "period.end"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {table: list(columns) for table, columns in self.tables},
            "population": self.population.to_dict(),
            "period": {
                "start": self.period_start.isoformat() if self.period_start else None,
                "end": self.period_end.isoformat() if self.period_end else None,
            },
        }

    def narrowing_problems(self, requested: Scope) -> list[str]:
        """Why this (granted) scope is not within ``requested``; empty when it is."""
        problems: list[str] = []
        asked = requested.table_columns
        for table, columns in self.tables:
            if table not in asked:
                problems.append(f"table {table} was not requested")
                continue
            extra = sorted(set(columns) - set(asked[table]))
            if extra:
                problems.append(f"columns {table}.{{{', '.join(extra)}}} were not requested")
        mine, theirs = self.population, requested.population
        if theirs.age_min is not None and (mine.age_min is None or mine.age_min < theirs.age_min):
            problems.append(f"age_min must be at least {theirs.age_min}")
        if theirs.age_max is not None and (mine.age_max is None or mine.age_max > theirs.age_max):
            problems.append(f"age_max must be at most {theirs.age_max}")
        if theirs.sex and (not mine.sex or not set(mine.sex) <= set(theirs.sex)):
            problems.append(f"sex must be within {list(theirs.sex)}")
        if theirs.conditions and (
            not mine.conditions or not set(mine.conditions) <= set(theirs.conditions)
        ):
            problems.append("conditions must be a non-empty subset of the requested ones")
        if requested.period_start and (
            self.period_start is None or self.period_start < requested.period_start
        ):
            problems.append(f"period must not start before {requested.period_start}")
        if requested.period_end and (
            self.period_end is None or self.period_end > requested.period_end
        ):
            problems.append(f"period must not end after {requested.period_end}")
        return problems


def _text(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, "required (non-empty text)")
    value = value.strip()
    if len(value) > limit:
        raise _fail(key, f"at most {limit} characters")
    return value


@dataclass(frozen=True)
class ProjectRequest:
    """A researcher's request: who the project is, why, on what legal ground, for what."""

    name: str
    title: str
    purpose: str
    legal_basis: str  # e.g. "RGPD art. 6.1.e and 9.2.j; CSP L.1461-3"
    authorisation: str  # e.g. a CNIL decision number "DR-2024-123"
    scope: Scope

    def __post_init__(self) -> None:
        if not PROJECT_NAME.match(self.name):
            raise _fail("name", f"{self.name!r}: use 3-63 lower-case letters, digits and dashes")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProjectRequest:
        known = {"name", "title", "purpose", "legal_basis", "authorisation"}
        _unknown_keys(data, known | {"tables", "population", "period"}, "request")
        scope = Scope.from_dict({k: v for k, v in data.items() if k not in known})
        return cls(
            name=str(data.get("name", "")),
            title=_text(data, "title", 200),
            purpose=_text(data, "purpose", 4000),
            legal_basis=_text(data, "legal_basis", 500),
            authorisation=_text(data, "authorisation", 100),
            scope=scope,
        )
