"""The engine interface that DuckDB (embedded) and Spark (scale-out) both implement."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bastide.errors import BastideError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds
    import sqlglot.expressions as exp


# The dialect bastide's own SQL is written in; engines transpile from it.
CANONICAL_DIALECT = "duckdb"


class QueryError(BastideError):
    """A query the engine refused or could not run, with the engine's reason."""


def syntax_error(exc: Exception) -> QueryError:
    """A sqlglot parse error as one line: what, and where."""
    errors = getattr(exc, "errors", None) or [{}]
    first = errors[0]
    where = f" (line {first['line']}, column {first['col']})" if "line" in first else ""
    what = first.get("description") or str(exc).splitlines()[0]
    return QueryError(f"SQL syntax error: {what}{where}")


@dataclass(frozen=True)
class ParquetSource:
    """Parquet files written by bastide, as an engine may open them.

    An engine that reads through Arrow takes ``dataset()`` (pyarrow decrypts); one that
    reads files itself (Spark) takes ``paths`` and, for encrypted files, ``data_keys()``:
    the unwrapped data key of each scope the files belong to (never the master key).
    """

    paths: Sequence[Path]
    schema: pa.Schema
    dataset: Callable[[], ds.Dataset]
    data_keys: Callable[[], Mapping[str, bytes]] | None = None


class Engine(Protocol):
    """One session of a compute engine over Arrow data.

    Tables are registered by name from Arrow objects (a ``pyarrow.dataset.Dataset`` is
    scanned lazily with projection and filter pushdown), so the engine never opens
    warehouse files itself: decryption and governance stay in the storage layer.
    """

    name: str

    def register(self, name: str, data: ds.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        """Expose Arrow data as a read-only table called ``name``."""
        ...

    def register_parquet(self, name: str, source: ParquetSource) -> None:
        """Expose bastide's (possibly encrypted) Parquet files as a table called ``name``."""
        ...

    def unregister(self, name: str) -> None: ...

    def query(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> pa.Table:
        """Run a query written in the canonical dialect and return the whole result."""
        ...

    def stream(
        self, sql: str | exp.Expression, params: dict[str, Any] | None = None
    ) -> pa.RecordBatchReader:
        """Run a query and stream its result in bounded memory."""
        ...

    def execute(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> None:
        """Run a statement for its effect (session-scoped temporary views and tables)."""
        ...

    def encrypt_spill(self, directory: Path) -> None:
        """Spill to ``directory`` only in encrypted form (or not at all)."""
        ...

    def restrict(self) -> None:
        """From now on, refuse any access to files, URLs, extensions and settings: only
        the registered tables remain readable. Irreversible for the session."""
        ...

    def close(self) -> None: ...


ENGINES = ("duckdb", "spark")


def open_engine(name: str = "duckdb", **options: Any) -> Engine:
    """An engine session by configuration name (``[engine] name``). Options an engine
    does not use are ignored (``memory_limit`` means the JVM heap for Spark)."""
    if name == "duckdb":
        from bastide.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        from bastide.optional import SPARK, require

        require(SPARK)  # an optional extra: one line saying how to install it
        from bastide.engines.spark_engine import SparkEngine

        return SparkEngine(**options)
    raise QueryError(f"unknown engine {name!r} (expected 'duckdb' or 'spark')")
