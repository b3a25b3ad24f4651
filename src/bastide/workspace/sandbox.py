"""The engine lock-down and the resource limits: one DuckDB session per query that can
read only the Arrow tables it was given.

In this order (see FEASIBILITY.md, "DuckDB as a sandbox for researcher SQL"):

1. the session opens in memory with extension autoloading and autoinstalling off, Python
   replacement scans off (a query cannot read a variable of this process by naming it),
   a memory limit, a thread count and a cap on what it may spill;
2. spill files go to a directory of their own under the hub, AES-GCM encrypted with a key
   that lives only in this process (``bastide.storage.protect_spill``);
3. the project's tables are registered as Arrow datasets (decrypted by the storage
   layer; DuckDB never opens a file of the hub);
4. ``allowed_directories`` is emptied, external access is turned off and the
   configuration is locked: no file, URL, extension or setting is reachable any more.

Then each query runs under a watchdog that interrupts it after the time limit, and its
result is read batch by batch up to a row and a byte limit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import pyarrow as pa

from bastide.engines import QueryError
from bastide.engines.duckdb_engine import DuckDBEngine
from bastide.storage import protect_spill
from bastide.workspace.errors import QueryFailed, QueryRefused, QueryTimeout, QueryTooLarge
from bastide.workspace.limits import Limits

if TYPE_CHECKING:
    import pyarrow.dataset as ds

T = TypeVar("T")
Batches = Callable[[pa.Schema, Iterator[pa.RecordBatch]], T]


class Sandbox:
    """A locked-down engine session over ``tables`` (name -> Arrow data)."""

    def __init__(
        self,
        tables: Mapping[str, ds.Dataset | pa.Table],
        limits: Limits,
        spill_directory: Path | None = None,
    ) -> None:
        self.limits = limits
        engine = DuckDBEngine(
            threads=limits.threads,
            memory_limit=limits.memory_limit,
            temp_directory=str(spill_directory) if spill_directory is not None else None,
            max_temp_directory_size=limits.max_spill,
            python_replacements=False,
        )
        try:
            if spill_directory is not None:
                protect_spill(engine, spill_directory)
            for name, data in tables.items():
                engine.register(name, data)
            engine.restrict(allowed_directories=[])
        except BaseException:
            engine.close()
            raise
        self.engine = engine

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running ------------------------------------------------------------------------
    def run(self, sql: str, consume: Batches[T], *, max_rows: int, max_bytes: int | None) -> T:
        """Run ``sql`` under the time limit and hand its batches to ``consume``; more than
        ``max_rows`` rows (or ``max_bytes``) stop it with ``QueryTooLarge``."""
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            self.engine.interrupt()

        watchdog = threading.Timer(self.limits.timeout_seconds, stop)
        watchdog.daemon = True
        watchdog.start()
        try:
            reader = self.engine.stream(sql)
            return consume(reader.schema, self._bounded(reader, max_rows, max_bytes))
        except (QueryError, duckdb.Error, pa.ArrowException) as exc:
            raise self._translate(exc, fired) from None
        finally:
            watchdog.cancel()

    def collect(self, sql: str) -> pa.Table:
        """The whole result, within the row and byte limits of a query."""

        def gather(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> pa.Table:
            return pa.Table.from_batches(list(batches), schema)

        return self.run(
            sql, gather, max_rows=self.limits.max_rows, max_bytes=self.limits.max_result_bytes
        )

    @staticmethod
    def _bounded(
        reader: pa.RecordBatchReader, max_rows: int, max_bytes: int | None
    ) -> Iterator[pa.RecordBatch]:
        rows = size = 0
        for batch in reader:
            rows += batch.num_rows
            size += batch.nbytes
            if rows > max_rows:
                raise QueryTooLarge(
                    f"the result has more than {max_rows:,} rows (the workspace's limit); "
                    "aggregate it, or save it as an output"
                )
            if max_bytes is not None and size > max_bytes:
                raise QueryTooLarge(
                    f"the result is larger than {max_bytes:,} bytes (the workspace's limit); "
                    "select fewer columns or rows, or save it as an output"
                )
            yield batch

    def _translate(self, exc: BaseException, fired: threading.Event) -> Exception:
        cause = exc.__cause__ if isinstance(exc, QueryError) and exc.__cause__ else exc
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        limits = self.limits
        if fired.is_set() or isinstance(cause, duckdb.InterruptException):
            return QueryTimeout(
                f"the query ran for more than {limits.timeout_seconds:g} s and was stopped "
                "(the workspace's time limit)"
            )
        if isinstance(cause, duckdb.OutOfMemoryException) or "Out of Memory" in first:
            return QueryTooLarge(
                f"the query needed more memory than the workspace allows (memory_limit "
                f"{limits.memory_limit}, spill {limits.max_spill}) and was stopped"
            )
        if isinstance(cause, duckdb.PermissionException) or "configuration has been locked" in text:
            return QueryRefused(f"the sandbox refused the query: {first}")
        return QueryFailed(f"the query failed: {first}")
