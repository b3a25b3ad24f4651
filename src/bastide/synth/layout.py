"""Column order and types of every generated table.

SNDS tables keep the schema-snds order and types; only the columns the generator fills
are written (the others are omitted, see docs/synthetic-data.md). Hospital tables carry
every OMOP CDM v5.4 column in specification order, unfilled ones empty.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa

from bastide.sources.snds_schema import load_snds_schema
from bastide.synth import nomenclatures

# FINESS numbers of departments 01-09 begin with 0: keep ETA_NUM as text.
_SNDS_OVERRIDES = {"ETA_NUM": pa.string()}


def snds_arrow_type(field: dict[str, Any]) -> pa.DataType:
    """The Arrow type a schema-snds field is written as (dates with a custom format, SAS
    datetimes and year-months are text in the exact format of real extracts)."""
    if field["name"] in _SNDS_OVERRIDES:
        return _SNDS_OVERRIDES[field["name"]]
    kind = field.get("type")
    fmt = field.get("format", "default")
    if kind == "integer":
        return pa.int64()
    if kind == "number":
        return pa.float64()
    if kind == "boolean":
        return pa.int8()
    if kind == "year":
        return pa.int16()
    if kind == "date" and fmt in (None, "default", "%Y-%m-%d"):
        return pa.date32()
    return pa.string()


@cache
def _snds_fields(name: str) -> tuple[tuple[str, pa.DataType], ...]:
    return tuple((f["name"], snds_arrow_type(f)) for f in load_snds_schema(name))


def _array(values: Any, typ: pa.DataType, n: int) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values if values.type == typ else values.cast(typ)
    if np.isscalar(values) or values is None:
        return pa.array([values] * n, type=typ) if values is not None else pa.nulls(n, typ)
    arr = np.asarray(values)
    if pa.types.is_date32(typ) and arr.dtype.kind in "iu":
        return pa.array(arr.astype(np.int32), type=pa.int32()).cast(typ)
    return pa.array(arr, type=typ)


def _length(cols: dict[str, Any]) -> int:
    for v in cols.values():
        if not (np.isscalar(v) or v is None):
            return len(v)
    raise ValueError("a table needs at least one column with values")


def snds_table(name: str, cols: dict[str, Any]) -> pa.Table:
    """A table in schema-snds order with the given columns (unknown names are a bug)."""
    fields = _snds_fields(name)
    known = {f for f, _ in fields}
    unknown = sorted(set(cols) - known)
    if unknown:
        raise ValueError(f"{name}: columns not in its schema: {', '.join(unknown)}")
    n = _length(cols)
    names, arrays = [], []
    for col, typ in fields:
        if col in cols:
            names.append(col)
            arrays.append(_array(cols[col], typ, n))
    return pa.Table.from_arrays(arrays, names=names)


def snds_schema(name: str, columns: list[str]) -> pa.Schema:
    types = dict(_snds_fields(name))
    return pa.schema([(c, types[c]) for c in columns])


def _omop_type(datatype: str) -> pa.DataType:
    kind = datatype.lower()
    if kind == "integer" or kind == "bigint":
        return pa.int64()
    if kind == "float":
        return pa.float64()
    if kind == "date":
        return pa.date32()
    if kind == "datetime":
        return pa.timestamp("s")
    return pa.string()


@cache
def omop_schema(table: str) -> pa.Schema:
    return pa.schema([(f.name, _omop_type(f.datatype)) for f in nomenclatures.omop_fields(table)])


def omop_table(table: str, cols: dict[str, Any]) -> pa.Table:
    """An OMOP CDM v5.4 table with every specification column, in order."""
    schema = omop_schema(table)
    unknown = sorted(set(cols) - set(schema.names))
    if unknown:
        raise ValueError(f"{table}: columns not in OMOP CDM v5.4: {', '.join(unknown)}")
    n = _length(cols)
    arrays = [_array(cols.get(f.name), f.type, n) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
