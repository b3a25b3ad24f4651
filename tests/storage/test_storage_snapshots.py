"""Snapshots: round trip, carry-over by reference, replace, drop, empty tables, schemas,
fingerprints, checksums, the writer lock and gc."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from storage_helpers import PERSON, content, people

from bastide.engines import open_engine
from bastide.storage import (
    SchemaMismatch,
    SnapshotNotFound,
    StorageError,
    Warehouse,
    WarehouseBusy,
)

VISIT = pa.schema([("visit_id", pa.int64()), ("person_id", pa.int64())])


def first_load(wh: Warehouse):
    with wh.begin("first load") as w:
        w.write("person", "snds", people(0, 100), fingerprint={"sha256": "a", "etl": "1"})
        w.write("person", "hospital-750100125", people(1000, 10))
        w.write("visit", "snds", pa.table({"visit_id": [1, 2], "person_id": [0, 1]}, VISIT))
        return w.commit({"etl_version": "1", "sources": ["dcir", "pmsi"]})


def test_round_trip(wh: Warehouse) -> None:
    assert wh.current() is None and wh.snapshots() == []
    snap = first_load(wh)
    assert (snap.version, snap.message, snap.parent) == (1, "first load", None)
    assert snap.metadata == {"etl_version": "1", "sources": ["dcir", "pmsi"]}
    assert snap.tables() == ["person", "visit"]
    assert [p.name for p in snap.partitions("person")] == ["hospital-750100125", "snds"]
    assert snap.row_count("person") == 110 and snap.row_count("visit") == 2
    reread = Warehouse(wh.root).current()
    assert reread is not None and reread.version == 1
    assert content(reread, "person") == sorted(
        people(0, 100).to_pylist() + people(1000, 10).to_pylist(), key=repr
    )
    assert reread.schema("person").equals(PERSON) and reread.created == snap.created
    info = wh.snapshots()[0]
    assert (info.version, info.tables, info.rows, info.message) == (1, 2, 112, "first load")
    assert wh.get(1).metadata == snap.metadata


def test_new_snapshot_carries_partitions_by_reference_and_replaces_written_ones(
    wh: Warehouse,
) -> None:
    one = first_load(wh)
    files_before = sorted(p for p in (wh.root / "data").rglob("*.parquet"))
    with wh.begin("hospital refresh") as w:
        w.write("person", "hospital-750100125", people(2000, 5))
        two = w.commit()
    assert two.parent == 1
    # Untouched partitions point at the very same files; only the rewritten one is new.
    assert two.partition("person", "snds") == one.partition("person", "snds")
    assert two.partition("visit", "snds") == one.partition("visit", "snds")
    new_files = sorted(set((wh.root / "data").rglob("*.parquet")) - set(files_before))
    assert [f.relative_to(wh.root).as_posix() for f in new_files] == [
        f.path for f in two.partition("person", "hospital-750100125").files
    ]
    assert two.row_count("person") == 105
    assert content(two, "person") == sorted(
        people(0, 100).to_pylist() + people(2000, 5).to_pylist(), key=repr
    )
    # The parent still reads as it was.
    assert wh.get(1).row_count("person") == 110 and content(wh.get(1), "person") == content(
        one, "person"
    )


def test_drop_partition_and_table(wh: Warehouse) -> None:
    first_load(wh)
    with wh.begin("drop") as w:
        w.drop_partition("person", "hospital-750100125")
        w.drop_partition("visit", "snds")  # the table's last partition: the table goes
        with pytest.raises(StorageError, match="parent does not have it"):
            w.drop_partition("person", "nowhere")
        snap = w.commit()
    assert snap.tables() == ["person"] and snap.row_count("person") == 100
    with pytest.raises(StorageError, match="has no table 'visit'"):
        snap.dataset("visit")


def test_empty_table_keeps_its_schema(wh: Warehouse) -> None:
    with wh.begin("empty") as w:
        w.write("death", "snds", [], pa.schema([("person_id", pa.int64()), ("d", pa.date32())]))
        w.write("person", "snds", people(0, 0))
        snap = w.commit()
    assert snap.row_count("death") == 0 and snap.partitions("death")[0].files == ()
    table = snap.dataset("death").to_table()
    assert table.num_rows == 0 and table.schema.names == ["person_id", "d"]
    with open_engine("duckdb") as engine:
        snap.register(engine)
        assert engine.query("SELECT count(*) AS n FROM death").to_pylist() == [{"n": 0}]
        assert engine.query("SELECT count(*) AS n FROM person").to_pylist() == [{"n": 0}]


def test_streaming_writes_bounded_row_groups_and_files(wh: Warehouse) -> None:
    batches = (people(i * 700, 700).to_batches()[0] for i in range(10))  # 7,000 rows
    with wh.begin("stream", row_group_rows=1000, file_rows=3000) as w:
        with w.partition("person", "snds", PERSON) as part:
            part.write(batches)
            part.write(pa.RecordBatchReader.from_batches(PERSON, people(7000, 500).to_batches()))
        snap = w.commit()
    files = snap.partition("person", "snds").files
    assert [f.rows for f in files] == [3000, 3000, 1500] and snap.row_count("person") == 7500
    meta = pq.ParquetFile(wh.root / files[0].path).metadata
    assert meta.num_row_groups == 3 and meta.row_group(0).column(0).compression == "ZSTD"
    assert content(snap, "person") == sorted(people(0, 7500).to_pylist(), key=repr)


def test_schemas_are_checked(wh: Warehouse) -> None:
    first_load(wh)
    wider = PERSON.append(pa.field("city", pa.string()))
    with wh.begin("bad") as w:
        with pytest.raises(SchemaMismatch, match="do not match"):
            w.write("person", "x", pa.table({"nope": [1]}), PERSON)
        w.write("person", "snds", pa.table({n: [None] for n in wider.names}, wider))
        with pytest.raises(SchemaMismatch, match="partitions \\['hospital-750100125'\\]"):
            w.commit()
    assert wh.current().version == 1  # type: ignore[union-attr]
    with wh.begin("good") as w:  # rewriting every partition of the table is fine
        w.write("person", "snds", pa.table({n: [None] for n in wider.names}, wider))
        w.drop_partition("person", "hospital-750100125")
        assert w.commit().schema("person").equals(wider)
    with wh.begin("cast") as w:  # batches are cast to the declared schema
        ints = pa.table({"visit_id": pa.array([5], pa.int32()), "person_id": [7]})
        assert w.write("visit", "snds", ints, VISIT).rows == 1
        w.commit()


def test_fingerprints_let_an_ingest_skip_unchanged_partitions(wh: Warehouse) -> None:
    first_load(wh)
    fp = {"etl": "1", "sha256": "a"}  # same content, other key order
    with wh.begin("rerun") as w:
        assert w.unchanged("person", "snds", fp)
        assert not w.unchanged("person", "snds", {**fp, "etl": "2"})
        assert not w.unchanged("person", "hospital-750100125", fp)  # no fingerprint recorded
        w.write("person", "hospital-750100125", people(1000, 10))
        snap = w.commit()
    assert snap.fingerprint("person", "snds") == fp
    assert content(snap, "person") == content(wh.get(1), "person")  # no duplicates


def test_exception_or_abort_publishes_nothing(wh: Warehouse) -> None:
    first_load(wh)
    with pytest.raises(RuntimeError), wh.begin("fails") as w:
        w.write("person", "snds", people(0, 5))
        raise RuntimeError("source unreadable")
    with pytest.raises(StorageError, match="without commit"), wh.begin("forgot") as w:
        w.write("person", "snds", people(0, 5))
    w = wh.begin("aborted")
    w.write("person", "snds", people(0, 5))
    w.abort()
    with pytest.raises(StorageError, match="already aborted"):
        w.commit()
    assert [s.version for s in wh.snapshots()] == [1]
    assert list((wh.root / "staging").iterdir()) == []
    assert len(list((wh.root / "data").rglob("*.parquet"))) == 3


def test_metadata_must_be_json(wh: Warehouse) -> None:
    with wh.begin("x") as w, pytest.raises(StorageError, match="must be JSON"):
        w.write("person", "snds", people(0, 1))
        w.commit({"when": object()})
    assert wh.current() is None


def test_names_are_validated(wh: Warehouse) -> None:
    with wh.begin("x") as w:
        for table, part in [("Person", "a"), ("person", "../etc"), ("p;drop", "a"), ("p", "")]:
            with pytest.raises(StorageError, match="invalid"):
                w.write(table, part, people(0, 1))
        w.abort()


def test_verify_detects_tampering_and_missing_files(wh: Warehouse) -> None:
    snap = first_load(wh)
    result = snap.verify()
    assert result.ok and result.files == 3
    victim = wh.root / snap.partition("person", "snds").files[0].path
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped byte, same size
    victim.write_bytes(bytes(raw))
    other = wh.root / snap.partition("visit", "snds").files[0].path
    other.unlink()
    problems = snap.verify().problems
    assert len(problems) == 2
    assert any("sha256 differs" in p and victim.name in p for p in problems)
    assert any("missing" in p and other.name in p for p in problems)


def test_one_writer_at_a_time(wh: Warehouse) -> None:
    first = wh.begin("long ingest")
    with pytest.raises(WarehouseBusy, match=f"pid {os.getpid()}.*'long ingest'"):
        wh.begin("second ingest")
    with pytest.raises(WarehouseBusy):
        wh.gc()
    assert wh.current() is None  # readers are never blocked
    first.abort()
    wh.begin("now free").abort()


def test_gc_removes_leftovers_and_keeps_every_snapshot_by_default(wh: Warehouse) -> None:
    first_load(wh)
    with wh.begin("two") as w:
        w.write("person", "snds", people(0, 50))
        w.commit()
    # Leftovers of a crashed writer: a staging dir, an uncommitted manifest, a stray file.
    (wh.root / "staging" / "v00000003-dead").mkdir()
    (wh.root / "staging" / "v00000003-dead" / "x.parquet").write_bytes(b"partial")
    (wh.root / "snapshots" / "00000003.json").write_text("{}")
    stray = wh.root / "data" / "person" / "snds" / "v00000003-dead-00001.parquet"
    stray.write_bytes(b"never committed")
    assert [s.version for s in wh.snapshots()] == [1, 2]  # readers ignore all of it
    report = wh.gc()
    assert (report.staging_dirs, report.manifests, report.files) == (1, 1, 1)
    assert not stray.exists() and wh.get(1).verify().ok and wh.get(2).verify().ok
    # keep=1 forgets snapshot 1 and the files only it referenced.
    report = wh.gc(keep=1)
    assert report.manifests == 1 and report.files == 1
    assert [s.version for s in wh.snapshots()] == [2] and wh.current().verify().ok  # type: ignore[union-attr]
    with pytest.raises(SnapshotNotFound):
        wh.get(1)
    assert wh.gc() == type(report)(0, 0, 0, 0)


def test_register_exposes_every_table_to_an_engine(wh: Warehouse) -> None:
    snap = first_load(wh)
    with open_engine("duckdb") as engine:
        assert snap.register(engine) == ["person", "visit"]
        got = engine.query(
            "SELECT count(*) AS n, count(DISTINCT v.visit_id) AS visits "
            "FROM person p LEFT JOIN visit v USING (person_id)"
        ).to_pylist()
    assert got == [{"n": 110, "visits": 2}]


def test_manifest_is_plain_json(wh: Warehouse) -> None:
    first_load(wh)
    doc = json.loads((wh.root / "snapshots" / "00000001.json").read_text())
    part = doc["tables"]["person"]["partitions"]["snds"]
    assert doc["format"] == "bastide-snapshot/1" and part["rows"] == 100
    assert part["fingerprint"] == {"etl": "1", "sha256": "a"}
    assert set(part["files"][0]) == {"path", "rows", "bytes", "sha256"}
    assert (wh.root / "CURRENT").read_text() == "1\n"
