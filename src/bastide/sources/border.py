"""The border: read source files against their declared schemas, validate every row,
pseudonymise identifiers, quarantine with reasons and reconcile.

    extract = read_extract(directory, "snds", pseudonymise=pseudonymiser.pseudonymise)
    for reader in extract:                  # one reader per recognised file
        try:
            for batch in reader:            # typed valid rows + quarantine records
                stage(batch)
        except SourceFileError:
            discard(reader.file)            # nothing of a rejected file may be kept
    extract.reconciliation                  # every file, unrecognised ones included

Reading is streaming and engine-free: memory is bounded by the batch size, plus 16
bytes a row of primary key when duplicate keys are checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from bastide.sources.codes import CodeChecker
from bastide.sources.discovery import SourceFile, delivery_conflicts, describe_file, discover
from bastide.sources.duplicates import KeyTracker
from bastide.sources.errors import SourceFileError
from bastide.sources.findings import empty_findings
from bastide.sources.plausibility import DateBounds
from bastide.sources.reading import (
    DEFAULT_BATCH_ROWS,
    DEFAULT_BLOCK_BYTES,
    RawReader,
    file_sha256,
)
from bastide.sources.reconciliation import FileReconciliation, Reconciliation
from bastide.sources.schema import SourceSchema
from bastide.sources.validation import BatchValidator, Pseudonymisers


@dataclass(frozen=True)
class BorderBatch:
    """The outcome of one batch of a file: rows to stage and rows to quarantine."""

    file: SourceFile
    table: str  # as named in the extract: T_MCO19B
    year: int | None  # the PMSI (or cartography) year in that name: 2019
    valid: pa.RecordBatch  # typed, every declared column, identifiers pseudonymised
    valid_lines: pa.Array  # line of each valid row in the file
    quarantine: pa.RecordBatch  # QUARANTINE_SCHEMA
    # FINDINGS_SCHEMA: loaded rows to report (an OMOP row id repeated on a different row)
    findings: pa.RecordBatch = field(default_factory=empty_findings)

    @property
    def rows_read(self) -> int:
        return self.valid.num_rows + self.quarantine.num_rows


class SourceReader:
    """Iterates the `BorderBatch` of one file; ``reconciliation`` tells how it went."""

    def __init__(
        self,
        file: SourceFile,
        schema: SourceSchema | None = None,
        *,
        pseudonymise: Pseudonymisers,
        code_checker: CodeChecker | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        check_duplicates: bool = True,
        key_tracker: KeyTracker | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        same_table: dict[str, str] | None = None,
        date_bounds: DateBounds | None = None,
    ) -> None:
        self.file = file
        self.schema = schema or file.schema
        self._same_table = same_table  # sha256 -> file, of the table's parts already read
        self._date_bounds = date_bounds
        self._options = dict(
            encoding=encoding, delimiter=delimiter, block_bytes=block_bytes, batch_rows=batch_rows
        )
        self._pseudonymise = pseudonymise
        self._code_checker = code_checker
        self._tracker = (key_tracker or KeyTracker()) if check_duplicates else None
        self._status = "incomplete"
        self._error: str | None = None
        self._read = 0
        self._loaded = 0
        self._reasons: Counter[str] = Counter()
        self._raw: RawReader | None = None
        self._sha256: str | None = None
        self._size: int | None = None
        self._started = False

    def __iter__(self) -> Iterator[BorderBatch]:
        if self._started:
            raise RuntimeError(f"{self.file.relpath} is already being read")
        self._started = True
        try:
            yield from self._batches()
        except SourceFileError as exc:
            self._status, self._error = "rejected", str(exc)
            raise
        self._status = "loaded"

    def _batches(self) -> Iterator[BorderBatch]:
        path = self.file.path
        try:
            self._size = path.stat().st_size
            self._sha256 = file_sha256(path)
        except OSError as exc:
            raise SourceFileError(self.file.relpath, f"cannot be read ({exc.strerror})") from None
        if self._same_table is not None:
            first = self._same_table.setdefault(self._sha256, self.file.relpath)
            if first != self.file.relpath:
                problem = f"same content as {first}: the parts of a table must not overlap"
                raise SourceFileError(self.file.relpath, problem)
        if self.schema is None:
            raise SourceFileError(self.file.relpath, self.file.problem or "no declared schema")
        self._raw = RawReader(self.file, self.schema, **self._options)  # type: ignore[arg-type]
        validator = BatchValidator(
            self.schema,
            source_file=self.file.relpath,
            pseudonymise=self._pseudonymise,
            code_checker=self._code_checker,
            key_tracker=self._tracker,
            date_bounds=self._date_bounds,
        )
        for raw in self._raw:
            result = validator.validate(raw)
            self._read += raw.num_rows
            self._loaded += result.valid.num_rows
            self._reasons.update(result.reasons)
            yield BorderBatch(
                self.file,
                self.schema.name,
                self.schema.year,
                result.valid,
                result.valid_lines,
                result.quarantine,
                result.findings,
            )

    @property
    def reconciliation(self) -> FileReconciliation:
        raw = self._raw
        return FileReconciliation(
            source_file=self.file.relpath,
            table=self.schema.name if self.schema else None,
            status=self._status,
            rows_read=self._read,
            rows_loaded=self._loaded,
            quarantined_by_reason=dict(self._reasons),
            ignored_columns=raw.ignored_columns if raw else (),
            missing_columns=raw.missing_columns if raw else (),
            blank_lines=raw.blank_lines if raw else 0,
            format=self.file.format,
            compression=self.file.compression,
            encoding=raw.encoding if raw else None,
            delimiter=raw.delimiter if raw else None,
            size_bytes=self._size,
            sha256=self._sha256,
            duplicate_keys_checked=self._tracker is not None and self.schema is not None,
            error=self._error,
        )


def read_source(
    file: SourceFile | str | Path,
    schema: SourceSchema | None = None,
    *,
    pseudonymise: Pseudonymisers,
    code_checker: CodeChecker | None = None,
    source: str = "snds",
    encoding: str | None = None,
    delimiter: str | None = None,
    check_duplicates: bool = True,
    key_tracker: KeyTracker | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    date_bounds: DateBounds | None = None,
) -> SourceReader:
    """A reader of one file.

    ``file`` may be a path, mapped to a table by its name (``source`` says which family of
    tables, "snds" or "omop"); ``schema`` overrides the mapping. ``encoding`` and
    ``delimiter`` override detection; ``block_bytes`` sizes CSV batches, ``batch_rows``
    Parquet ones; ``key_tracker`` shares duplicate-key memory between files of a table.
    """
    if not isinstance(file, SourceFile):
        file = describe_file(file, source)
    return SourceReader(
        file,
        schema,
        pseudonymise=pseudonymise,
        code_checker=code_checker,
        encoding=encoding,
        delimiter=delimiter,
        check_duplicates=check_duplicates,
        key_tracker=key_tracker,
        block_bytes=block_bytes,
        batch_rows=batch_rows,
        date_bounds=date_bounds,
    )


class ExtractReader:
    """The readers of an extract's recognised files, in discovery order.

    Files of the same table in the same directory share a duplicate-key tracker (a
    table split across files is one table). ``reconciliation`` covers every file.
    """

    def __init__(
        self,
        files: Iterable[SourceFile],
        *,
        pseudonymise: Pseudonymisers,
        code_checker: CodeChecker | None = None,
        tables: Iterable[str] | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        check_duplicates: bool = True,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        date_bounds: DateBounds | None = None,
    ) -> None:
        self.files = list(files)
        self._wanted = {t.upper() for t in tables} if tables is not None else None
        self._pseudonymise = pseudonymise
        self._code_checker = code_checker
        self._options = dict(
            encoding=encoding,
            delimiter=delimiter,
            check_duplicates=check_duplicates,
            block_bytes=block_bytes,
            batch_rows=batch_rows,
            date_bounds=date_bounds,
        )
        self._readers: list[SourceReader] = []

    def _selected(self, file: SourceFile) -> bool:
        return self._wanted is None or (file.table or "").upper() in self._wanted

    def __iter__(self) -> Iterator[SourceReader]:
        selected = [f for f in self.files if f.recognised and self._selected(f)]
        conflicts = delivery_conflicts(selected)
        if conflicts:
            raise SourceFileError(selected[0].relpath.rpartition("/")[0] or ".", conflicts[0])
        trackers: dict[tuple[str, str], KeyTracker] = {}
        contents: dict[tuple[str, str], dict[str, str]] = {}
        for file in selected:
            assert file.table is not None
            table = (file.group, file.table.upper())
            tracker = trackers.setdefault(table, KeyTracker())
            reader = SourceReader(
                file,
                pseudonymise=self._pseudonymise,
                code_checker=self._code_checker,
                key_tracker=tracker,
                same_table=contents.setdefault(table, {}),
                **self._options,  # type: ignore[arg-type]
            )
            self._readers.append(reader)
            yield reader

    @property
    def reconciliation(self) -> Reconciliation:
        by_path = {r.file.relpath: r.reconciliation for r in self._readers}
        rows = []
        for file in self.files:
            if file.relpath in by_path:
                rows.append(by_path[file.relpath])
            elif not file.recognised:
                try:
                    size: int | None = file.path.lstat().st_size
                except OSError:
                    size = None
                rows.append(
                    FileReconciliation(
                        file.relpath,
                        file.table if file.refused else None,
                        "refused" if file.refused else "unrecognised",
                        format=file.format,
                        compression=file.compression,
                        size_bytes=size,
                        error=file.problem,
                    )
                )
        return Reconciliation.of(rows)


def read_extract(
    directory: str | Path,
    source: str = "snds",
    *,
    pseudonymise: Pseudonymisers,
    code_checker: CodeChecker | None = None,
    tables: Iterable[str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    check_duplicates: bool = True,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    date_bounds: DateBounds | None = None,
) -> ExtractReader:
    """Readers for every recognised file under ``directory`` (``tables`` restricts them
    by table name, as named in the extract)."""
    return ExtractReader(
        discover(directory, source),
        pseudonymise=pseudonymise,
        code_checker=code_checker,
        tables=tables,
        encoding=encoding,
        delimiter=delimiter,
        check_duplicates=check_duplicates,
        block_bytes=block_bytes,
        batch_rows=batch_rows,
        date_bounds=date_bounds,
    )
