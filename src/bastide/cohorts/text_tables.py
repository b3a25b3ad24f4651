"""Tiny OMOP tables written as text, for spec tests and examples:

    person = '''
      person_id | gender_concept_id | year_of_birth
      1         | 8532              | 1950
    '''

Columns are typed from the OMOP CDM v5.4 specification (integers, numbers, dates
``YYYY-MM-DD``, text); an empty cell is NULL. `rows` gives the plain rows the reference
interpreter reads, `arrow` the typed Arrow table an engine registers (columns not
written are NULL).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from bastide.cdm.spec import table_spec

Rows = list[dict[str, Any]]


def _value(text: str, datatype: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if datatype in ("integer", "bigint"):
        return int(text)
    if datatype == "float":
        return float(text)
    if datatype == "date":
        return date.fromisoformat(text)
    if datatype == "datetime":
        return datetime.fromisoformat(text)
    return text


def rows(table: str, text: str) -> Rows:
    """The rows of a table written as text (header line, then one line per row)."""
    spec = table_spec(table)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return []
    header = [h.strip().lower() for h in lines[0].split("|")]
    types = {h: spec.field(h).datatype for h in header}
    out = []
    for line in lines[1:]:
        cells = line.split("|")
        if len(cells) != len(header):
            raise ValueError(f"{table}: {len(cells)} cells for {len(header)} columns: {line!r}")
        out.append({h: _value(c, types[h]) for h, c in zip(header, cells, strict=True)})
    return out


def arrow(table: str, table_rows: Rows) -> pa.Table:
    """Rows as an Arrow table with every column of the OMOP table (nullable)."""
    spec = table_spec(table)
    schema = pa.schema([pa.field(f.name, f.arrow_type, nullable=True) for f in spec.fields])
    return pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in spec.fields} for r in table_rows], schema=schema
    )


def tables(**texts: str) -> dict[str, Rows]:
    """Several tables at once: ``tables(person='''…''', death='''…''')``."""
    return {name: rows(name, text) for name, text in texts.items()}


def register(
    engine: Any, data: Mapping[str, Rows], names: set[str] | frozenset[str] = frozenset()
) -> None:
    """Register ``data`` on an engine, and an empty table for each of ``names`` missing
    from it."""
    for name in sorted(set(data) | set(names)):
        engine.register(name, arrow(name, data.get(name, [])))
