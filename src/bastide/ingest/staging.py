"""Border output of one ingest run, staged as Parquet under the hub's tmp directory.

Staged tables are typed and pseudonymised (no raw identifier ever reaches disk) and go
through the same Parquet module as the warehouse, so they are encrypted like it. PMSI
year tables (T_MCO19B, T_MCO20B, …) are staged under their declared name (T_MCOaaB) with
a ``PMSI_YEAR`` column, since stay numbers are unique only within a year. Every staged
row also carries where it came from (``SOURCE_FILE``, the path relative to the extract,
and ``SOURCE_LINE``, its line in that file), so that a row a mapping rule leaves out is
recorded with its file and line, as a quarantined row is; the hospital ETL also re-keys
a repeated local id by its line, and quarantines by them the rows it cannot load.

A run's staging is ``<hub>/tmp/ingest-<run id>/`` and its data key ``staging:<run id>``.
The run holds an exclusive ``flock`` on ``<hub>/tmp/ingest-<run id>.lock`` (holding its
pid) from before either exists until both are gone, so a run killed outright is told from
a live one: its lock is free. ``clean_orphans`` removes the staging of such runs and
destroys their keys; every ingest and ``bastide gc`` call it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from bastide.engines import Engine
from bastide.sources import QUARANTINE_SCHEMA, SourceSchema
from bastide.sources.findings import FINDINGS_SCHEMA
from bastide.storage.encryption import HubEncryption
from bastide.storage.parquet_io import ParquetEncryption, ParquetFileWriter, open_dataset

if TYPE_CHECKING:
    from bastide.hub import Hub

YEAR_COLUMN = "PMSI_YEAR"
PREFIX = "ingest-"
_RUN = re.compile(r"[0-9a-f]{8,64}")  # a run id (uuid4 hex)
FILE_COLUMN = "SOURCE_FILE"
LINE_COLUMN = "SOURCE_LINE"


def staged_name(schema: SourceSchema) -> str:
    """The name a source table is staged and queried under."""
    return schema.template if schema.year is not None and schema.template else schema.name


def staged_schema(schema: SourceSchema) -> pa.Schema:
    # identifier columns leave the border as text pseudonyms, whatever their declared type
    fields = [
        pa.field(f.name, pa.string() if f.is_identifier else f.arrow_type) for f in schema.fields
    ]
    if schema.year is not None:
        fields.append(pa.field(YEAR_COLUMN, pa.int32()))
    fields += [pa.field(FILE_COLUMN, pa.string()), pa.field(LINE_COLUMN, pa.int64())]
    return pa.schema(fields)


class StagedFile:
    """One source file being staged; the file is kept only when ``close`` is reached."""

    def __init__(
        self,
        path: Path,
        schema: SourceSchema,
        encryption: ParquetEncryption | None,
        source_file: str = "",
    ) -> None:
        self.schema = schema
        self.source_file = source_file
        self.arrow_schema = staged_schema(schema)
        self.path = path
        self.source_file = source_file
        self._writer = ParquetFileWriter(path, self.arrow_schema, encryption=encryption)

    def write(self, batch: pa.RecordBatch, lines: pa.Array) -> None:
        """Stage valid rows with their lines in the source file."""
        if batch.num_rows == 0:
            return
        table = pa.Table.from_batches([batch])
        if self.schema.year is not None:
            year = pa.array([self.schema.year] * batch.num_rows, pa.int32())
            table = table.append_column(YEAR_COLUMN, year)
        table = table.append_column(FILE_COLUMN, pa.repeat(self.source_file, batch.num_rows))
        table = table.append_column(LINE_COLUMN, lines.cast(pa.int64()))
        self._writer.write_row_group(table.select(self.arrow_schema.names))

    def close(self) -> None:
        self._writer.close()

    def discard(self) -> None:
        try:
            self._writer.close()
        finally:
            self.path.unlink(missing_ok=True)


class Staging:
    """The staged tables and quarantine records of one ingest run."""

    def __init__(
        self, root: Path, encryption: ParquetEncryption | None, *, prefix: str = ""
    ) -> None:
        self.root = root
        self.encryption = encryption
        self.prefix = prefix  # keeps the files of parallel lanes apart
        self._files: dict[str, list[Path]] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self._quarantine: list[Path] = []
        self._findings: list[Path] = []
        self._seq = 0
        root.mkdir(parents=True, exist_ok=True)

    def _next(self, stem: str) -> Path:
        self._seq += 1
        return self.root / f"{self.prefix}{stem}-{self._seq:05d}.parquet"

    def open(self, schema: SourceSchema, source_file: str = "") -> StagedFile:
        """A staged file for the rows of ``source_file`` (relative to the extract)."""
        name = staged_name(schema)
        return StagedFile(self._next(name), schema, self.encryption, source_file)

    def keep(self, staged: StagedFile) -> None:
        """Record a completely staged file as part of its table."""
        self.adopt(staged_name(staged.schema), staged.path, staged.arrow_schema)

    def adopt(self, name: str, path: Path, schema: pa.Schema) -> None:
        """Record a staged file of table ``name`` (written here or by a parallel lane)."""
        known = self._schemas.setdefault(name, schema)
        if not known.equals(schema):
            raise ValueError(f"{path.name}: columns differ from other {name} files")
        self._files.setdefault(name, []).append(path)

    def adopt_quarantine(self, path: Path) -> None:
        self._quarantine.append(path)

    def adopt_findings(self, path: Path) -> None:
        self._findings.append(path)

    def contents(self) -> tuple[list[tuple[str, Path, pa.Schema]], list[Path]]:
        """Every staged file (table, path, schema) and quarantine file, for adoption."""
        files = [(n, p, self._schemas[n]) for n, paths in self._files.items() for p in paths]
        return files, list(self._quarantine)

    def findings_files(self) -> list[Path]:
        return list(self._findings)

    def quarantine_writer(self) -> ParquetFileWriter:
        path = self._next("quarantine")
        self._quarantine.append(path)
        return ParquetFileWriter(path, QUARANTINE_SCHEMA, encryption=self.encryption)

    def findings_writer(self) -> ParquetFileWriter:
        path = self._next("findings")
        self._findings.append(path)
        return ParquetFileWriter(path, FINDINGS_SCHEMA, encryption=self.encryption)

    @property
    def tables(self) -> list[str]:
        return sorted(self._files)

    def dataset(self, name: str):  # type: ignore[no-untyped-def]
        return open_dataset(self._files[name], self._schemas[name], encryption=self.encryption)

    def quarantine(self):  # type: ignore[no-untyped-def]
        return open_dataset(self._quarantine, QUARANTINE_SCHEMA, encryption=self.encryption)

    def findings(self):  # type: ignore[no-untyped-def]
        return open_dataset(self._findings, FINDINGS_SCHEMA, encryption=self.encryption)

    def register(self, engine: Engine, expected: dict[str, pa.Schema] | None = None) -> None:
        """Register every staged table; tables in ``expected`` that no file brought are
        registered empty with their declared schema, so the ETL's SQL still runs."""
        from bastide.storage.encryption import engine_source

        scopes = [self.encryption.scope] if isinstance(self.encryption, HubEncryption) else []
        for name in self.tables:
            source = engine_source(self._files[name], self._schemas[name], self.encryption, scopes)
            engine.register_parquet(name, source)
        for name, schema in (expected or {}).items():
            if name not in self._files:
                engine.register(name, schema.empty_table())

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


