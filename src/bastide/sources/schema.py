"""Declared source schemas: what each column of a source table must hold.

A `SourceSchema` is built from schema-snds (SNDS tables) or from the OMOP CDM
specification (hospital extracts) and is the only thing the reader trusts. Pure: no
files, no engines.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa

from bastide.sources.errors import SchemaError
from bastide.sources.formats import date_format, datetime_format


class LogicalType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    YEAR = "year"
    YEARMONTH = "yearmonth"
    MONTH = "month"  # schema-snds: type "date" with format "%m" (a month of the year)


# Types whose malformed values are reported as ``bad_date`` rather than ``type_error``.
TEMPORAL_TYPES = frozenset(
    {
        LogicalType.DATE,
        LogicalType.DATETIME,
        LogicalType.YEAR,
        LogicalType.YEARMONTH,
        LogicalType.MONTH,
    }
)

# The Arrow type of each logical type in the border's typed output. A year-month stays
# text ``YYYYMM``: turning it into a date would invent a day the source never gave.
ARROW_TYPES: dict[LogicalType, pa.DataType] = {
    LogicalType.STRING: pa.string(),
    LogicalType.INTEGER: pa.int64(),
    LogicalType.NUMBER: pa.float64(),
    LogicalType.BOOLEAN: pa.bool_(),
    LogicalType.DATE: pa.date32(),
    LogicalType.DATETIME: pa.timestamp("us"),
    LogicalType.YEAR: pa.int16(),
    LogicalType.YEARMONTH: pa.string(),
    LogicalType.MONTH: pa.int8(),
}


@dataclass(frozen=True)
class SourceField:
    """One declared column."""

    name: str
    type: LogicalType
    format: str = "default"
    max_length: int | None = None  # characters, strings only
    min_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False  # a null or empty value quarantines the row
    is_key: bool = False  # part of the primary key
    identifier_domain: str | None = None  # set when the column is a direct identifier
    identifier_placeholders: tuple[str, ...] = ()  # "no identifier" values, kept as is
    code_system: str | None = None  # e.g. "CIM-10", checked by the caller's code checker
    code_placeholders: tuple[str, ...] = ()  # "no code" values, always accepted
    description: str = ""
    # older names of the column the header may use instead (OMOP CDM v5.3 names)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.type is LogicalType.DATE:
            date_format(self.format)
        elif self.type is LogicalType.DATETIME:
            datetime_format(self.format)

    @property
    def is_identifier(self) -> bool:
        return self.identifier_domain is not None

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]

    @property
    def missing_reason(self) -> str:
        """The reason a missing required value is quarantined with."""
        return "missing_identifier" if self.is_key or self.is_identifier else "missing_value"


@dataclass(frozen=True)
class SourceSchema:
    """One declared table, as named in the extract (``T_MCO19B``, not ``T_MCOaaB``)."""

    name: str
    source: str  # "snds" or "omop"
    fields: tuple[SourceField, ...]
    primary_key: tuple[str, ...] = ()
    template: str | None = None  # the declared schema's own name when it differs
    year: int | None = None  # PMSI / cartography year taken from the table name
    missing_values: tuple[str, ...] = ("",)  # values that mean null ("" always does)
    # "quarantine": a repeated primary key is a duplicate_key. "report": the key is a
    # local row id the hub re-keys, so a repeated key on a different row is loaded and
    # reported as a finding; only an exact copy of an earlier row is a duplicate_key.
    repeated_keys: str = "quarantine"

    def __post_init__(self) -> None:
        missing = tuple(dict.fromkeys(("", *self.missing_values)))
        object.__setattr__(self, "missing_values", missing)
        seen: set[str] = set()
        for f in self.fields:
            if f.name.upper() in seen:
                raise SchemaError(f"{self.name}: column {f.name} declared twice")
            seen.add(f.name.upper())
        if self.repeated_keys not in ("quarantine", "report"):
            raise SchemaError(f"{self.name}: repeated_keys must be quarantine or report")
        unknown = [k for k in self.primary_key if k.upper() not in seen]
        if unknown:
            raise SchemaError(f"{self.name}: primary key columns {unknown} are not declared")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> SourceField:
        """A field by name, case-insensitively."""
        for f in self.fields:
            if f.name.upper() == name.upper():
                return f
        raise KeyError(f"{self.name} has no column {name!r}")

    def has_field(self, name: str) -> bool:
        return any(f.name.upper() == name.upper() for f in self.fields)

    @property
    def identifiers(self) -> tuple[SourceField, ...]:
        return tuple(f for f in self.fields if f.is_identifier)

    @property
    def required(self) -> tuple[SourceField, ...]:
        return tuple(f for f in self.fields if f.required)

    def arrow_schema(self, identifier_type: pa.DataType | None = None) -> pa.Schema:
        """The schema of the border's valid rows: every declared column, in order.

        Identifier columns hold pseudonyms, whose type is the pseudonymiser's
        (``identifier_type``; text when not given).
        """
        id_type = identifier_type or pa.string()
        return pa.schema(
            [pa.field(f.name, id_type if f.is_identifier else f.arrow_type) for f in self.fields]
        )
