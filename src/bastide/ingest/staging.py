"""Border output of one ingest run, staged as Parquet under the hub's tmp directory.

Staged tables are typed and pseudonymised (no raw identifier ever reaches disk) and go
through the same Parquet module as the warehouse, so they are encrypted like it. PMSI
year tables (T_MCO19B, T_MCO20B, …) are staged under their declared name (T_MCOaaB) with
a ``PMSI_YEAR`` column, since stay numbers are unique only within a year. OMOP tables
carry each row's file and line (``SOURCE_FILE``, ``SOURCE_LINE``): the ETL re-keys a
repeated local id by its line, and quarantines rows it cannot load by them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa

from bastide.engines import Engine
from bastide.sources import QUARANTINE_SCHEMA, SourceSchema
from bastide.sources.findings import FINDINGS_SCHEMA
from bastide.storage.encryption import HubEncryption
from bastide.storage.parquet_io import ParquetEncryption, ParquetFileWriter, open_dataset

YEAR_COLUMN = "PMSI_YEAR"
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
    if schema.source == "omop":
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
        self.arrow_schema = staged_schema(schema)
        self.path = path
        self.source_file = source_file
        self._writer = ParquetFileWriter(path, self.arrow_schema, encryption=encryption)

    def write(self, batch: pa.RecordBatch, lines: pa.Array | None = None) -> None:
        """Stage valid rows; ``lines`` are their lines in the file (OMOP tables)."""
        if batch.num_rows == 0:
            return
        table = pa.Table.from_batches([batch])
        if self.schema.year is not None:
            year = pa.array([self.schema.year] * batch.num_rows, pa.int32())
            table = table.append_column(YEAR_COLUMN, year)
        if LINE_COLUMN in self.arrow_schema.names:
            if lines is None:
                raise ValueError(f"{self.schema.name}: staged OMOP rows need their lines")
            table = table.append_column(
                FILE_COLUMN, pa.repeat(pa.scalar(self.source_file), batch.num_rows)
            ).append_column(LINE_COLUMN, lines.cast(pa.int64()))
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
