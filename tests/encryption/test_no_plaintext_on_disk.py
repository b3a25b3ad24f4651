"""A hub at rest holds no health data in clear: not in the warehouse, staging files,
project extracts or engine spill files; not even the (non-standard) column names of the
Parquet files. The same scan over plain Parquet finds everything, so it would see a leak."""

from __future__ import annotations

from pathlib import Path

import pytest
from health_data import PRIVATE_COLUMNS, conditions, person, scan, secrets_of
from key_backends import Backend

from bastide.hub import Hub
from bastide.storage import Warehouse, encryption_for, open_engine_for
from bastide.storage.parquet_io import ParquetEncryption, open_dataset, write_parquet


def fill(root: Path, wh: Warehouse, enc: dict[str, ParquetEncryption | None]) -> None:
    """Two warehouse snapshots, a staging file and a project extract under ``root``."""
    with wh.begin("first load") as w:
        w.write("person", "snds", person())
        w.write("condition_occurrence", "snds", conditions())
        w.commit()
    with wh.begin("second load") as w:
        w.write("condition_occurrence", "hospital-750100125", conditions().slice(0, 100))
        w.commit()
    staging = root / "tmp" / "run-1"
    staging.mkdir(parents=True)
    write_parquet(staging / "condition.parquet", conditions(), encryption=enc["staging"])
    extract = root / "projects" / "p1"
    extract.mkdir(parents=True)
    write_parquet(extract / "cohort.parquet", conditions().slice(0, 50), encryption=enc["project"])


def test_every_file_under_the_hub_is_free_of_plaintext(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    enc = {
        "staging": encryption_for(hub, "staging:run-1"),
        "project": encryption_for(hub, "project:p1"),
    }
    fill(hub.root, Warehouse(hub), enc)  # type: ignore[arg-type]
    needles = secrets_of([person(), conditions()])
    columns = {c: c.encode() for c in PRIVATE_COLUMNS}

    # A query that outgrows the engine's memory spills decrypted rows: look while it holds them.
    monkeypatch.setenv("BASTIDE_ENGINE__MEMORY_LIMIT", "64MB")
    engine = open_engine_for(Hub(hub.root))
    try:
        Warehouse(hub).current().register(engine)  # type: ignore[union-attr]
        engine.execute(
            "CREATE TEMP TABLE spilled AS SELECT c.*, repeat(c.sejour_commentaire, 4) AS pad "
            "FROM condition_occurrence c, range(1200)"
        )
        spill = list((hub.paths.tmp / "engine").rglob("*.tmp"))
        assert spill, "the query was meant to spill"
        assert scan(hub.root, needles) == {}
    finally:
        engine.close()

    assert scan(hub.root, needles) == {}
    parquet = [p for p in hub.root.rglob("*.parquet")]
    assert len(parquet) == 5
    assert all(not scan(p.parent, columns) for p in parquet)
    # ... and everything reads back through the keys.
    snap = Warehouse(Hub(hub.root)).current()
    assert snap is not None and snap.read("person").equals(person())
    staged = hub.paths.tmp / "run-1" / "condition.parquet"
    got = open_dataset([staged], conditions().schema, encryption=enc["staging"]).to_table()
    assert got.equals(conditions())


def test_the_scan_finds_the_same_values_in_plain_parquet(tmp_path: Path) -> None:
    """The control: without encryption the scanner sees pseudonyms, codes, dates, labels
    and column names, so an empty scan above means they are really not there."""
    root = tmp_path / "plain"
    fill(root, Warehouse(root / "warehouse"), {"staging": None, "project": None})
    hits = {v for found in scan(root, secrets_of([person(), conditions()])).values() for v in found}
    table = conditions()
    # Plain Parquet is zstd-compressed, so only part of each kind of value shows verbatim;
    # every kind must show.
    kinds = {
        "pseudonyms": person().column("person_source_value").to_pylist(),
        "codes": table.column("condition_source_value").to_pylist(),
        "labels": table.column("diagnostic_libelle_local").to_pylist(),
        "dates": [d.isoformat() for d in table.column("condition_start_date").to_pylist()],
    }
    for kind, values in kinds.items():
        assert hits & set(values), kind
    assert scan(root, {c: c.encode() for c in PRIVATE_COLUMNS})
