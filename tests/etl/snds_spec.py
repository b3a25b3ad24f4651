"""Harness of the ETL spec tests: tiny tables written as text, the ETL run on an engine,
OMOP rows read back and compared with the expected rows written in the test.

Input tables are written as pipe-separated text whose header names the columns a case
needs; every other column of the staged schema is null. Cells are typed from the staged
schema (``bastide.ingest.national.expected_inputs``: integers, ISO dates and datetimes,
booleans, text); an empty cell is null. Identifiers are plain strings standing for the
pseudonyms the border writes.

Expected rows are written the same way, typed from the OMOP storage schema of the table.
The pseudo-column ``person`` stands for ``person_id`` shown as the person's
``person_source_value``, so that a case never depends on how ids are computed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from bastide.cdm.vocabulary import build_vocabulary, code_map
from bastide.engines import Engine, open_engine
from bastide.etl import snds
from bastide.ingest.national import expected_inputs
from bastide.ingest.staging import FILE_COLUMN, LINE_COLUMN
from bastide.ingest.tables import conform, omop_storage_schema

PERSON = "person"  # pseudo-column: the person's source value
# Tables whose rows belong to a person, and the dates each event spans.
PERSON_TABLES = ("observation_period", "visit_occurrence", "condition_occurrence")
PERSON_TABLES += ("drug_exposure", "procedure_occurrence", "death")
EVENT_DATES = {
    "visit_occurrence": ("visit_start_date", "visit_end_date"),
    "condition_occurrence": ("condition_start_date", "condition_end_date"),
    "drug_exposure": ("drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": ("procedure_date", "procedure_end_date"),
}


# -- text tables ------------------------------------------------------------------------
def _cell(text: str, kind: pa.DataType, where: str) -> Any:
    if text == "":
        return None
    if pa.types.is_integer(kind):
        return int(text)
    if pa.types.is_floating(kind):
        return float(text)
    if pa.types.is_boolean(kind):
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{where}: {text!r} is not a boolean (true/false)")
        return text.lower() == "true"
    if pa.types.is_date(kind):
        return date.fromisoformat(text)
    if pa.types.is_timestamp(kind):
        return datetime.fromisoformat(text)
    if pa.types.is_string(kind):
        return text
    raise ValueError(f"{where}: no text form for type {kind}")


def parse_rows(text: str, types: Mapping[str, pa.DataType], what: str) -> list[dict[str, Any]]:
    """Rows of a pipe-separated text table, typed by column name."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    header = [name.strip() for name in lines[0].split("|")]
    unknown = [name for name in header if name not in types]
    if unknown:
        raise ValueError(f"{what}: no columns {unknown}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) != len(header):
            raise ValueError(f"{what}, line {number}: {len(cells)} cells for {len(header)} columns")
        rows.append(
            {
                name: _cell(cell, types[name], f"{what}.{name}, line {number}")
                for name, cell in zip(header, cells, strict=True)
            }
        )
    return rows


# The nine DCIR key columns join a claim line (ER_PRS_F) to its detail rows (ER_PHA_F,
# ER_CAM_F). A case writes the one that tells its lines apart (usually DCT_ORD_NUM); the
# others get the value every line of one monthly flow shares.
DCIR_TABLES = ("ER_PRS_F", "ER_PHA_F", "ER_CAM_F")
DCIR_FLOW = {
    "FLX_DIS_DTD": date(2021, 1, 1),
    "FLX_TRT_DTD": date(2020, 12, 28),
    "FLX_EMT_TYP": 1,
    "FLX_EMT_NUM": 11,
    "FLX_EMT_ORD": 1,
    "ORG_CLE_NUM": "01C011000",
    "DCT_ORD_NUM": 1,
    "PRS_ORD_NUM": 1,
    "REM_TYP_AFF": 1,
}


def staged(table: str, text: str) -> pa.Table:
    """A staged SNDS table: the columns written in ``text``, all others null (but the
    DCIR keys, see ``DCIR_FLOW``). Rows come from the file named after the table, on the
    lines of the text table (the header is line 1), unless ``SOURCE_FILE`` and
    ``SOURCE_LINE`` are written."""
    schema = expected_inputs()[table]
    rows = parse_rows(text, {f.name: f.type for f in schema}, table)
    rows = [{FILE_COLUMN: table, LINE_COLUMN: i} | row for i, row in enumerate(rows, start=2)]
    if table in DCIR_TABLES:
        rows = [DCIR_FLOW | row for row in rows]
    return pa.Table.from_pylist(rows, schema=schema)


def _sort_key(row: tuple[Any, ...]) -> tuple[tuple[bool, Any], ...]:
    return tuple((v is None, "" if v is None else v) for v in row)


def expected(table: str, text: str) -> list[tuple[Any, ...]]:
    """The rows of ``text`` typed as ``table``'s columns, in a canonical order."""
    types = {f.name: f.type for f in omop_storage_schema(table)} | {PERSON: pa.string()}
    rows = parse_rows(text, types, table)
    return sorted((tuple(r.values()) for r in rows), key=_sort_key)


def header(text: str) -> list[str]:
    first = next(line for line in text.strip().splitlines() if line.strip())
    return [name.strip() for name in first.split("|")]


# -- vocabulary -------------------------------------------------------------------------
@cache
def vocabulary() -> dict[str, pa.Table]:
    return build_vocabulary()


@cache
def vocabulary_code_map() -> pa.Table:
    v = vocabulary()
    return code_map(v["concept"], v["concept_relationship"])


def concept(vocabulary_id: str, code: str) -> int:
    """The concept id the French vocabularies give ``code``."""
    c = vocabulary()["concept"]
    found = c.filter(
        pc.and_(pc.equal(c["vocabulary_id"], vocabulary_id), pc.equal(c["concept_code"], code))
    )
    assert found.num_rows == 1, f"{vocabulary_id} {code}: {found.num_rows} concepts"
    return int(found["concept_id"][0].as_py())


# -- running the ETL ----------------------------------------------------------------------
@dataclass(repr=False)
class Omop:
    """What the SNDS ETL made of an extract: OMOP tables as stored, and its accounting."""

    tables: dict[str, pa.Table]
    exclusions: dict[tuple[str, str], int]
    link: pa.Table
    accounting: snds.Accounting

    def excluded(self) -> list[tuple[str, int, str]]:
        """Every excluded row as (file, line, rule), by file and line."""
        rows = self.accounting.excluded_rows.to_pylist()
        return [(r["source_file"], r["line_number"], r["rule"]) for r in rows]

    def person_labels(self) -> dict[int, str]:
        person = self.tables["person"]
        return dict(
            zip(
                person["person_id"].to_pylist(),
                person["person_source_value"].to_pylist(),
                strict=True,
            )
        )

    def rows(self, table: str, like: str) -> list[tuple[Any, ...]]:
        """The rows of ``table`` in the columns of the text table ``like``, in canonical
        order; ``person`` shows the person's source value."""
        data = self.tables[table]
        labels = self.person_labels()
        columns = []
        for name in header(like):
            if name == PERSON:
                columns.append([labels.get(pid) for pid in data["person_id"].to_pylist()])
            else:
                columns.append(data[name].to_pylist())
        return sorted(zip(*columns, strict=True), key=_sort_key) if columns else []

    def check(self, table: str, text: str) -> None:
        """``table`` holds exactly the rows of ``text`` (in its columns)."""
        actual, wanted = self.rows(table, text), expected(table, text)
        assert actual == wanted, _difference(table, header(text), actual, wanted)

    def count(self, table: str) -> int:
        return self.tables[table].num_rows


def register_snds(engine: Engine, tables: Mapping[str, str]) -> None:
    """Register every ETL input (empty unless given) and the vocabulary code map."""
    unknown = set(tables) - set(expected_inputs())
    if unknown:
        raise ValueError(f"not an input of the SNDS ETL: {sorted(unknown)}")
    for name, schema in expected_inputs().items():
        data = staged(name, tables[name]) if name in tables else schema.empty_table()
        engine.register(name, data)
    engine.register("code_map", vocabulary_code_map())


def run_on(engine: Engine, tables: Mapping[str, str]) -> Omop:
    register_snds(engine, tables)
    snds.prepare(engine)
    out = {
        name: conform(stream.read_all(), omop_storage_schema(name))
        for name, stream in snds.outputs(engine)
    }
    accounting = snds.account(engine, tables)
    exclusions = {(e.source_table, e.rule): e.rows for e in accounting.exclusions}
    omop = Omop(out, exclusions, snds.link_table(engine), accounting)
    _check_references(omop)
    _check_accounting(omop, tables)
    return omop


def _check_accounting(omop: Omop, tables: Mapping[str, str]) -> None:
    """Every staged row is loaded or excluded, once: true of any extract."""
    a = omop.accounting
    assert not a.unaccounted, f"rows neither loaded nor excluded: {a.unaccounted}"
    given = {name: _row_count(text) for name, text in tables.items()}
    accounted = {n: a.loaded.get(n, 0) + a.excluded.get(n, 0) for n in given}
    assert accounted == given, f"staged rows {given}, loaded + excluded {accounted}"
    assert sum(a.excluded.values()) == sum(e.rows for e in a.exclusions)
    assert a.excluded_rows.num_rows == sum(a.excluded.values())


def _row_count(text: str) -> int:
    return sum(1 for line in text.strip().splitlines() if line.strip()) - 1


# The engine the cases run on: every case runs on each engine (tests/etl/conftest.py).
ENGINE = {"name": "duckdb"}


def run_snds(**tables: str) -> Omop:
    """Run the SNDS ETL over the tables written in a case, on a fresh engine session."""
    engine = open_engine(ENGINE["name"], threads=1)
    try:
        return run_on(engine, tables)
    finally:
        engine.close()


def _difference(
    table: str, columns: list[str], actual: list[tuple[Any, ...]], wanted: list[tuple[Any, ...]]
) -> str:
    def show(rows: list[tuple[Any, ...]]) -> str:
        return "".join(
            "\n    " + " | ".join("" if v is None else str(v) for v in row) for row in rows
        )

    missing = [r for r in wanted if r not in actual]
    extra = [r for r in actual if r not in wanted]
    return (
        f"{table} ({' | '.join(columns)}):\n  expected but absent:{show(missing)}"
        f"\n  present but not expected:{show(extra)}"
    )


def _check_references(omop: Omop) -> None:
    """Every row belongs to a person of the person table, every visit an event points
    to exists, every person has one observation period and every event lies in it: true
    of any extract, so checked on every case."""
    persons = set(omop.tables["person"]["person_id"].to_pylist())
    assert len(persons) == omop.count("person"), "person_id is not unique"
    visits = set(omop.tables["visit_occurrence"]["visit_occurrence_id"].to_pylist())
    assert len(visits) == omop.count("visit_occurrence"), "visit_occurrence_id is not unique"
    for table in PERSON_TABLES:
        data = omop.tables[table]
        orphans = set(data["person_id"].to_pylist()) - persons
        assert not orphans, f"{table}: person_id not in person: {orphans}"
        if "visit_occurrence_id" in data.column_names and table != "visit_occurrence":
            dangling = {v for v in data["visit_occurrence_id"].to_pylist() if v is not None}
            assert dangling <= visits, f"{table}: visit_occurrence_id not in visit_occurrence"
    periods = {
        r["person_id"]: (r["observation_period_start_date"], r["observation_period_end_date"])
        for r in omop.tables["observation_period"].to_pylist()
    }
    assert len(periods) == omop.count("observation_period"), "one period per person"
    if omop.count("visit_occurrence"):  # an extract without care has no days to observe
        assert len(periods) == omop.count("person"), "every person is observed"
    for table, (start, end) in EVENT_DATES.items():
        for r in omop.tables[table].to_pylist():
            first, last = periods[r["person_id"]]
            assert first <= r[start] and (r[end] or r[start]) <= last, (
                f"{table}: {r[start]}..{r[end]} outside the observation period {first}..{last}"
            )


def sorted_table(table: pa.Table) -> pa.Table:
    """``table`` in a canonical row order (every column, ascending)."""
    return table.sort_by([(name, "ascending") for name in table.column_names])
