"""SNDS table schemas (Table Schema JSON from schema-snds), looked up by table name.

A table is named as it appears in an extract: ``ER_PRS_F``, ``IR_BEN_R``, or a yearly
table such as ``T_MCO19B`` (PMSI: ``aa`` is a two-digit year, so ``T_SSR21CSTC`` and
``T_HAD20B`` work the same way) or ``CT_IDE_2019_GN`` (cartography: ``AAAA``).
Nomenclature tables whose schema ships with the nomenclatures (``IR_PHA_R``) are found
too. Names match case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import Any

from bastide import reference
from bastide.errors import BastideError
from bastide.sources.declarations import code_column, correction, identifier_column
from bastide.sources.errors import SchemaError
from bastide.sources.schema import LogicalType, SourceField, SourceSchema

# Placeholders in schema names: PMSI year "aa", cartography year "AAAA", a number "xx".
_PLACEHOLDERS = (("aa", r"(?P<yy>\d{2})"), ("AAAA", r"(?P<yyyy>\d{4})"), ("xx", r"\d{2}"))


class UnknownSndsTable(BastideError):
    """No schema-snds definition for a table name."""


@dataclass(frozen=True)
class SndsTableName:
    """An extract table name resolved to its declared schema."""

    table: str  # as in the extract, upper case: T_MCO19B
    schema: str  # the schema-snds name: T_MCOaaB
    year: int | None  # 2019


@cache
def _schema_files() -> dict[str, dict[str, Any]]:
    """Declared schema name -> its Table Schema document (schema-snds first, then the
    nomenclatures'), from the reference bundle."""
    files: dict[str, dict[str, Any]] = {}
    for bundle in ("snds/schema-snds", "nomenclatures/schemas"):
        for path, document in reference.documents(bundle).items():
            files.setdefault(PurePosixPath(path).stem, document)
    return files


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Regexes matching extract names of the schemas whose name holds a placeholder."""
    patterns = []
    for name in _schema_files():
        regex = re.escape(name)
        for placeholder, group in _PLACEHOLDERS:
            regex = regex.replace(placeholder, group, 1)
        if regex != re.escape(name):
            patterns.append((re.compile(regex, re.IGNORECASE), name))
    return tuple(patterns)


def resolve_snds_table(table_name: str) -> SndsTableName | None:
    """The declared schema (and year) of an extract table name, or None if unknown."""
    by_upper = {name.upper(): name for name in _schema_files()}
    exact = by_upper.get(table_name.upper())
    if exact is not None:
        return SndsTableName(table_name.upper(), exact, None)
    for pattern, name in _patterns():
        match = pattern.fullmatch(table_name)
        if match:
            found = match.groupdict()
            year = (
                2000 + int(found["yy"])
                if found.get("yy")
                else int(found["yyyy"])
                if found.get("yyyy")
                else None
            )
            return SndsTableName(table_name.upper(), name, year)
    return None


def schema_name(table_name: str) -> str:
    """The schema-snds name of an extract table: year-suffixed PMSI names become ``aa``."""
    resolved = resolve_snds_table(table_name)
    return resolved.schema if resolved else table_name.upper()


def snds_table_names() -> tuple[str, ...]:
    """Every declared SNDS schema name (templates keep their placeholders)."""
    return tuple(sorted(_schema_files()))


def _load(name: str) -> dict[str, Any]:
    document = _schema_files().get(name)
    if document is None:
        raise UnknownSndsTable(f"no SNDS schema for table {name}")
    return document


def load_snds_table(table_name: str) -> dict[str, Any]:
    """The whole Table Schema document of a table (name, fields, primaryKey, foreignKeys…)."""
    return _load(schema_name(table_name))


def load_snds_schema(table_name: str) -> list[dict[str, Any]]:
    """The field definitions of a table, in schema order.

    Each field is a dict with at least ``name`` and ``type`` (string, integer, number, date,
    datetime, year, yearmonth, boolean), and where known ``length``, ``format`` (a strftime
    pattern, or ``default``), ``constraints`` and ``nomenclature``.
    """
    return [dict(field) for field in load_snds_table(table_name)["fields"]]


def snds_field_names(table_name: str) -> list[str]:
    return [field["name"] for field in load_snds_table(table_name)["fields"]]


# -- declared schemas for the border --------------------------------------------------
def _logical_type(table: str, raw: dict[str, Any]) -> LogicalType:
    fix = correction("snds", table, str(raw.get("name")))
    if fix is not None and fix.type is not None:
        return LogicalType(fix.type)
    declared = str(raw.get("type", "string"))
    if declared == "date" and raw.get("format") == "%m":
        return LogicalType.MONTH
    try:
        return LogicalType(declared)
    except ValueError:
        raise SchemaError(f"{table}.{raw.get('name')}: unknown type {declared!r}") from None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _field(schema: str, raw: dict[str, Any], key: set[str]) -> SourceField:
    name = str(raw["name"])
    kind = _logical_type(schema, raw)
    length = str(raw.get("length") or "")
    constraints = raw.get("constraints") or {}
    ident = identifier_column("snds", schema, name)
    code = code_column("snds", schema, name)
    fix = correction("snds", schema, name)
    numeric = kind in (LogicalType.INTEGER, LogicalType.NUMBER)
    low = None if fix and fix.drop_minimum else constraints.get("minimum")
    high = None if fix and fix.drop_maximum else constraints.get("maximum")
    return SourceField(
        name=name,
        type=kind,
        format=str(raw.get("format") or "default"),
        # "10,2" on numbers is precision and scale, not a text length
        max_length=int(length) if kind is LogicalType.STRING and length.isdigit() else None,
        min_length=constraints.get("minLength") if kind is LogicalType.STRING else None,
        minimum=_number(low) if numeric else None,
        maximum=_number(high) if numeric else None,
        required=name in key or bool(ident and ident.required),
        is_key=name in key,
        identifier_domain=ident.domain if ident else None,
        identifier_placeholders=ident.placeholders if ident else (),
        code_system=code.system if code else None,
        code_placeholders=code.placeholders if code else (),
        description=str(raw.get("description") or ""),
    )


@cache
def snds_source_schema(table_name: str) -> SourceSchema:
    """The declared schema of an extract table (``T_MCO19B`` gives ``T_MCOaaB``, 2019)."""
    resolved = resolve_snds_table(table_name)
    if resolved is None:
        raise UnknownSndsTable(f"no SNDS schema for table {table_name}")
    doc = _load(resolved.schema)
    pk = doc.get("primaryKey") or ()
    primary_key = (pk,) if isinstance(pk, str) else tuple(pk)
    fields = tuple(_field(resolved.schema, raw, set(primary_key)) for raw in doc["fields"])
    missing = tuple(dict.fromkeys(["", *(str(v) for v in doc.get("missingValues") or ())]))
    return SourceSchema(
        name=resolved.table,
        source="snds",
        fields=fields,
        primary_key=primary_key,
        template=resolved.schema if resolved.schema != resolved.table else None,
        year=resolved.year,
        missing_values=missing,
    )
