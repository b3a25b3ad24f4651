"""The Spark engine's own guarantees: it decrypts only the scopes it is given, its local
files hold no plaintext, its errors are one line, a restricted session reaches nothing
but its tables, and the CLI chooses it with ``--engine spark``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from bastide.cli import app
from bastide.engines import Engine, ParquetSource, QueryError, open_engine
from bastide.hub import Hub
from bastide.storage import Warehouse

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "encryption"))
from health_data import conditions, person, scan, secrets_of

pytestmark = pytest.mark.spark


@pytest.fixture
def spark() -> Iterator[Engine]:
    engine = open_engine("spark", threads=1)
    yield engine
    engine.close()


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    hub = Hub.init(tmp_path / "hub")
    with Warehouse(hub).begin("first load") as w:
        w.write("person", "snds", person())
        w.write("condition_occurrence", "snds", conditions())
        w.commit()
    with Warehouse(hub).begin("second load") as w:
        w.write("condition_occurrence", "hospital-750100125", conditions().slice(0, 100))
        w.write("person", "hospital-750100125", person().slice(0, 0))  # no file, no key
        w.commit()
    return hub


def test_spark_reads_snapshot_tables_it_is_given_keys_for(spark: Engine, hub: Hub) -> None:
    snap = Warehouse(hub).current()
    assert snap is not None
    snap.register(spark)
    got = spark.query(
        "SELECT count(*) AS n, count(DISTINCT person_id) AS p FROM condition_occurrence"
    )
    want = snap.read("condition_occurrence")
    assert got.to_pylist() == [{"n": want.num_rows, "p": len(set(want["person_id"].to_pylist()))}]
    joined = spark.query(
        "SELECT count(*) AS n FROM condition_occurrence c JOIN person p USING (person_id)"
    )
    assert joined.column("n")[0].as_py() > 0


def test_spark_cannot_open_a_scope_whose_key_it_was_not_given(spark: Engine, hub: Hub) -> None:
    snap = Warehouse(hub).current()
    assert snap is not None
    scopes = snap.key_scopes("condition_occurrence")
    assert len(scopes) == 2  # one per snapshot that wrote a partition
    keys = {scopes[0]: hub.keyring.data_key(scopes[0])}
    source = ParquetSource(
        snap.paths("condition_occurrence"),
        snap.schema("condition_occurrence"),
        lambda: snap.dataset("condition_occurrence"),
        lambda: keys,
    )
    spark.register_parquet("condition_occurrence", source)
    with pytest.raises(QueryError) as caught:
        spark.query("SELECT count(*) FROM condition_occurrence")
    assert "\n" not in str(caught.value)


def test_spark_local_files_hold_no_plaintext(spark: Engine, hub: Hub) -> None:
    snap = Warehouse(hub).current()
    assert snap is not None
    snap.register(spark)
    # A GROUP BY and a join shuffle: Spark writes the rows to its local directory.
    spark.execute(
        "CREATE TEMP TABLE shuffled AS SELECT c.person_id, c.condition_source_value, "
        "max(p.person_source_value) AS who, count(*) AS n FROM condition_occurrence c "
        "JOIN person p ON p.person_id = c.person_id GROUP BY 1, 2"
    )
    assert spark.query("SELECT count(*) AS n FROM shuffled").column("n")[0].as_py() > 0
    local = Path(spark.spark.sparkContext.getConf().get("spark.local.dir"))  # type: ignore[attr-defined]
    shuffle = [p for p in local.rglob("shuffle_*.data") if p.stat().st_size]
    assert shuffle, "the query was meant to shuffle through local files"
    assert scan(local, secrets_of([person(), conditions()])) == {}
    # Shuffle blocks are LZ4-compressed, then encrypted: unencrypted, the LZ4 stream's
    # magic would be there in clear (compression alone would also hide the values).
    assert not any(b"LZ4Block" in p.read_bytes() for p in shuffle)


def test_spark_errors_are_one_line(spark: Engine, capfd: pytest.CaptureFixture[str]) -> None:
    spark.register("t", pa.table({"a": [1, 2, 3]}))
    capfd.readouterr()
    for sql in ("SELECT nope FROM t", "SELECT * FROM missing", "SELEC 1", "SELECT 1; SELECT 2"):
        with pytest.raises(QueryError) as caught:
            spark.query(sql)
        assert "\n" not in str(caught.value) and str(caught.value), sql
    with pytest.raises(QueryError, match="CREATE TEMP TABLE"):
        spark.execute("CREATE TABLE kept AS SELECT * FROM t")
    # An impossible cast fails as on DuckDB instead of becoming null.
    with pytest.raises(QueryError):
        spark.query("SELECT CAST('x' AS INTEGER) AS n")
    assert spark.query("SELECT TRY_CAST('x' AS INTEGER) AS n").to_pylist() == [{"n": None}]
    # Nothing was logged: pyspark would print each failed query's plan, literals included.
    logged = capfd.readouterr()
    assert "nope" not in logged.err + logged.out and "'x'" not in logged.err + logged.out


def test_a_restricted_spark_session_reaches_only_its_tables(spark: Engine, tmp_path: Path) -> None:
    plain = tmp_path / "plain.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"secret": ["x"]}), plain)
    spark.register("t", pa.table({"a": [1, 2, 3]}))
    spark.restrict()
    assert spark.query("SELECT sum(a) AS s FROM t").to_pylist() == [{"s": 6}]
    refused: list[Any] = [
        f"SELECT * FROM parquet.`{plain}`",
        "SELECT reflect('java.lang.System', 'getenv', 'HOME') AS h",
        "SELECT java_method('java.lang.System', 'getProperty', 'user.home') AS h",
    ]
    for sql in refused:
        with pytest.raises(QueryError):
            spark.query(sql)


def test_the_cli_chooses_the_engine(tmp_path: Path) -> None:
    runner = CliRunner()
    wrong = runner.invoke(app, ["--engine", "oracle", "snapshots", "--hub", str(tmp_path)])
    assert wrong.exit_code == 2 and "duckdb, spark" in wrong.output
