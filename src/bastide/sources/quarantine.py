"""Quarantine records: one per rejected row, with a machine-readable reason.

``row_json`` is the row as read (declared columns only, identifiers already replaced by
their pseudonyms), built column-wise with Arrow string kernels rather than row by row.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc

# Reason codes, in the order a row is checked: a row gets the first that applies.
REASONS = (
    "missing_identifier",  # identifier or primary-key column null or empty
    "missing_value",  # other required column null or empty
    "bad_date",  # date, datetime, year, month or year-month not in its declared format
    "type_error",  # integer, number or boolean not parseable; text too long or too short
    "unknown_code",  # code column value not among the known codes
    "out_of_range",  # number outside the declared minimum / maximum
    "duplicate_key",  # primary key seen earlier in the file (or run)
    "unknown_reference",  # OMOP person_id naming no person of the extract (found by the ETL)
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("table", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("row_json", pa.string(), nullable=False),
    ]
)

_CONTROL = [chr(c) for c in range(0x20)]
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _json_string(values: pa.Array) -> pa.Array:
    """JSON string literals of text values (null stays null)."""
    values = pc.replace_substring(values, "\\", "\\\\")
    values = pc.replace_substring(values, '"', '\\"')
    if pc.any(pc.match_substring_regex(values, r"[\x00-\x1f]")).as_py():
        for char in _CONTROL:
            escape = _SHORT_ESCAPES.get(char, f"\\u{ord(char):04x}")
            values = pc.replace_substring(values, char, escape)
    return pc.binary_join_element_wise('"', values, '"', "")


def rows_json(columns: dict[str, pa.Array], num_rows: int) -> pa.Array:
    """One JSON object per row: ``{"COL": "value" | null, ...}`` (values as text)."""
    parts: list[pa.Array | str] = []
    for i, (name, values) in enumerate(columns.items()):
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = pc.cast(values, pa.string())
        literal = pc.fill_null(_json_string(values), "null")
        parts += [("{" if i == 0 else ",") + json.dumps(name) + ":", literal]
    if not parts:
        return pa.repeat(pa.scalar("{}"), num_rows)
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "")


def empty_quarantine() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=QUARANTINE_SCHEMA)
