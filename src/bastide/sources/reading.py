"""Stream the rows of one source file as raw Arrow batches, with their line numbers.

CSV values are read as text (validation types them later); Parquet values keep their
types. Header problems and unparseable files raise `SourceFileError` naming the file and,
when it can be known, the line — found by scanning the file when Arrow cannot say. Row
text is never put in a message: it may hold identifiers.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from bastide.sources.discovery import SourceFile
from bastide.sources.errors import SourceFileError
from bastide.sources.schema import SourceSchema

SAMPLE_BYTES = 4 << 20  # what encoding detection and the header are read from
DEFAULT_BLOCK_BYTES = 16 << 20
DEFAULT_BATCH_ROWS = 500_000
_DELIMITERS = (";", ",", "\t", "|")
_DEFAULT_DELIMITER = {"snds": ";", "omop": ","}


@dataclass(frozen=True)
class RawBatch:
    """Declared columns of a run of rows, as read, and each row's line in the file."""

    columns: dict[str, pa.Array]  # declared field name -> values (text for CSV)
    lines: pa.Array  # int64, 1-based; the header is line 1 (Parquet: the row number)
    num_rows: int


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# a well-formed multi-byte UTF-8 sequence (latin-1 text almost never contains one: an
# accented letter is followed by ASCII, not by one to three bytes 0x80-0xBF)
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


class MixedEncodingError(ValueError):
    """UTF-8 text with bytes that are not UTF-8: where the first such byte is."""

    def __init__(self, line: int, offset: int) -> None:
        super().__init__(f"line {line}, byte offset {offset}")
        self.line = line
        self.offset = offset


def detect_encoding(sample: bytes, complete: bool) -> str:
    """UTF-8 if the sample decodes as UTF-8, else latin-1 (which decodes anything).

    A sample with both UTF-8 sequences and bytes that are not UTF-8 is neither: it
    raises `MixedEncodingError` rather than decode its UTF-8 text as latin-1."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError as exc:
        if _UTF8_SEQUENCE.search(sample):
            raise MixedEncodingError(sample.count(b"\n", 0, exc.start) + 1, exc.start) from None
        return "latin-1"
    return "utf-8"


def _mixed_problem(offset: int) -> str:
    return (
        f"mixed encodings: not valid UTF-8 at byte offset {offset} although the file is "
        "UTF-8 elsewhere (re-encode the file as UTF-8, or declare its encoding)"
    )


def detect_delimiter(header: str, default: str) -> str:
    """The candidate delimiter that occurs most in the header line."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else default