# -- ownership of a run's staging, and clean-up after runs that were killed ---------------
class StagingClaim:
    """The live run's claim on ``tmp/ingest-<run id>``: an exclusive lock on its lock file.

    The lock file is locked under a temporary name, then renamed into place, so a lock
    file that can be seen is always held by a live run or left by a dead one."""

    def __init__(self, tmp: Path, run_id: str) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.run_id = run_id
        self.root = tmp / f"{PREFIX}{run_id}"
        self.path = tmp / f"{PREFIX}{run_id}.lock"
        pending = tmp / f".{PREFIX}{run_id}.{secrets.token_hex(4)}.lock"
        fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, json.dumps({"pid": os.getpid()}).encode())
        os.rename(pending, self.path)
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the claim up once the staging and its key are gone."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


@dataclass(frozen=True)
class OrphanReport:
    runs: int  # runs whose staging or key was left behind
    folders: int
    bytes: int
    keys: int


def _free(lock: Path) -> int | None:
    """An open, locked descriptor on ``lock`` if no live run holds it, else None."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return -1  # no lock file: no live run (a run locks before it creates anything)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def clean_orphans(hub: Hub) -> OrphanReport:
    """Remove the staging folders of ingest runs that are no longer alive and destroy their
    staging keys; a live run's are left alone."""
    tmp = hub.paths.tmp
    runs: set[str] = set()
    if tmp.is_dir():
        for entry in tmp.iterdir():
            name = entry.name
            run = name[len(PREFIX) :].removesuffix(".lock")
            if name.startswith(PREFIX) and _RUN.fullmatch(run):
                runs.add(run)
    for record in hub.keyring.store.records():
        kind, _, run = record.scope.partition(":")
        if kind == "staging" and _RUN.fullmatch(run):
            runs.add(run)
    folders = size = keys = cleaned = 0
    for run in sorted(runs):
        lock = tmp / f"{PREFIX}{run}.lock"
        fd = _free(lock)
        if fd is None:
            continue  # a live run
        try:
            touched = False
            folder = tmp / f"{PREFIX}{run}"
            if folder.is_dir():
                size += _size(folder)
                shutil.rmtree(folder, ignore_errors=True)
                folders += 1
                touched = True
            scope = f"staging:{run}"
            if hub.keyring.store.read(scope) is not None:
                hub.keyring.destroy(scope, "ingest run interrupted; staging removed")
                keys += 1
                touched = True
            cleaned += touched
            lock.unlink(missing_ok=True)
        finally:
            if fd >= 0:
                os.close(fd)
    return OrphanReport(runs=cleaned, folders=folders, bytes=size, keys=keys)
