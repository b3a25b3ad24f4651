"""Writing a new snapshot: stage Parquet files, then commit them atomically.

A writer starts from its parent (the current snapshot). Writing a (table, partition)
replaces the parent's version of it; every partition not written or dropped is carried
over by reference (its files are shared, never copied). Files are staged under
``staging/<id>/`` and published only by ``commit``; see docs/storage.md for the order of
the commit steps and what a crash at each leaves.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pyarrow as pa

from bastide.storage.errors import SchemaMismatch, StorageError
from bastide.storage.fsutil import fault, fsync_dir, fsync_file, sha256_file, write_durably
from bastide.storage.manifest import (
    FileEntry,
    Manifest,
    PartitionInfo,
    TableEntry,
    canonical_json,
    check_partition,
    check_table,
)
from bastide.storage.parquet_io import (
    ROW_GROUP_ROWS,
    ParquetEncryption,
    ParquetFileWriter,
    ScopedEncryption,
)
from bastide.storage.snapshot import Snapshot

if TYPE_CHECKING:
    from bastide.storage.lock import WriterLock
    from bastide.storage.warehouse import Warehouse

FILE_ROWS = 8 * 1024 * 1024

Data: TypeAlias = (
    "pa.Table | pa.RecordBatch | pa.RecordBatchReader | Iterable[pa.RecordBatch | pa.Table]"
)


@dataclass(frozen=True)
class _Staged:
    staged: Path
    final: str  # relative to the warehouse root
    rows: int
    bytes: int
    sha256: str


class PartitionWriter:
    """Streams one (table, partition) into staged Parquet files in bounded memory.

    Batches are buffered up to ``row_group_rows`` rows, written as one row group, and a
    new file is started every ``file_rows`` rows.
    """

    def __init__(
        self,
        owner: SnapshotWriter,
        table: str,
        partition: str,
        schema: pa.Schema,
        fingerprint: Mapping[str, Any] | None,
    ) -> None:
        self._owner = owner
        self.table = table
        self.partition = partition
        self.schema = schema
        self.fingerprint = fingerprint
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._file: ParquetFileWriter | None = None
        self._staged: list[_Staged] = []
        self.closed = False

    def write(self, data: Data) -> None:
        if self.closed:
            raise StorageError(f"{self.table}/{self.partition}: partition already closed")
        for batch in _batches(data):
            batch = _conform(batch, self.schema, f"{self.table}/{self.partition}")
            if batch.num_rows:
                self._pending.append(batch)
                self._pending_rows += batch.num_rows
            while self._pending_rows >= self._owner.row_group_rows:
                self._flush(self._owner.row_group_rows)

    def _flush(self, rows: int) -> None:
        table = pa.Table.from_batches(self._pending, self.schema)
        group, rest = table.slice(0, rows), table.slice(rows)
        self._pending = rest.to_batches()
        self._pending_rows = rest.num_rows
        if self._file is None:
            self._file = ParquetFileWriter(
                self._owner._new_staged_path(),
                self.schema,
                encryption=self._owner._encryption_for(self.table),
            )
        self._file.write_row_group(group.combine_chunks())
        fault("write:row-group")
        if self._file.rows >= self._owner.file_rows:
            self._finish_file()

    def _finish_file(self) -> None:
        assert self._file is not None
        path, rows = self._file.path, self._file.close()
        self._file = None
        self._staged.append(
            _Staged(
                staged=path,
                final=self._owner._final_path(self.table, self.partition, path.name),
                rows=rows,
                bytes=path.stat().st_size,
                sha256=sha256_file(path),
            )
        )

    def close(self) -> PartitionInfo:
        """Write what is buffered and close the last file (idempotent)."""
        if not self.closed:
            if self._pending_rows:
                self._flush(self._pending_rows)
            if self._file is not None:
                self._finish_file()
            self.closed = True
        return self.info

    @property
    def info(self) -> PartitionInfo:
        return PartitionInfo(
            name=self.partition,
            rows=sum(s.rows for s in self._staged),
            files=tuple(FileEntry(s.final, s.rows, s.bytes, s.sha256) for s in self._staged),
            written_in=self._owner.version,
            fingerprint=self.fingerprint,
        )

    def __enter__(self) -> PartitionWriter:
        return self

    def discard(self) -> None:
        """Throw away what was written; the snapshot will not contain this partition."""
        if self._file is not None:
            with contextlib.suppress(Exception):
                self._file.close()
            self._file.path.unlink(missing_ok=True)
            self._file = None
        for s in self._staged:
            s.staged.unlink(missing_ok=True)
        self._staged.clear()
        self._pending, self._pending_rows = [], 0
        self.closed = True
        self._owner._written.pop((self.table, self.partition), None)

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


class SnapshotWriter:
    """The single writer of a warehouse; holds its lock until ``commit`` or ``abort``."""

    def __init__(
        self,
        warehouse: Warehouse,
        parent: Snapshot | None,
        message: str,
        lock: WriterLock,
        *,
        row_group_rows: int = ROW_GROUP_ROWS,
        file_rows: int = FILE_ROWS,
    ) -> None:
        if row_group_rows < 1 or file_rows < row_group_rows:
            raise StorageError("need 1 <= row_group_rows <= file_rows")
        self._wh = warehouse
        self._encryption = warehouse.encryption
        self.parent = parent
        self.message = message
        self.version = (parent.version if parent else 0) + 1
        self.row_group_rows = row_group_rows
        self.file_rows = file_rows
        self._lock = lock
        self._id = f"v{self.version:08d}-{uuid.uuid4().hex[:12]}"
        self._staging = warehouse.root / "staging" / self._id
        self._staging.mkdir(parents=True)
        self._seq = 0
        self._written: dict[tuple[str, str], PartitionWriter] = {}
        self._dropped: set[tuple[str, str]] = set()
        self._published: list[Path] = []
        self._state = "open"  # open -> committed | aborted

    # -- staging ----------------------------------------------------------------------
    def _encryption_for(self, table: str) -> ParquetEncryption | None:
        """A hub's encryption keys each table snapshot with its own data key."""
        enc = self._encryption
        return enc.for_table(table, self.version) if isinstance(enc, ScopedEncryption) else enc

    def _new_staged_path(self) -> Path:
        self._seq += 1
        return self._staging / f"{self._id}-{self._seq:05d}.parquet"

    @staticmethod
    def _final_path(table: str, partition: str, name: str) -> str:
        return f"data/{table}/{partition}/{name}"

    def _check_open(self) -> None:
        if self._state != "open":
            raise StorageError(f"this snapshot writer is already {self._state}")

    # -- changes ----------------------------------------------------------------------
    def partition(
        self,
        table: str,
        partition: str,
        schema: pa.Schema,
        *,
        fingerprint: Mapping[str, Any] | None = None,
    ) -> PartitionWriter:
        """Open (table, partition) for streaming writes; it replaces the parent's version."""
        self._check_open()
        key = (check_table(table), check_partition(partition))
        if key in self._written:
            raise StorageError(f"{table}/{partition} is already written in this snapshot")
        if fingerprint is not None:  # a JSON copy: later changes by the caller do not leak in
            fingerprint = json.loads(
                canonical_json(fingerprint, f"fingerprint of {table}/{partition}")
            )
        for (t, p), other in self._written.items():
            if t == table and not other.schema.equals(schema, check_metadata=False):
                raise SchemaMismatch(
                    f"{table}/{partition}: schema differs from {table}/{p} written in this "
                    f"snapshot; every partition of a table has one schema"
                )
        self._dropped.discard(key)
        writer = PartitionWriter(self, table, partition, schema, fingerprint)
        self._written[key] = writer
        return writer

    def write(
        self,
        table: str,
        partition: str,
        data: Data,
        schema: pa.Schema | None = None,
        *,
        fingerprint: Mapping[str, Any] | None = None,
    ) -> PartitionInfo:
        """Write all of ``data`` as (table, partition), replacing the parent's version.

        ``schema`` defaults to the data's own; batches are cast to it (safe casts only).
        Writing no rows still records the partition, so the table exists with its schema.
        If writing fails, the partition is left out and the writer stays usable.
        """
        batches = _batches(data)
        if schema is None:
            batches, schema = _peek_schema(batches, data)
        with self.partition(table, partition, schema, fingerprint=fingerprint) as pw:
            pw.write(batches)
        return pw.info

    def written_rows(self, partition: str) -> dict[str, int]:
        """Rows written so far in this snapshot, per table, for one partition."""
        return {t: w.info.rows for (t, p), w in self._written.items() if p == partition}

    def unchanged(self, table: str, partition: str, fingerprint: Mapping[str, Any]) -> bool:
        """True if the parent holds (table, partition) written from this same fingerprint,
        so the caller may skip it (it is carried over as it is)."""
        if self.parent is None:
            return False
        old = self.parent.fingerprint(table, partition)
        what = f"fingerprint of {table}/{partition}"
        return old is not None and canonical_json(old, what) == canonical_json(fingerprint, what)

    def drop_partition(self, table: str, partition: str) -> None:
        """Leave (table, partition) out of the new snapshot; a table with no partition left
        disappears from it."""
        self._check_open()
        key = (check_table(table), check_partition(partition))
        if key in self._written:
            raise StorageError(f"{table}/{partition} was written in this snapshot; not dropped")
        if self.parent is None or self.parent.partition(table, partition) is None:
            raise StorageError(f"cannot drop {table}/{partition}: the parent does not have it")
        self._dropped.add(key)

    # -- ending -----------------------------------------------------------------------
    def _tables(self) -> dict[str, TableEntry]:
        """The parent's tables with this writer's drops and writes applied."""
        schemas: dict[str, pa.Schema] = {}
        parts: dict[str, dict[str, PartitionInfo]] = {}
        if self.parent is not None:
            for name, entry in self.parent.manifest.tables.items():
                schemas[name] = entry.schema
                parts[name] = {
                    p: info
                    for p, info in entry.partitions.items()
                    if (name, p) not in self._dropped and (name, p) not in self._written
                }
        fresh: dict[str, set[str]] = {}
        for (table, partition), pw in self._written.items():
            if not pw.closed:
                raise StorageError(f"{table}/{partition} is still open; close it before commit")
            schemas[table] = pw.schema
            parts.setdefault(table, {})[partition] = pw.info
            fresh.setdefault(table, set()).add(partition)
        parent_tables = self.parent.manifest.tables if self.parent else {}
        for table, written in fresh.items():
            old = parent_tables.get(table)
            carried = sorted(set(parts[table]) - written)
            if old and carried and not old.schema.equals(schemas[table], check_metadata=False):
                raise SchemaMismatch(
                    f"table {table!r} gets a new schema but its partitions {carried}, carried "
                    "from the parent snapshot, keep the old one: rewrite or drop them in this "
                    "snapshot"
                )
        return {
            name: TableEntry(schema=schemas[name], partitions=dict(sorted(ps.items())))
            for name, ps in sorted(parts.items())
            if ps
        }

    def commit(self, metadata: Mapping[str, Any] | None = None) -> Snapshot:
        """Publish the new snapshot atomically and make it current; release the lock."""
        self._check_open()
        metadata = dict(metadata or {})
        try:
            canonical_json(metadata, "snapshot metadata")
            for pw in self._written.values():
                pw.close()
            manifest = Manifest(
                version=self.version,
                parent=self.parent.version if self.parent else None,
                created=datetime.now(UTC),
                message=self.message,
                metadata=metadata,
                tables=self._tables(),
            )
            fault("commit:start")
            self._publish(manifest)
        except BaseException:
            if self._state == "open":  # CURRENT not switched: undo everything
                self.abort()
            else:  # CURRENT switched (a later step failed): the snapshot stands
                self._lock.release()
            raise
        shutil.rmtree(self._staging, ignore_errors=True)
        self._lock.release()
        return Snapshot(self._wh.root, manifest, self._encryption)

    def _publish(self, manifest: Manifest) -> None:
        root = self._wh.root
        staged = [s for pw in self._written.values() for s in pw._staged]
        # 1. The data: durable in staging, then renamed into data/ (same file system).
        for s in staged:
            fsync_file(s.staged)
        fault("commit:files-synced")
        dirs: set[Path] = set()
        for s in staged:
            final = root / s.final
            if not final.parent.is_dir():
                final.parent.mkdir(parents=True, exist_ok=True)
                dirs.update({final.parent.parent, root / "data", root})
            os.rename(s.staged, final)
            self._published.append(final)
            dirs.add(final.parent)
            fault("commit:file-published")
        for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            fsync_dir(d)
        fault("commit:files-published")
        # 2. The manifest: complete and durable under its final name, still not current.
        snapshots = root / "snapshots"
        tmp = snapshots / f".{manifest.version:08d}.json.tmp"
        write_durably(tmp, manifest.to_json())
        fault("commit:manifest-written")
        os.replace(tmp, snapshots / f"{manifest.version:08d}.json")
        fsync_dir(snapshots)
        fault("commit:manifest-published")
        # 3. The commit point: CURRENT names the new version, atomically.
        pointer = root / "CURRENT.tmp"
        write_durably(pointer, f"{manifest.version}\n".encode())
        fault("commit:pointer-written")
        os.replace(pointer, root / "CURRENT")
        self._state = "committed"  # from here on, never undo
        fsync_dir(root)
        fault("commit:done")

    def abort(self) -> None:
        """Forget everything staged and release the lock (idempotent)."""
        if self._state != "open":
            return
        self._state = "aborted"
        for pw in list(self._written.values()):
            pw.discard()
        for path in self._published:  # renamed into data/, but never referenced
            path.unlink(missing_ok=True)
        shutil.rmtree(self._staging, ignore_errors=True)
        self._lock.release()

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if self._state != "open":
            return
        self.abort()
        if exc_type is None:
            raise StorageError("snapshot writer closed without commit(); nothing was published")


