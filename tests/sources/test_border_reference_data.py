"""The border over public reference data: the 10-row synthetic SNDS tables (random
values: rows may be quarantined, but every file parses and reconciles) and the Eunomia
OMOP CDM database (clean: every row loads)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from border_helpers import fake_pseudonymise

from bastide.sources import REASONS, read_extract
from shared_data import shared_data_path


@pytest.fixture(scope="module")
def synthetic_snds() -> Path:
    return shared_data_path("snds", "synthetic-snds-tables")


@pytest.fixture(scope="module")
def eunomia() -> Path:
    return shared_data_path("eunomia-synthea27nj")


def test_synthetic_snds_tables_parse_and_reconcile(synthetic_snds: Path) -> None:
    extract = read_extract(synthetic_snds, "snds", pseudonymise=fake_pseudonymise)
    reasons: Counter[str] = Counter()
    tables = []
    for reader in extract:
        for batch in reader:
            assert batch.quarantine.column("table").unique().to_pylist() in (
                [],
                [reader.file.table],
            )
        rec = reader.reconciliation
        assert rec.status == "loaded", rec.error
        assert rec.rows_read == 10 == rec.rows_loaded + rec.rows_quarantined
        assert rec.encoding == "utf-8" and rec.delimiter == ","
        reasons.update(rec.quarantined_by_reason)
        tables.append(reader.file.table)
    assert len(tables) == 188
    assert {"T_MCOAAB", "T_SSRAACSTC", "CT_IDE_AAAA_GN"} <= {t.upper() for t in tables}
    # random values break declared lengths, types and ranges; random keys repeat
    assert set(reasons) <= set(REASONS)
    assert {"type_error", "missing_identifier", "duplicate_key"} <= set(reasons)
    whole = extract.reconciliation
    assert whole.rows_read == 1880 == whole.rows_loaded + whole.rows_quarantined
    # listed, not skipped: the schema files and three open-data tables schema-snds lacks
    unrecognised = {f.source_file for f in whole.files if f.status == "unrecognised"}
    others = {f for f in unrecognised if not f.endswith(".json")}
    assert others == {"OPENBIO/OPEN_BIO.csv", "OPENLPP/OPEN_LPP.csv", "OPENMEDIC/OPEN_MEDIC.csv"}


def test_eunomia_loads_every_row(eunomia: Path) -> None:
    extract = read_extract(
        eunomia,
        "omop",
        pseudonymise=fake_pseudonymise,
        tables=["person", "visit_occurrence", "condition_era", "measurement", "concept"],
    )
    for reader in extract:
        valid = sum(batch.valid.num_rows for batch in reader)
        with reader.file.path.open(newline="") as fh:
            expected = sum(1 for _ in csv.reader(fh)) - 1
        rec = reader.reconciliation
        assert rec.status == "loaded" and rec.rows_read == expected == valid, rec
    files = {f.source_file: f for f in extract.reconciliation.files}
    assert files["PERSON.csv"].rows_loaded == 28
    assert "NOTE.csv" not in files  # not among the tables asked for


def test_eunomia_whole_extract_reconciles(eunomia: Path) -> None:
    extract = read_extract(eunomia, "omop", pseudonymise=fake_pseudonymise)
    for reader in extract:
        for _ in reader:
            pass
    whole = extract.reconciliation
    assert whole.ok and whole.rows_quarantined == 0
    assert len(whole.files) == 39 and whole.rows_read == whole.rows_loaded > 290_000
