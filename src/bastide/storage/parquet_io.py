"""The one place that writes and reads Parquet files.

Everything else in bastide goes through these functions, so client-side encryption (Parquet
modular encryption) is added here alone: an ``encryption`` object supplies pyarrow's
file encryption and decryption properties, and every file written or scanned uses them.
For a hub, ``bastide.storage.encryption_for(hub, scope)`` gives that object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from bastide.storage.readcheck import check_footers, reading

__all__ = [
    "ParquetEncryption",
    "ParquetFileWriter",
    "ScopedEncryption",
    "open_dataset",
    "reading",
    "write_parquet",
]

COMPRESSION = "zstd"
COMPRESSION_LEVEL = 3
ROW_GROUP_ROWS = 256 * 1024


class ParquetEncryption(Protocol):
    """Keys for Parquet modular encryption, e.g. from ``pyarrow.parquet.encryption``'s
    ``CryptoFactory`` over the hub's key provider."""

    def file_encryption_properties(self) -> pq.FileEncryptionProperties:
        """Properties for one new file (a fresh data key per file is allowed)."""
        ...

    def file_decryption_properties(self) -> pq.FileDecryptionProperties:
        """Properties that open any file written with this encryption."""
        ...


@runtime_checkable
class ScopedEncryption(Protocol):
    """An encryption that keys each warehouse table snapshot separately."""

    def for_table(self, table: str, version: int) -> ParquetEncryption: ...


class ParquetFileWriter:
    """One Parquet file, written row group by row group in bounded memory."""

    def __init__(
        self, path: Path, schema: pa.Schema, *, encryption: ParquetEncryption | None = None
    ) -> None:
        self.path = path
        self.rows = 0
        self._writer = pq.ParquetWriter(
            str(path),
            schema,
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            encryption_properties=(
                encryption.file_encryption_properties() if encryption is not None else None
            ),
        )

    def write_row_group(self, table: pa.Table) -> None:
        """Append ``table`` as one row group (callers size it)."""
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows

    def close(self) -> int:
        self._writer.close()
        return self.rows


def write_parquet(
    path: Path,
    data: pa.Table | pa.RecordBatchReader | Iterable[pa.RecordBatch],
    schema: pa.Schema | None = None,
    *,
    encryption: ParquetEncryption | None = None,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> int:
    """Stream ``data`` into one Parquet file at ``path``; return the number of rows."""
    if schema is None:
        if not isinstance(data, pa.Table | pa.RecordBatchReader):
            raise TypeError("write_parquet needs a schema for an iterable of batches")
        schema = data.schema
    batches = data.to_batches(row_group_rows) if isinstance(data, pa.Table) else data
    writer = ParquetFileWriter(path, schema, encryption=encryption)
    try:
        pending: list[pa.RecordBatch] = []
        count = 0
        for batch in batches:
            pending.append(batch)
            count += batch.num_rows
            if count >= row_group_rows:
                writer.write_row_group(pa.Table.from_batches(pending, schema))
                pending, count = [], 0
        if pending or writer.rows == 0:
            writer.write_row_group(pa.Table.from_batches(pending, schema))
    finally:
        rows = writer.close()
    return rows


def open_dataset(
    paths: Sequence[Path | str],
    schema: pa.Schema,
    *,
    encryption: ParquetEncryption | None = None,
) -> ds.Dataset:
    """A lazy dataset over ``paths`` with ``schema`` (no files: an empty dataset).

    With ``encryption``, every file's footer is decrypted and authenticated first, so a
    missing or wrong key, a truncated or altered footer raises ``UnreadableFile`` naming
    the file here rather than in the middle of a scan (see ``readcheck``).
    """
    props = encryption.file_decryption_properties() if encryption is not None else None
    if encryption is not None:
        check_footers(paths, encryption, props)
    scan = ds.ParquetFragmentScanOptions(decryption_properties=props)
    return ds.FileSystemDataset.from_paths(
        [str(p) for p in paths],
        schema=schema,
        format=ds.ParquetFileFormat(default_fragment_scan_options=scan),
        filesystem=pafs.LocalFileSystem(),
    )
