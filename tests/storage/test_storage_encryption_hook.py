"""Every Parquet file goes through parquet_io, so an encryption object given to the
warehouse encrypts every file written and decrypts every scan, engines included."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe
import pytest

from bastide.engines import open_engine
from bastide.storage import Warehouse


class UniformKey:
    """The simplest ParquetEncryption: one AES-256 key for footer and columns."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def file_encryption_properties(self) -> pq.FileEncryptionProperties:
        return pe.create_encryption_properties(self._key)

    def file_decryption_properties(self) -> pq.FileDecryptionProperties:
        return pe.create_decryption_properties(self._key)


def test_files_are_encrypted_and_read_back_through_the_hook(tmp_path: Path) -> None:
    root = tmp_path / "warehouse"
    wh = Warehouse(root, encryption=UniformKey(os.urandom(32)))
    marker = "PLAINTEXT-MARKER-1234567890"
    with wh.begin("encrypted") as w:
        w.write("note", "snds", pa.table({"id": [1, 2], "text": [marker, "x"]}))
        snap = w.commit()
    path = root / snap.files()[0].path
    assert marker.encode() not in path.read_bytes()
    assert snap.dataset("note").to_table().column("text").to_pylist() == [marker, "x"]
    with open_engine("duckdb") as engine:
        snap.register(engine)
        assert engine.query("SELECT text FROM note WHERE id = 1").to_pylist() == [{"text": marker}]
    assert snap.verify().ok  # checksums are over the ciphertext
    with pytest.raises(OSError):  # without the key the file does not open
        Warehouse(root).current().dataset("note").to_table()  # type: ignore[union-attr]
