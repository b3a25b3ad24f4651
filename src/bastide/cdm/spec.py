"""The OMOP CDM v5.4 specification as immutable definitions.

Loaded once from the OHDSI specification files (``OMOP_CDMv5.4_Table_Level.csv`` and
``_Field_Level.csv``, shipped in bastide's reference bundle as ``omop-spec/table_level`` and
``omop-spec/field_level``). The ETL types its outputs with `arrow_schema`, OMOP ingestion
validates hospital files against it and the data-quality check derives its checks from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import pyarrow as pa

from bastide import reference
from bastide.errors import BastideError

TABLE_LEVEL = "omop-spec/table_level"
FIELD_LEVEL = "omop-spec/field_level"
CDM_VERSION = "5.4"

_VARCHAR = re.compile(r"varchar\((\d+|max)\)")
_ARROW_TYPES: dict[str, pa.DataType] = {
    "integer": pa.int64(),
    "bigint": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
}


class UnknownTable(BastideError):
    """A table name that is not part of OMOP CDM v5.4."""


@dataclass(frozen=True)
class FieldSpec:
    """One column of an OMOP table."""

    name: str
    datatype: str  # as in the specification, lower case: "integer", "varchar(50)", ...
    required: bool
    is_pk: bool
    fk_table: str | None = None  # lower case, e.g. "person", "concept"
    fk_field: str | None = None
    fk_domain: str | None = None  # e.g. "Gender", "Procedure, Regimen"

    @property
    def arrow_type(self) -> pa.DataType:
        return arrow_type(self.datatype)

    @property
    def max_length(self) -> int | None:
        """Declared maximum length of a varchar field (None for MAX and non-text)."""
        match = _VARCHAR.fullmatch(self.datatype)
        return int(match.group(1)) if match and match.group(1) != "max" else None

    @property
    def fk_domains(self) -> tuple[str, ...]:
        return tuple(d.strip() for d in self.fk_domain.split(",")) if self.fk_domain else ()

    @property
    def is_concept_fk(self) -> bool:
        return self.fk_table == "concept" and self.fk_field == "concept_id"


@dataclass(frozen=True)
class TableSpec:
    """One OMOP table: its fields in specification order and its primary key."""

    name: str
    schema: str  # "CDM", "VOCAB" or "RESULTS"
    required: bool
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...]
    # Share of persons allowed to have no row in this table (None: not measured).
    person_completeness_threshold: float | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name.lower():
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def has_field(self, name: str) -> bool:
        return name.lower() in self.field_names


def arrow_type(datatype: str) -> pa.DataType:
    """The Arrow type bastide stores an OMOP datatype as."""
    datatype = datatype.strip().lower()
    if datatype in _ARROW_TYPES:
        return _ARROW_TYPES[datatype]
    if _VARCHAR.fullmatch(datatype):
        return pa.string()
    raise ValueError(f"unknown OMOP datatype {datatype!r}")


def _na(value: str) -> str | None:
    value = value.strip()
    return None if value in ("", "NA") else value


@cache
def _tables() -> dict[str, TableSpec]:
    field_rows = reference.records(FIELD_LEVEL)
    table_rows = reference.records(TABLE_LEVEL)

    fields: dict[str, list[FieldSpec]] = {}
    for row in field_rows:
        fk_table = _na(row["fkTableName"])
        fk_field = _na(row["fkFieldName"])
        fields.setdefault(row["cdmTableName"].lower(), []).append(
            FieldSpec(
                # "offset" is quoted in the specification (an SQL keyword).
                name=row["cdmFieldName"].strip().strip('"').lower(),
                datatype=row["cdmDatatype"].strip().lower(),
                required=row["isRequired"] == "Yes",
                is_pk=row["isPrimaryKey"] == "Yes",
                fk_table=fk_table.lower() if fk_table else None,
                fk_field=fk_field.lower() if fk_field else None,
                fk_domain=_na(row["fkDomain"]),
            )
        )
    tables: dict[str, TableSpec] = {}
    for row in table_rows:
        name = row["cdmTableName"].lower()
        table_fields = tuple(fields.get(name, ()))
        threshold = _na(row["measurePersonCompletenessThreshold"])
        tables[name] = TableSpec(
            name=name,
            schema=row["schema"],
            required=row["isRequired"] == "Yes",
            fields=table_fields,
            primary_key=tuple(f.name for f in table_fields if f.is_pk),
            person_completeness_threshold=(
                float(threshold)
                if row["measurePersonCompleteness"] == "Yes" and threshold
                else None
            ),
        )
    return tables


def all_tables() -> tuple[TableSpec, ...]:
    """Every OMOP CDM v5.4 table, in specification order."""
    return tuple(_tables().values())


def table_spec(name: str) -> TableSpec:
    """The specification of one table (case-insensitive name)."""
    try:
        return _tables()[name.lower()]
    except KeyError:
        raise UnknownTable(f"{name!r} is not an OMOP CDM v{CDM_VERSION} table") from None


def is_omop_table(name: str) -> bool:
    return name.lower() in _tables()


def arrow_schema(table: str | TableSpec) -> pa.Schema:
    """The Arrow schema of an OMOP table; required fields are non-nullable."""
    spec = table if isinstance(table, TableSpec) else table_spec(table)
    return pa.schema([pa.field(f.name, f.arrow_type, nullable=not f.required) for f in spec.fields])


def empty_table(name: str | TableSpec) -> pa.Table:
    """A table with no rows and the exact OMOP schema."""
    return arrow_schema(name).empty_table()


def conform(data: pa.Table, name: str | TableSpec, *, strict: bool = True) -> pa.Table:
    """``data`` with the OMOP schema: column names in lower case, in specification order
    and cast; optional columns it lacks are added as nulls.

    ``strict`` returns the exact `arrow_schema` and refuses nulls in required fields; with
    ``strict=False`` every field is nullable, so that defective rows can still be loaded
    and reported by the data-quality check. Raises `ValueError` naming unknown columns,
    missing required columns or required columns holding nulls, and
    `pyarrow.ArrowInvalid` when a value cannot be cast.
    """
    spec = name if isinstance(name, TableSpec) else table_spec(name)
    data = data.rename_columns([c.lower() for c in data.column_names])
    unknown = sorted(set(data.column_names) - set(spec.field_names))
    missing = [f.name for f in spec.fields if f.required and f.name not in data.column_names]
    problems = []
    if unknown:
        problems.append(f"unknown columns {unknown}")
    if missing:
        problems.append(f"missing required columns {missing}")
    if problems:
        raise ValueError(f"{spec.name}: " + "; ".join(problems))
    schema = arrow_schema(spec)
    columns = [
        data.column(f.name).cast(f.type)
        if f.name in data.column_names
        else pa.nulls(data.num_rows, f.type)
        for f in schema
    ]
    relaxed = pa.schema([f.with_nullable(True) for f in schema])
    table = pa.Table.from_arrays(columns, schema=relaxed)
    if not strict:
        return table
    nulls = [f.name for f in schema if not f.nullable and table.column(f.name).null_count]
    if nulls:
        raise ValueError(f"{spec.name}: nulls in required columns {nulls}")
    return table.cast(schema)
