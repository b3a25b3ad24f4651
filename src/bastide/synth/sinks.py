"""Streaming writers for the generated tables.

Each table is written chunk by chunk as it is produced: CSV (header line, chosen
delimiter, UTF-8 or Latin-1, optionally gzip) or Parquet. Writing runs on a background
thread so the next chunk is generated meanwhile; a bounded queue keeps memory bounded.
"""

from __future__ import annotations

import io
import queue
import threading
from pathlib import Path
from typing import Protocol

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# Characters outside Latin-1 that reference labels may contain.
_LATIN1_FALLBACK = str.maketrans(
    {"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "–": "-", "—": "-", "…": "..."}
)


class Sink(Protocol):
    rows: int

    def write(self, table: pa.Table) -> None: ...

    def close(self) -> None: ...


class CsvSink:
    def __init__(
        self,
        path: Path,
        schema: pa.Schema,
        delimiter: str = ";",
        encoding: str = "utf-8",
        gzip: bool = False,
    ) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self._delimiter = delimiter
        self._encoding = encoding
        self._stream = (
            pa.CompressedOutputStream(str(path), "gzip") if gzip else pa.OSFile(str(path), "wb")
        )
        # Unquoted like real extracts; a batch holding a delimiter, quote or line break is
        # written with quotes where needed (still one valid CSV file).
        self._plain = pacsv.WriteOptions(
            include_header=False, delimiter=delimiter, quoting_style="none"
        )
        self._quoted = pacsv.WriteOptions(
            include_header=False, delimiter=delimiter, quoting_style="needed"
        )
        self._emit(delimiter.join(schema.names).encode() + b"\n")

    def _emit(self, data: bytes) -> None:
        if self._encoding != "utf-8":
            text = data.decode("utf-8")
            if not text.isascii():
                data = text.translate(_LATIN1_FALLBACK).encode(self._encoding, errors="replace")
        self._stream.write(data)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = table.select(self.schema.names).cast(self.schema)
        buf = io.BytesIO()
        try:
            pacsv.write_csv(table, buf, self._plain)
        except pa.ArrowInvalid:
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, self._quoted)
        self._emit(buf.getvalue())
        self.rows += table.num_rows

    def close(self) -> None:
        self._stream.close()


class ParquetSink:
    def __init__(self, path: Path, schema: pa.Schema, compression: str) -> None:
        self.path = path
        self.schema = schema
        self.rows = 0
        self._writer = pq.ParquetWriter(str(path), schema, compression=compression)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.rows += table.num_rows

    def close(self) -> None:
        self._writer.close()


class BackgroundWriter:
    """Runs sink writes on one thread, in submission order."""

    def __init__(self, max_pending: int = 48) -> None:
        self._queue: queue.Queue[tuple[Sink, pa.Table] | None] = queue.Queue(max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="synth-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    item[0].write(item[1])
                except BaseException as exc:  # re-raised in the generating thread
                    self._error = exc

    def submit(self, sink: Sink, table: pa.Table) -> None:
        self._raise()
        self._queue.put((sink, table))

    def finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
