"""A committed snapshot: an immutable set of tables, read as Arrow datasets."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastide.storage.errors import StorageError
from bastide.storage.fsutil import sha256_file
from bastide.storage.manifest import FileEntry, Manifest, PartitionInfo, TableEntry
from bastide.storage.parquet_io import ParquetEncryption, open_dataset, reading

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from bastide.engines import Engine


@dataclass(frozen=True)
class SnapshotInfo:
    version: int
    parent: int | None
    created: datetime
    message: str
    tables: int
    rows: int


@dataclass(frozen=True)
class VerifyResult:
    files: int
    bytes: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Snapshot:
    def __init__(
        self, root: Path, manifest: Manifest, encryption: ParquetEncryption | None = None
    ) -> None:
        self._root = root
        self._m = manifest
        self._encryption = encryption

    # -- what it is -------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self._m.version

    @property
    def parent(self) -> int | None:
        return self._m.parent

    @property
    def created(self) -> datetime:
        return self._m.created

    @property
    def message(self) -> str:
        return self._m.message

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self._m.metadata

    @property
    def manifest(self) -> Manifest:
        return self._m

    @property
    def info(self) -> SnapshotInfo:
        return SnapshotInfo(
            version=self.version,
            parent=self.parent,
            created=self.created,
            message=self.message,
            tables=len(self._m.tables),
            rows=sum(t.rows for t in self._m.tables.values()),
        )

    def __repr__(self) -> str:
        return f"Snapshot(version={self.version}, tables={self.tables()})"

    # -- tables and partitions --------------------------------------------------------
    def tables(self) -> list[str]:
        return sorted(self._m.tables)

    def _table(self, table: str) -> TableEntry:
        try:
            return self._m.tables[table]
        except KeyError:
            raise StorageError(
                f"snapshot {self.version} has no table {table!r} (tables: {self.tables()})"
            ) from None

    def schema(self, table: str) -> pa.Schema:
        return self._table(table).schema

    def partitions(self, table: str) -> list[PartitionInfo]:
        return [p for _, p in sorted(self._table(table).partitions.items())]

    def partition(self, table: str, partition: str) -> PartitionInfo | None:
        return self._table(table).partitions.get(partition) if table in self._m.tables else None

    def fingerprint(self, table: str, partition: str) -> Mapping[str, Any] | None:
        """The fingerprint recorded when the partition was written (None if absent)."""
        p = self.partition(table, partition)
        return None if p is None else p.fingerprint

    def row_count(self, table: str) -> int:
        return self._table(table).rows

    def files(self, table: str | None = None) -> list[FileEntry]:
        names = [table] if table is not None else self.tables()
        return [f for n in names for p in self.partitions(n) for f in p.files]

    # -- reading ----------------------------------------------------------------------
    def dataset(self, table: str, partitions: list[str] | None = None) -> ds.Dataset:
        """All partitions of ``table`` (or the named ones) as one lazy dataset."""
        entry = self._table(table)
        chosen = sorted(entry.partitions) if partitions is None else partitions
        missing = sorted(set(chosen) - set(entry.partitions))
        if missing:
            raise StorageError(f"table {table!r} has no partition(s) {missing}")
        paths = [self._root / f.path for n in chosen for f in entry.partitions[n].files]
        return open_dataset(paths, entry.schema, encryption=self._encryption)

    def paths(self, table: str | None = None) -> list[Path]:
        """The absolute paths of every file of ``table`` (or of the snapshot)."""
        return [self._root / f.path for f in self.files(table)]

    def reading(self, tables: list[str] | None = None) -> contextlib.AbstractContextManager[None]:
        """Wrap a scan of this snapshot (``dataset().to_table()``, an engine query): if it
        fails because a file is damaged, altered or cannot be decrypted, raise
        ``UnreadableFile`` naming that file."""
        names = self.tables() if tables is None else tables
        return reading([p for n in names for p in self.paths(n)], self._encryption)

    def read(self, table: str, columns: list[str] | None = None) -> pa.Table:
        """The whole of ``table`` (or some columns) in memory, errors naming the file."""
        with self.reading([table]):
            return self.dataset(table).to_table(columns=columns)

    def key_scopes(self, table: str | None = None) -> list[str]:
        """The data-key scopes of the files of ``table`` (or of the snapshot)."""
        names = [table] if table is not None else self.tables()
        # An empty partition has no file, so no key was ever made for it.
        return sorted(
            {f"warehouse:{n}:{p.written_in}" for n in names for p in self.partitions(n) if p.files}
        )

    def register(self, engine: Engine, tables: list[str] | None = None) -> list[str]:
        """Expose every table (or the named ones) on ``engine`` under its own name."""
        from bastide.storage.encryption import engine_source

        names = self.tables() if tables is None else tables
        for name in names:
            source = engine_source(
                self.paths(name), self.schema(name), self._encryption, self.key_scopes(name)
            )
            engine.register_parquet(name, source)
        return names

    def verify(self) -> VerifyResult:
        """Recompute the size and sha256 of every file and compare with the manifest."""
        problems: list[str] = []
        files = self.files()
        total = 0
        for f in files:
            path = self._root / f.path
            try:
                size = os.path.getsize(path)
            except FileNotFoundError:
                problems.append(f"{f.path}: missing")
                continue
            total += size
            if size != f.bytes:
                problems.append(f"{f.path}: {size} bytes, manifest says {f.bytes}")
            elif sha256_file(path) != f.sha256:
                problems.append(f"{f.path}: sha256 differs from the manifest (altered)")
        return VerifyResult(files=len(files), bytes=total, problems=problems)
