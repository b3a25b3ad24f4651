"""Readers and conformance checks used by the synthetic-data tests.

SNDS files are checked against schema-snds (names, types, lengths, date formats, enum and
range constraints); hospital files against the OMOP CDM v5.4 specification.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bastide.sources.snds_schema import load_snds_schema
from bastide.synth import nomenclatures

# Constraints real extracts do not honour either, so the generator does not: quantities
# and amounts are signed on cancelling lines; FINESS of departments 01-09 begin with 0.
SIGNED_IN_REAL_DATA = {"PRS_ACT_QTE", "PRS_ACT_NBR", "ETA_NUM"}
_SAS_MONTHS = {
    m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())
}


def read_strings(path: Path, delimiter: str = ";", encoding: str = "utf-8") -> pa.Table:
    """A generated file with every column as text (empty fields as null)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return pa.table({n: _as_text(table[n]) for n in table.column_names})
    opener = (
        pa.CompressedInputStream(pa.OSFile(str(path)), "gzip")
        if path.suffix == ".gz"
        else pa.OSFile(str(path))
    )
    with opener as stream:
        raw = stream.read()
    text = raw.decode(encoding)
    header = text.split("\n", 1)[0].split(delimiter)
    return pacsv.read_csv(
        pa.py_buffer(text.encode()),
        parse_options=pacsv.ParseOptions(delimiter=delimiter),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=True
        ),
    )


def _as_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_date32(col.type):
        return pc.strftime(col.cast(pa.timestamp("s")), format="%Y-%m-%d")
    return col.cast(pa.string())


def _values(table: pa.Table, name: str) -> list[str]:
    return [v for v in table[name].to_pylist() if v not in (None, "")]


def _date_ok(value: str, fmt: str) -> bool:
    if fmt == "%d%b%Y:%H:%M:%S":
        m = re.fullmatch(r"(\d{2})([A-Z]{3})(\d{4}):(\d{2}):(\d{2}):(\d{2})", value)
        if not m or m[2] not in _SAS_MONTHS:
            return False
        try:
            dt.date(int(m[3]), _SAS_MONTHS[m[2]], int(m[1]))
        except ValueError:
            return False
        return True
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def check_snds(table_name: str, table: pa.Table) -> list[str]:
    """Problems of one generated SNDS table against its schema-snds definition."""
    fields = {f["name"]: f for f in load_snds_schema(table_name)}
    order = list(fields)
    problems = []
    cols = table.column_names
    unknown = [c for c in cols if c not in fields]
    if unknown:
        return [f"{table_name}: columns not in schema: {unknown}"]
    if cols != sorted(cols, key=order.index):
        problems.append(f"{table_name}: columns not in schema order")
    for name in cols:
        problems += _check_field(table_name, fields[name], _values(table, name))
    return problems


_PATTERNS = {
    "integer": r"-?\d+",
    "number": r"-?\d+(\.\d+)?",
    "boolean": r"[01]",
    "year": r"\d{4}",
    "yearmonth": r"\d{4}(0[1-9]|1[0-2])",
}


def _typed(kind: str | None, fmt: str, v: str) -> bool:
    if kind in _PATTERNS:
        return re.fullmatch(_PATTERNS[kind], v) is not None
    if kind in ("date", "datetime"):
        return _date_ok(v, "%Y-%m-%d" if fmt == "default" else fmt)
    return True


def _check_field(table: str, field: dict[str, Any], values: list[str]) -> list[str]:
    name, kind = field["name"], field.get("type")
    fmt = field.get("format") or "default"
    length = field.get("length")
    cons = field.get("constraints") or {}
    ranged = name not in SIGNED_IN_REAL_DATA and kind in ("integer", "number")
    bad = []
    for v in set(values):
        wrong = not _typed(kind, fmt, v)
        wrong |= (
            isinstance(length, int)
            and kind in ("string", "integer")
            and len(v.lstrip("-")) > length
        )
        wrong |= len(v) < cons.get("minLength", 0)
        wrong |= bool(cons.get("enum")) and v not in cons["enum"]
        if ranged and not wrong:
            wrong |= float(v) < cons.get("minimum", float("-inf"))
            wrong |= float(v) > cons.get("maximum", float("inf"))
        if wrong:
            bad.append(v)
    return [f"{table}.{name}: {len(bad)} bad values, e.g. {sorted(bad)[:3]}"] if bad else []


def check_omop(table_name: str, table: pa.Table) -> list[str]:
    """Problems of one hospital table against the OMOP CDM v5.4 specification."""
    spec = nomenclatures.omop_fields(table_name)
    problems = []
    if table.column_names != [f.name for f in spec]:
        return [f"{table_name}: columns differ from the specification"]
    for f in spec:
        col = table[f.name]
        if f.required and col.null_count:
            problems.append(f"{table_name}.{f.name}: required but {col.null_count} empty")
        values = set(_values(table, f.name))
        kind = f.datatype.lower()
        if kind == "integer":
            bad = [v for v in values if not re.fullmatch(r"-?\d+", v)]
        elif kind == "float":
            bad = [v for v in values if not re.fullmatch(r"-?\d+(\.\d+)?", v)]
        elif kind == "date":
            bad = [v for v in values if not _date_ok(v, "%Y-%m-%d")]
        elif kind == "datetime":
            bad = [v for v in values if not _date_ok(v, "%Y-%m-%d %H:%M:%S")]
        else:
            m = re.fullmatch(r"varchar\((\d+)\)", kind)
            bad = [v for v in values if m and len(v) > int(m[1])]
        if bad:
            problems.append(f"{table_name}.{f.name}: bad values {sorted(bad)[:3]}")
    return problems
