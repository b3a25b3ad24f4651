"""Readers and conformance checks used by the synthetic-data tests.

SNDS files are checked against schema-snds (names, types, lengths, date formats, enum and
range constraints); hospital files against the OMOP CDM v5.4 specification.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
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
    bad = _bad_values(field, values)
    name = field["name"]
    return [f"{table}.{name}: {len(bad)} bad values, e.g. {sorted(bad)[:3]}"] if bad else []


def _bad_values(field: dict[str, Any], values: Iterable[str]) -> list[str]:
    """Values breaking the schema-snds declaration of ``field``."""
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
        # schema-snds gives most lengths as text ("2"): text is no longer than that
        wrong |= kind == "string" and str(length).isdigit() and len(v) > int(str(length))
        wrong |= len(v) < cons.get("minLength", 0)
        wrong |= bool(cons.get("enum")) and v not in cons["enum"]
        if ranged and not wrong:
            wrong |= float(v) < cons.get("minimum", float("-inf"))
            wrong |= float(v) > cons.get("maximum", float("inf"))
        if wrong:
            bad.append(v)
    return bad


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
        bad = _bad_omop_values(f, set(_values(table, f.name)))
        if bad:
            problems.append(f"{table_name}.{f.name}: bad values {sorted(bad)[:3]}")
    return problems


def _bad_omop_values(f: nomenclatures.OmopField, values: Iterable[str]) -> list[str]:
    kind = f.datatype.lower()
    if kind == "integer":
        return [v for v in values if not re.fullmatch(r"-?\d+", v)]
    if kind == "float":
        return [v for v in values if not re.fullmatch(r"-?\d+(\.\d+)?", v)]
    if kind == "date":
        return [v for v in values if not _date_ok(v, "%Y-%m-%d")]
    if kind == "datetime":
        return [v for v in values if not _date_ok(v, "%Y-%m-%d %H:%M:%S")]
    m = re.fullmatch(r"varchar\((\d+)\)", kind)
    return [v for v in values if m and len(v) > int(m[1])]


# -- planted defects --------------------------------------------------------------------

# A small extract with every kind of defect: many hospitals (their tables are small) and
# the highest rate.
MESSY: dict[str, Any] = {"seed": 5, "persons": 2000, "hospitals": 20, "defects": 0.1}


def defect_lines(root: Path) -> dict[str, dict[int, tuple[str, str]]]:
    """Planted defects of an extract from its ground truth: file -> line -> (reason, column)."""
    found: dict[str, dict[int, tuple[str, str]]] = {}
    for row in read_strings(root / "ground_truth" / "defects.csv", ",").to_pylist():
        found.setdefault(row["file"], {})[int(row["line"])] = (row["reason"], row["column"])
    return found


def read_clean(root: Path, rel: str, delimiter: str = ";", encoding: str = "utf-8") -> pa.Table:
    """A generated file as text without the rows of its planted defects (duplicates
    dropped, spoiled rows dropped): what the border loads."""
    table = read_strings(root / rel, delimiter, encoding)
    planted = defect_lines(root).get(rel)
    if not planted:
        return table
    first = 1 if rel.endswith(".parquet") else 2
    lines = pa.array(range(first, first + table.num_rows), pa.int64())
    keep = pc.invert(pc.is_in(lines, value_set=pa.array(sorted(planted), pa.int64())))
    return table.filter(keep)


def border_scan(root: Path, encoding: str | None = None) -> dict[str, dict[int, tuple[str, str]]]:
    """What the border quarantines in an extract: file -> line -> (reason, column).

    Codes are checked against the nomenclatures the generator draws from (IR_CIM_V,
    IR_CCAM_V63) and the IR_PHA_R shipped in the extract; identifiers are left as they are.
    """
    from bastide.sources import known_codes, read_extract
    from bastide.sources.declarations import CCAM, CIM10, CIP13

    snds = root / "snds"
    ir_pha_r = next(snds.glob("IR_PHA_R.*"))
    checker = known_codes(
        {
            CIM10: list(nomenclatures.cim10()),
            CCAM: list(nomenclatures.ccam()),
            CIP13: read_strings(ir_pha_r, encoding=encoding or "utf-8")["PHA_CIP_C13"],
        }
    )
    found: dict[str, dict[int, tuple[str, str]]] = {}
    sources = [(snds, "snds", encoding)]
    sources += [(h, "omop", None) for h in sorted((root / "hospitals").iterdir())]
    for directory, source, enc in sources:
        extract = read_extract(
            directory, source, pseudonymise=lambda a: a, code_checker=checker, encoding=enc
        )
        for reader in extract:
            rel = str(reader.file.path.relative_to(root))
            for batch in reader:
                q = batch.quarantine
                for line, reason, column in zip(
                    q["line_number"].to_pylist(),
                    q["reason"].to_pylist(),
                    q["column"].to_pylist(),
                    strict=True,
                ):
                    found.setdefault(rel, {})[line] = (reason, column)
        assert extract.reconciliation.ok, extract.reconciliation.render()
    return found


# Independent of the border: the identifiers a row cannot lack, the nomenclature of each
# code column and the primary keys the generator keeps unique.
_REQUIRED_IDS = {"BEN_NIR_PSA", "NIR_ANO_17", "person_id"}
_PRIMARY_KEYS = {"IR_BEN_R": ("BEN_NIR_PSA", "BEN_RNG_GEM"), "T_MCOaaB": ("ETA_NUM", "RSA_NUM")}
_TEMPORAL = {"date", "datetime", "year", "yearmonth"}

Problems = dict[int, set[tuple[str, str]]]


def _flag(problems: Problems, mask: Any, reason: str, column: str, first: int = 2) -> None:
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    rows = mask.to_numpy(zero_copy_only=False) if isinstance(mask, pa.Array) else mask
    for i in rows.nonzero()[0].tolist():
        problems.setdefault(first + i, set()).add((reason, column))


def _matching(column: pa.ChunkedArray, values: Iterable[str]) -> pa.ChunkedArray:
    return pc.is_in(column, value_set=pa.array(sorted(values), pa.string()))


def scan_rows(root: Path) -> dict[str, Problems]:
    """Every problem of every row of a CSV extract, found from the declarations and the
    nomenclatures alone: file -> line -> {(reason, column)}, with the border's reason
    names. Rows without a problem are absent."""
    from bastide.sources.snds_schema import schema_name

    cim, ccam = set(nomenclatures.cim10()), set(nomenclatures.ccam())
    cip = set(_values(read_strings(root / "snds" / "IR_PHA_R.csv"), "PHA_CIP_C13"))
    codes = {"DGN_PAL": cim, "DGN_REL": cim, "ASS_DGN": cim, "DCD_CIM_COD": cim}
    codes |= {"CAM_PRS_IDE": ccam, "PHA_PRS_C13": cip}
    found: dict[str, Problems] = {}
    for path in sorted((root / "snds").glob("*.csv")):
        data = read_strings(path)
        fields = {f["name"]: f for f in load_snds_schema(path.stem)}
        problems = found.setdefault(f"snds/{path.name}", {})
        for name in data.column_names:
            column, field = data[name], fields[name]
            if name in _REQUIRED_IDS:
                _flag(problems, pc.is_null(column), "missing_identifier", name)
            values = set(_values(data, name))
            reason = "bad_date" if field.get("type") in _TEMPORAL else "type_error"
            _flag(problems, _matching(column, _bad_values(field, values)), reason, name)
            if name in codes:
                unknown = values - codes[name]
                _flag(problems, _matching(column, unknown), "unknown_code", name)
        key = _PRIMARY_KEYS.get(schema_name(path.stem))
        if key:
            seen: set[tuple[Any, ...]] = set()
            rows = list(zip(*(data[k].to_pylist() for k in key), strict=True))
            again = [r in seen or seen.add(r) for r in rows]  # type: ignore[func-returns-value]
            _flag(problems, pa.array(again), "duplicate_key", "+".join(key))
    for hospital in sorted((root / "hospitals").iterdir()):
        for path in sorted(hospital.glob("*.csv")):
            data = read_strings(path, ",")
            problems = found.setdefault(str(path.relative_to(root)), {})
            for f in nomenclatures.omop_fields(path.stem):
                column = data[f.name]
                if f.required:
                    reason = "missing_identifier" if f.name in _REQUIRED_IDS else "missing_value"
                    _flag(problems, pc.is_null(column), reason, f.name)
                bad = _bad_omop_values(f, set(_values(data, f.name)))
                reason = "bad_date" if f.datatype.lower() in ("date", "datetime") else "type_error"
                _flag(problems, _matching(column, bad), reason, f.name)
    return {file: problems for file, problems in found.items() if problems}
