"""Streaming writers for the generated tables.

Each table is written chunk by chunk as it is produced: CSV (header line, chosen
delimiter, UTF-8 or Latin-1, optionally gzip) or Parquet. Writing runs on background
threads so the next chunk is generated meanwhile; bounded queues keep memory bounded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeAlias

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# Characters outside Latin-1 that reference labels may contain.
_LATIN1_FALLBACK = str.maketrans(
    {"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "–": "-", "—": "-", "…": "..."}
)


# What a sink is given: a table, or a callable making it on the writer thread.
Rows: TypeAlias = pa.Table | Callable[[], pa.Table]


class Sink(Protocol):
    path: Path
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

    def _emit(self, data: bytes | pa.Buffer) -> None:
        if self._encoding != "utf-8":
            text = memoryview(data).tobytes().decode("utf-8")
            if not text.isascii():
                data = text.translate(_LATIN1_FALLBACK).encode(self._encoding, errors="replace")
        self._stream.write(data)

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        table = table.select(self.schema.names).cast(self.schema)
        # Formatting into an Arrow buffer keeps the work native (no Python file calls).
        buf = pa.BufferOutputStream()
        try:
            pacsv.write_csv(table, buf, self._plain)
        except pa.ArrowInvalid:
            buf = pa.BufferOutputStream()
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
    """Runs sink writes on background threads ("lanes"), in submission order per lane (a
    sink must always be given the same lane). ``end_chunk`` marks a chunk boundary and
    waits while more than ``ahead`` earlier chunks are still being written, so at most
    that many chunks are held in memory besides the one being generated."""

    def __init__(self, lanes: int = 2, ahead: int = 1) -> None:
        self._queues: list[queue.Queue[tuple[Sink, Rows] | str | None]] = [
            queue.Queue() for _ in range(lanes)
        ]
        self._ahead = ahead
        self._marks = 0
        self._done = [0] * lanes
        self._progress = threading.Condition()
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, args=(i,), name=f"synth-writer-{i}", daemon=True)
            for i in range(lanes)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, lane: int) -> None:
        while (item := self._queues[lane].get()) is not None:
            if isinstance(item, str):
                with self._progress:
                    self._done[lane] += 1
                    self._progress.notify_all()
            elif self._error is None:
                try:
                    rows = item[1]
                    item[0].write(rows if isinstance(rows, pa.Table) else rows())
                except BaseException as exc:  # re-raised in the generating thread
                    self._error = exc

    def submit(self, sink: Sink, rows: Rows, lane: int = 0) -> None:
        """Queue ``rows`` (a table, or a callable making it) for ``sink``."""
        self._raise()
        self._queues[lane].put((sink, rows))

    def end_chunk(self) -> None:
        self._marks += 1
        for q in self._queues:
            q.put("chunk")
        with self._progress:
            self._progress.wait_for(
                lambda: self._error is not None or min(self._done) >= self._marks - self._ahead
            )
        self._raise()

    def finish(self) -> None:
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
