"""``bastide sql`` runs read-only queries over the current snapshot and refuses everything
else in one clear line; ``bastide snapshots`` and ``bastide gc`` show and tidy versions."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from storage_helpers import people
from typer.testing import CliRunner

from bastide.cli import app
from bastide.cli.sql_cmd import read_only_query
from bastide.engines import QueryError
from bastide.hub import Hub
from bastide.storage import Warehouse

runner = CliRunner()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli") / "hub"
    wh = Warehouse(Hub.init(root))
    with wh.begin("first load") as w:
        w.write("person", "snds", people(0, 120))
        w.commit()
    with wh.begin("second load") as w:
        w.write("visit", "snds", pa.table({"visit_id": [10, 11], "person_id": [1, None]}))
        w.commit()
    return root


def sql(hub: Path, *args: str):
    return runner.invoke(app, ["sql", "--hub", str(hub), *args], catch_exceptions=True)


def test_query_prints_a_table_with_at_most_limit_rows(hub: Path) -> None:
    result = sql(hub, "SELECT person_id, gender FROM person ORDER BY person_id", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "snapshot 2: first 3 rows" in result.output
    cells = [line.split("│")[1].strip() for line in result.output.splitlines() if "│" in line]
    assert cells == ["0", "1", "2"]
    result = sql(hub, "WITH v AS (SELECT * FROM visit) SELECT * FROM v ORDER BY visit_id")
    assert result.exit_code == 0 and "2 row(s)" in result.output and "NULL" in result.output


def test_query_an_older_snapshot(hub: Path) -> None:
    assert sql(hub, "SELECT count(*) FROM person", "--snapshot", "1").exit_code == 0
    result = sql(hub, "SELECT * FROM visit", "--snapshot", "1")
    assert isinstance(result.exception, QueryError)
    assert "visit" in str(result.exception)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_out_writes_the_whole_result(hub: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"result{suffix}"
    result = sql(hub, "SELECT * FROM person ORDER BY person_id", "--out", str(out))
    assert result.exit_code == 0 and "120 row(s) written" in result.output
    if suffix == ".csv":
        rows = list(csv.DictReader(out.open()))
        assert len(rows) == 120 and rows[0]["person_id"] == "0"
    else:
        assert pq.read_table(out).equals(people(0, 120))


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE t AS SELECT 1",
        "DROP TABLE person",
        "INSERT INTO person VALUES (1, 'M', 1950)",
        "UPDATE person SET gender = 'F'",
        "DELETE FROM person",
        "COPY person TO '/tmp/leak.csv'",
        "ATTACH '/tmp/other.db'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "PRAGMA version",
        "EXPORT DATABASE '/tmp/x'",
        "SELECT 1; DROP TABLE person",
        "SELECT * INTO t FROM person",
    ],
)
def test_only_read_only_queries_are_accepted(statement: str) -> None:
    with pytest.raises(QueryError, match=r"only read-only queries|syntax error"):
        read_only_query(statement)


def test_files_are_out_of_reach_of_queries(hub: Path) -> None:
    result = sql(hub, "SELECT * FROM read_csv('/etc/passwd')")
    assert isinstance(result.exception, QueryError)


def test_engine_errors_are_query_errors(hub: Path) -> None:
    result = sql(hub, "SELECT nope FROM person")
    assert isinstance(result.exception, QueryError) and "nope" in str(result.exception)
    assert "\n" not in str(result.exception)


def test_refusals_and_syntax_errors_are_one_line_without_traceback(hub: Path) -> None:
    for query, message in [
        ("ATTACH 'x.db' AS x", "only read-only queries"),
        ("SELECT * FROM", "SQL syntax error"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "bastide", "sql", "--hub", str(hub), query],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr + proc.stdout
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_snapshots_lists_versions_and_gc_tidies(hub: Path) -> None:
    result = runner.invoke(app, ["snapshots", "--hub", str(hub)])
    assert result.exit_code == 0
    assert "first load" in result.output and "second load" in result.output
    assert "2 *" in result.output and "120" in result.output
    result = runner.invoke(app, ["gc", "--hub", str(hub)])
    assert result.exit_code == 0 and "Removed 0 file(s)" in result.output


def test_out_csv_writes_nested_columns_as_json(hub: Path, tmp_path: Path) -> None:
    """A map, a list and a struct column: JSON text in the CSV, never a traceback."""
    import json

    out = tmp_path / "nested.csv"
    query = (
        "SELECT person_id, MAP {'visits': person_id, 'stays': 2} AS counts, "
        "[person_id, NULL, 3] AS codes, {'year': 2020, 'site': 'a'} AS origin, "
        "CAST(NULL AS INTEGER[]) AS nothing "
        "FROM person WHERE person_id < 2 ORDER BY person_id"
    )
    result = sql(hub, query, "--out", str(out))
    assert result.exit_code == 0, (result.output, result.exception)
    assert "2 row(s) written" in result.output
    rows = list(csv.DictReader(out.open()))
    assert [json.loads(r["counts"]) for r in rows] == [
        {"visits": 0, "stays": 2},
        {"visits": 1, "stays": 2},
    ]
    assert [json.loads(r["codes"]) for r in rows] == [[0, None, 3], [1, None, 3]]
    assert json.loads(rows[0]["origin"]) == {"year": 2020, "site": "a"}
    assert rows[0]["nothing"] == ""
    # Parquet keeps the types themselves.
    parquet = tmp_path / "nested.parquet"
    assert sql(hub, query, "--out", str(parquet)).exit_code == 0
    kinds = pq.read_schema(parquet)
    assert pa.types.is_map(kinds.field("counts").type)
    assert pa.types.is_list(kinds.field("codes").type)