def _batches(data: Data) -> Iterator[pa.RecordBatch]:
    if isinstance(data, pa.Table):
        yield from data.to_batches()
    elif isinstance(data, pa.RecordBatch):
        yield data
    else:
        for item in data:
            if isinstance(item, pa.Table):
                yield from item.to_batches()
            elif isinstance(item, pa.RecordBatch):
                yield item
            else:
                raise StorageError(f"expected Arrow record batches, got {type(item).__name__}")


def _peek_schema(
    batches: Iterator[pa.RecordBatch], data: Data
) -> tuple[Iterator[pa.RecordBatch], pa.Schema]:
    if isinstance(data, pa.Table | pa.RecordBatch | pa.RecordBatchReader):
        return batches, data.schema
    first = next(batches, None)
    if first is None:
        raise StorageError("no batches and no schema: pass schema= to write an empty partition")

    def chained() -> Iterator[pa.RecordBatch]:
        yield first
        yield from batches

    return chained(), first.schema


def _conform(batch: pa.RecordBatch, schema: pa.Schema, where: str) -> pa.RecordBatch:
    if batch.schema.equals(schema, check_metadata=False):
        return batch
    if batch.schema.names != schema.names:
        raise SchemaMismatch(
            f"{where}: columns {batch.schema.names} do not match the schema {schema.names}"
        )
    try:
        return batch.cast(schema, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaMismatch(f"{where}: cannot convert to the table schema ({exc})") from exc