class RawReader:
    """An iterator of `RawBatch` over one file; header facts are known once opened."""

    def __init__(
        self,
        file: SourceFile,
        schema: SourceSchema,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        block_bytes: int = DEFAULT_BLOCK_BYTES,
        batch_rows: int = DEFAULT_BATCH_ROWS,
    ) -> None:
        self.file = file
        self.schema = schema
        self.encoding: str | None = encoding
        self.delimiter: str | None = delimiter
        self.block_bytes = block_bytes
        self.batch_rows = batch_rows
        self.header: tuple[str, ...] = ()
        self.ignored_columns: tuple[str, ...] = ()
        self.missing_columns: tuple[str, ...] = ()  # optional declared columns not in the file
        self.blank_lines = 0
        self._present: dict[str, str] = {}  # declared name -> name in the Arrow batches
        self._bad_row: Any = None
        if file.format == "parquet":
            self._parquet = self._open_parquet()
        elif file.format == "csv":
            self._csv = self._open_csv()
        else:
            raise self._error(f"unsupported file type {file.format!r}")

    # -- shared ---------------------------------------------------------------------
    def _error(self, problem: str, line: int | None = None) -> SourceFileError:
        return SourceFileError(self.file.relpath, problem, line)

    def _map_header(self, names: list[str], arrow_names: list[str]) -> None:
        by_upper = {f.name.upper(): f.name for f in self.schema.fields}
        by_upper |= {a.upper(): f.name for f in self.schema.fields for a in f.aliases}
        ignored: list[str] = []
        for name, arrow_name in zip(names, arrow_names, strict=True):
            declared = by_upper.get(name.strip().upper())
            if declared is None:
                ignored.append(name)
            elif declared in self._present:
                raise self._error(f"column {declared} appears twice in the header", 1)
            else:
                self._present[declared] = arrow_name
        missing_required = [f.name for f in self.schema.required if f.name not in self._present]
        if missing_required:
            raise self._error("missing required column(s) " + ", ".join(missing_required))
        self.header = tuple(names)
        self.ignored_columns = tuple(ignored)
        self.missing_columns = tuple(
            f.name for f in self.schema.fields if f.name not in self._present
        )

    def __iter__(self) -> Iterator[RawBatch]:
        return self._iter_parquet() if self.file.format == "parquet" else self._iter_csv()

    # -- CSV ------------------------------------------------------------------------
    def _input(self) -> pa.NativeFile:
        raw = pa.OSFile(str(self.file.path))
        return pa.CompressedInputStream(raw, "gzip") if self.file.compression else raw

    def _open_csv(self) -> pcsv.CSVStreamingReader:
        try:
            with self._input() as stream:
                sample = stream.read(SAMPLE_BYTES)
        except OSError as exc:
            raise self._compression_error(exc) from None
        if not sample:
            raise self._error("empty file (no header line)")
        complete = len(sample) < SAMPLE_BYTES
        if self.encoding is None:
            try:
                self.encoding = detect_encoding(sample, complete)
            except MixedEncodingError as mixed:
                raise self._error(_mixed_problem(mixed.offset), mixed.line) from None
        end = sample.find(b"\n")
        if end < 0 and not complete:
            raise self._error("no end to the header line in the first 4 MiB", 1)
        try:
            header = sample[: end if end >= 0 else len(sample)].decode(self.encoding)
        except LookupError:
            raise self._error(f"unknown encoding {self.encoding!r}") from None
        except UnicodeDecodeError as exc:
            raise self._error(f"header is not valid {self.encoding} ({exc.reason})", 1) from None
        header = header.lstrip("\ufeff").rstrip("\r")
        default = _DEFAULT_DELIMITER.get(self.file.source, ";")
        self.delimiter = self.delimiter or detect_delimiter(header, default)
        names = next(csv.reader([header], delimiter=self.delimiter), [])
        names = [n if n.strip() else f"(unnamed column {i + 1})" for i, n in enumerate(names)]
        arrow_names = [f"c{i}" for i in range(len(names))]
        self._map_header(names, arrow_names)
        self._ncols = len(names)
        # SNDS values never span lines; OMOP text (notes) may, inside quotes.
        self._multiline = self.file.source == "omop"
        error: SourceFileError | None = None
        try:
            return pcsv.open_csv(
                self._input(),
                read_options=pcsv.ReadOptions(
                    use_threads=True,
                    block_size=self.block_bytes,
                    skip_rows=1,
                    column_names=arrow_names,
                    encoding=self.encoding,
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=self._multiline,
                    ignore_empty_lines=False,  # keeps Arrow's row numbers equal to lines
                    invalid_row_handler=self._on_invalid_row,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(arrow_names, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            error = self._csv_error(exc)
        # raised outside the handler, so that Arrow's error (it quotes the row, which may
        # hold identifiers) is not attached as context
        raise error

    def _on_invalid_row(self, row: Any) -> str:
        if self._bad_row is None:
            self._bad_row = row
        return "error"

    def _iter_csv(self) -> Iterator[RawBatch]:
        next_line = 2  # the header is line 1
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            n = batch.num_rows
            lines = np.arange(next_line, next_line + n, dtype=np.int64)
            if self._multiline:
                extra = _embedded_newlines(batch)
                if extra is not None:
                    lines += np.concatenate(([0], np.cumsum(extra)[:-1]))
                    next_line += int(extra.sum())
            next_line += n
            # A blank line reads as a row of empty values: not a row of the file.
            blank = _all_empty(batch)
            if blank is not None:
                self.blank_lines += int(pc.sum(blank).as_py() or 0)
                keep = pc.invert(blank)
                batch = batch.filter(keep)
                lines = lines[keep.to_numpy(zero_copy_only=False)]
            if batch.num_rows == 0:
                continue
            columns = {name: batch.column(arrow) for name, arrow in self._present.items()}
            yield RawBatch(columns, pa.array(lines, pa.int64()), batch.num_rows)

    def _next_batch(self) -> pa.RecordBatch | None:
        error: SourceFileError | None = None
        try:
            return self._csv.read_next_batch()
        except StopIteration:
            return None
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
            error = self._csv_error(exc)
        raise error  # outside the handler, as in _open_csv

    def _compression_error(self, exc: OSError) -> SourceFileError:
        return self._error(f"corrupt or truncated gzip data ({exc})")

    def _csv_error(self, exc: BaseException) -> SourceFileError:
        if self._bad_row is not None:
            row = self._bad_row
            line = row.number
            if line is None or self._multiline:
                line = self._scan_for_ragged_line(row.expected_columns)
            return self._error(
                f"expected {row.expected_columns} fields, found {row.actual_columns}", line
            )
        message = str(exc)
        if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in message:
            line, offset = self._scan_for_undecodable_line()
            at = f" at byte offset {offset}" if offset is not None else ""
            return self._error(
                f"not valid {self.encoding} text{at}: mixed encodings are refused "
                "(re-encode the file, or declare its encoding, e.g. latin-1)",
                line,
            )
        if isinstance(exc, OSError) and not isinstance(exc, pa.ArrowInvalid):
            return self._compression_error(exc)
        # Arrow's parse messages end with the offending row's text: keep only the start.
        return self._error("cannot be parsed as CSV (" + ": ".join(message.split(": ")[:2]) + ")")

    def _text_lines(self, encoding: str | None) -> Any:
        opener: Any = gzip.open if self.file.compression else open
        if encoding is None:
            return opener(self.file.path, "rb")
        return opener(self.file.path, "rt", encoding=encoding, newline="", errors="strict")

    def _scan_for_ragged_line(self, expected: int) -> int | None:
        """The first line (1-based) where a record does not have ``expected`` fields."""
        with self._text_lines(self.encoding) as fh:
            reader = csv.reader(fh, delimiter=self.delimiter or ";")
            start = 1
            try:
                for record in reader:
                    if record and len(record) != expected:
                        return start
                    start = reader.line_num + 1
            except (csv.Error, UnicodeDecodeError):
                return start
        return None

    def _scan_for_undecodable_line(self) -> tuple[int | None, int | None]:
        """The first line that does not decode, and the byte offset in the file where."""
        offset = 0
        with self._text_lines(None) as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    raw.decode(self.encoding or "utf-8")
                except UnicodeDecodeError as exc:
                    return number, offset + exc.start
                offset += len(raw)
        return None, None

    # -- Parquet --------------------------------------------------------------------
    def _open_parquet(self) -> pq.ParquetFile:
        try:
            parquet = pq.ParquetFile(self.file.path)
        except (pa.ArrowException, OSError) as exc:
            raise self._error(f"not a readable Parquet file ({exc})") from None
        names = list(parquet.schema_arrow.names)
        self._map_header(names, names)
        for declared, name in self._present.items():
            found = parquet.schema_arrow.field(name).type
            if not _scalar_type(found):
                expected = self.schema.field(declared).type.value
                raise self._error(
                    f"column {name} has type {found}, not a single value per row "
                    f"(declared {expected})"
                )
        return parquet

    def _iter_parquet(self) -> Iterator[RawBatch]:
        columns = list(self._present.values())
        done = 0
        batches = self._parquet.iter_batches(batch_size=self.batch_rows, columns=columns)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise self._error(f"corrupt Parquet data after row {done} ({exc})") from None
            n = batch.num_rows
            lines = pa.array(np.arange(done + 1, done + n + 1, dtype=np.int64))
            done += n
            if n:
                data = {name: batch.column(arrow) for name, arrow in self._present.items()}
                yield RawBatch(data, lines, n)


def _scalar_type(t: pa.DataType) -> bool:
    """A Parquet column type whose values can be read as text: no list, struct, map…"""
    if pa.types.is_dictionary(t):
        return _scalar_type(t.value_type)
    return not (pa.types.is_nested(t) or pa.types.is_union(t)) and not (
        pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
    )


def _embedded_newlines(batch: pa.RecordBatch) -> np.ndarray | None:
    """Line breaks inside (quoted) values, per row; None when there are none."""
    total: np.ndarray | None = None
    for column in batch.columns:
        if not pc.any(pc.match_substring(column, "\n")).as_py():
            continue
        counts = pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
        total = counts if total is None else total + counts
    return total


def _all_empty(batch: pa.RecordBatch) -> pa.Array | None:
    """Rows whose every value is empty; None when there are none (the common case)."""
    first = batch.column(0)
    if batch.num_rows == 0 or not pc.any(pc.equal(first, "")).as_py():
        return None
    blank = pc.equal(first, "")
    for column in batch.columns[1:]:
        blank = pc.and_(blank, pc.equal(column, ""))
    return blank if pc.any(blank).as_py() else None
