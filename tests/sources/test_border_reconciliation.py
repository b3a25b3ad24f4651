"""Reconciliation: read = loaded + quarantined, per file, for every file of an extract."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from border_helpers import fake_pseudonymise, write
from rich.console import Console

from bastide.sources import (
    RECONCILIATION_SCHEMA,
    FileReconciliation,
    ReconciliationError,
    SourceFileError,
    read_extract,
)


def test_counts_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(ReconciliationError, match="3 rows read but 1 loaded \\+ 1 quarantined"):
        FileReconciliation("A.csv", "A", "loaded", 3, 1, {"bad_date": 1})
    with pytest.raises(ReconciliationError, match="unknown reasons"):
        FileReconciliation("A.csv", "A", "loaded", 1, 0, {"gremlins": 1})


def extract_dir(tmp_path: Path) -> Path:
    nir = "N" * 17
    write(
        tmp_path,
        "IR_BEN_R.csv",
        f"BEN_NIR_PSA;BEN_RNG_GEM;BEN_NAI_MOI;X\n{nir};1;13;a\n{nir};2;01;b\n",
    )
    write(tmp_path, "KI_CCI_R.csv", "BEN_IDT_ANO;DCD_CIM_COD\nA;B\nC\n")  # ragged
    write(tmp_path, "IR_IBA_R.csv", "BEN_NAI_ANN\n1950\n")  # no key column
    (tmp_path / "T_MCO19B.csv.gz").write_bytes(gzip.compress(b"ETA_NUM;RSA_NUM\n1;2\n")[:-8])
    write(tmp_path, "MANIFEST.txt", "whatever\n")
    return tmp_path


def test_an_extract_reconciles_every_file(tmp_path: Path) -> None:
    extract = read_extract(extract_dir(tmp_path), "snds", pseudonymise=fake_pseudonymise)
    errors = {}
    for reader in extract:
        try:
            for _ in reader:
                pass
        except SourceFileError as exc:
            errors[reader.file.relpath] = str(exc)
    assert errors == {
        "IR_IBA_R.csv": "IR_IBA_R.csv: missing required column(s) BEN_IDT_ANO",
        "KI_CCI_R.csv": "KI_CCI_R.csv line 3: expected 2 fields, found 1",
        "T_MCO19B.csv.gz": (
            "T_MCO19B.csv.gz: corrupt or truncated gzip data (Truncated compressed stream)"
        ),
    }
    rec = extract.reconciliation
    by_file = {f.source_file: f for f in rec.files}
    assert list(by_file) == sorted(by_file)
    ben = by_file["IR_BEN_R.csv"]
    assert (ben.status, ben.rows_read, ben.rows_loaded) == ("loaded", 2, 1)
    assert dict(ben.quarantined_by_reason) == {"bad_date": 1}
    assert ben.ignored_columns == ("X",) and len(ben.sha256 or "") == 64
    assert ben.size_bytes == (tmp_path / "IR_BEN_R.csv").stat().st_size
    assert by_file["MANIFEST.txt"].status == "unrecognised"
    assert by_file["KI_CCI_R.csv"].status == "rejected"
    assert not rec.ok and rec.rows_read == 2  # the rejected files gave no batch

    table = rec.to_arrow()
    assert table.schema == RECONCILIATION_SCHEMA and table.num_rows == 5
    row = next(r for r in table.to_pylist() if r["source_file"] == "IR_BEN_R.csv")
    assert row["quarantined_by_reason"] == [("bad_date", 1)]

    console = Console(record=True, width=200)
    console.print(rec.render())
    text = console.export_text()
    assert "IR_BEN_R.csv" in text and "bad_date 1" in text and "total" in text


def test_a_reader_stopped_early_is_incomplete(tmp_path: Path) -> None:
    lines = "".join(f"{'N' * 16}{i};1\n" for i in range(10))
    write(tmp_path, "IR_BEN_R.csv", "BEN_NIR_PSA;BEN_RNG_GEM\n" + lines)
    extract = read_extract(tmp_path, "snds", pseudonymise=fake_pseudonymise, block_bytes=64)
    for reader in extract:
        for _ in reader:
            break
    rec = extract.reconciliation.files[0]
    assert rec.status == "incomplete" and 0 < rec.rows_read < 10
    assert rec.rows_read == rec.rows_loaded + rec.rows_quarantined
