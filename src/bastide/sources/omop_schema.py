"""Declared schemas of OMOP CDM v5.4 tables, from the CDM specification.

The specification comes from ``bastide.cdm.spec``. OMOP files carry ISO dates
(``YYYY-MM-DD``) and ISO datetimes (``YYYY-MM-DD HH:MM:SS``, ``T`` separator accepted).
"""

from __future__ import annotations

import re
from functools import cache

from bastide.cdm.spec import UnknownTable, all_tables, table_spec
from bastide.errors import BastideError
from bastide.sources.declarations import code_column, identifier_column
from bastide.sources.errors import SchemaError
from bastide.sources.schema import LogicalType, SourceField, SourceSchema

_VARCHAR = re.compile(r"varchar\((\d+|max)\)", re.IGNORECASE)
_TYPES = {
    "integer": LogicalType.INTEGER,
    "bigint": LogicalType.INTEGER,
    "float": LogicalType.NUMBER,
    "date": LogicalType.DATE,
    "datetime": LogicalType.DATETIME,
}


class UnknownOmopTable(BastideError):
    """A name that is not an OMOP CDM v5.4 table."""


def omop_table_names() -> tuple[str, ...]:
    """Every OMOP CDM v5.4 table name, lower case, in specification order."""
    return tuple(t.name for t in all_tables())


def _logical(table: str, column: str, datatype: str) -> tuple[LogicalType, int | None]:
    datatype = datatype.strip().lower()
    if datatype in _TYPES:
        return _TYPES[datatype], None
    match = _VARCHAR.fullmatch(datatype)
    if match:
        size = match.group(1)
        return LogicalType.STRING, None if size.lower() == "max" else int(size)
    raise SchemaError(f"{table}.{column}: unknown OMOP datatype {datatype!r}")


@cache
def omop_source_schema(table_name: str) -> SourceSchema:
    """The declared schema of an OMOP table (case-insensitive name)."""
    try:
        spec = table_spec(table_name)
    except UnknownTable:
        raise UnknownOmopTable(f"{table_name!r} is not an OMOP CDM v5.4 table") from None
    fields = []
    for f in spec.fields:
        kind, max_length = _logical(spec.name, f.name, f.datatype)
        ident = identifier_column("omop", spec.name, f.name)
        code = code_column("omop", spec.name, f.name)
        fields.append(
            SourceField(
                name=f.name,
                type=kind,
                max_length=max_length,
                required=f.required or f.is_pk or bool(ident and ident.required),
                is_key=f.is_pk,
                identifier_domain=ident.domain if ident else None,
                identifier_placeholders=ident.placeholders if ident else (),
                code_system=code.system if code else None,
                code_placeholders=code.placeholders if code else (),
            )
        )
    return SourceSchema(
        name=spec.name,
        source="omop",
        fields=tuple(fields),
        primary_key=spec.primary_key,
    )
