"""The scale-out engine: Spark (local mode here; a cluster or Spark Connect in production).

It runs the same canonical SQL as DuckDB (transpiled by ``spark_sql``) over the same
data: Arrow tables are handed to Spark as DataFrames, and bastide's encrypted Parquet
files are read by Spark itself through parquet-mr's ``PropertiesDrivenCryptoFactory`` and
bastide's KmsClient, given only the unwrapped data keys of the scopes it reads, as read
options of that one relation (Spark redacts option values whose name says ``secret``).
Results come back as Arrow; every output is written by bastide's own (encrypting) writer.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlglot.expressions as exp

from bastide.engines.base import ParquetSource, QueryError
from bastide.engines.spark_session import new_session
from bastide.engines.spark_sql import parse_canonical, to_spark
from bastide.keys.spark import CRYPTO_FACTORY, KEYS_PROPERTY, KMS_CLASS

if TYPE_CHECKING:
    import pyarrow.dataset as ds

# Spark functions that reach outside the data (Java reflection, files, the environment):
# refused once a session is restricted.
_OUTSIDE = frozenset({"reflect", "java_method", "try_reflect", "input_file_name", "read_files"})


class SparkEngine:
    name = "spark"

    def __init__(
        self,
        *,
        threads: int = 2,
        memory_limit: str = "4GB",
        temp_directory: str | None = None,
        master: str = "",
        partitions: int | None = None,
        **_duckdb_only: Any,
    ) -> None:
        """``temp_directory``: Spark's local directory is fixed when the JVM starts, so
        its parent is used by the first session of the process (a hub's ``tmp/engine``)."""
        local_dir = Path(temp_directory).parent / "spark" if temp_directory else None
        self.spark = new_session(
            master=master,
            threads=threads,
            memory_limit=memory_limit,
            local_dir=local_dir,
            partitions=partitions,
        )
        self._registered: set[str] = set()
        self._cached: set[str] = set()
        self._tokens: list[str] = []
        self._restricted = False

    # -- tables ---------------------------------------------------------------------
    def register(self, name: str, data: ds.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        table = _as_table(data)
        frame = self.spark.createDataFrame(table) if table.num_rows else self._empty(table.schema)
        self._view(name, frame)

    def register_parquet(self, name: str, source: ParquetSource) -> None:
        if not source.paths:
            self._view(name, self._empty(source.schema))
            return
        reader = self.spark.read.schema(_spark_schema(source.schema))
        if source.data_keys is not None:
            # A fresh access token per relation: parquet-mr caches KMS clients by token,
            # so each relation's client holds exactly the keys given here.
            token = secrets.token_hex(8)
            self._tokens.append(token)
            keys = ";".join(f"{s}={k.hex()}" for s, k in sorted(source.data_keys().items()))
            reader = (
                reader.option("parquet.crypto.factory.class", CRYPTO_FACTORY)
                .option("parquet.encryption.kms.client.class", KMS_CLASS)
                .option("parquet.encryption.key.access.token", token)
                .option(KEYS_PROPERTY, keys)
            )
        self._view(name, reader.parquet(*[str(p) for p in source.paths]))

    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)
        self._registered.add(name)

    def _empty(self, schema: pa.Schema) -> Any:
        return self.spark.createDataFrame([], _spark_schema(schema))

    def unregister(self, name: str) -> None:
        if name in self._registered:
            self.spark.catalog.dropTempView(name)
            self._registered.discard(name)

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self._registered | self._cached)

    # -- queries --------------------------------------------------------------------
    def _frame(self, sql: str | exp.Expression, params: dict[str, Any] | None) -> Any:
        statement = to_spark(self._checked(sql))
        if not statement.is_query:
            raise QueryError("a query was expected (use execute for CREATE TEMP TABLE)")
        try:
            return self.spark.sql(statement.sql, args=params or None)
        except Exception as exc:
            raise QueryError(_reason(exc)) from exc

    def query(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> pa.Table:
        frame = self._frame(sql, params)
        try:
            return _canonical_types(frame.toArrow())
        except Exception as exc:
            raise QueryError(_reason(exc)) from exc

    def stream(
        self,
        sql: str | exp.Expression,
        params: dict[str, Any] | None = None,
        batch_rows: int = 100_000,
    ) -> pa.RecordBatchReader:
        """Batches as Spark sends them, partition after partition: this process never
        holds the whole result (Spark Connect, which lacks that route, returns it whole)."""
        frame = self._frame(sql, params)
        if not hasattr(frame, "_jdf"):
            table = self.query(sql, params)
            return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(batch_rows))
        from pyspark.sql.pandas.types import to_arrow_schema

        schema = _naive_schema(to_arrow_schema(frame.schema, timezone="UTC"))
        return pa.RecordBatchReader.from_batches(schema, _arrow_batches(frame, schema))

    def execute(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> None:
        statement = to_spark(self._checked(sql))
        try:
            if statement.creates is not None and statement.creates in self._cached:
                self.spark.sql(f"UNCACHE TABLE IF EXISTS `{statement.creates}`")
            self.spark.sql(statement.sql, args=params or None).collect()
        except Exception as exc:
            raise QueryError(_reason(exc)) from exc
        if statement.creates is not None:
            self._cached.add(statement.creates)

    def _checked(self, sql: str | exp.Expression) -> exp.Expression:
        tree = parse_canonical(sql)
        if self._restricted:
            unknown = {t.name for t in tree.find_all(exp.Table)} - self.tables - _ctes(tree)
            if unknown:
                raise QueryError(f"unknown table(s): {', '.join(sorted(unknown))}")
            for func in tree.find_all(exp.Anonymous):
                if func.name.lower() in _OUTSIDE:
                    raise QueryError(f"function {func.name} is not allowed")
        return tree

    # -- safety -----------------------------------------------------------------------
    def encrypt_spill(self, directory: Path) -> None:
        # Spark encrypts its shuffle, spill and cached blocks (spark.io.encryption.enabled,
        # set when the session started); check that it really is on.
        conf = self.spark.conf.get("spark.io.encryption.enabled", "false")
        if str(conf).lower() != "true":
            raise QueryError(
                "this Spark does not encrypt its local files (spark.io.encryption.enabled)"
            )

    def restrict(self, *, allowed_directories: Sequence[str] | None = None) -> None:
        """Only registered tables stay readable: no SQL on file paths, no functions that
        reach outside the data, nothing but queries and temporary tables."""
        self.spark.conf.set("spark.sql.runSQLOnFiles", "false")
        self._restricted = True

    def close(self) -> None:
        # Closing must not fail on a session whose JVM is gone.
        for name in sorted(self._cached):
            with contextlib.suppress(Exception):
                self.spark.sql(f"UNCACHE TABLE IF EXISTS `{name}`")
        for name in sorted(self._registered | self._cached):
            with contextlib.suppress(Exception):
                self.spark.catalog.dropTempView(name)
        self._forget_keys()
        self._registered.clear()
        self._cached.clear()

    def _forget_keys(self) -> None:
        """Drop the KMS clients (and the data keys they hold) of this session's reads."""
        tokens, self._tokens = self._tokens, []
        if not tokens:
            return
        # A Spark Connect session has no JVM here: the server's clients expire after
        # parquet's cache lifetime (parquet.encryption.cache.lifetime.seconds).
        with contextlib.suppress(Exception):
            toolkit = self.spark.sparkContext._jvm.org.apache.parquet.crypto.keytools.KeyToolkit
            for token in tokens:
                toolkit.removeCacheEntriesForToken(token)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ctes(tree: exp.Expression) -> set[str]:
    return {cte.alias for cte in tree.find_all(exp.CTE)}


def _as_table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    return data.to_table()  # a pyarrow dataset


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema, prefer_timestamp_ntz=True)


def _arrow_batches(frame: Any, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """pyspark's own Arrow collection (``DataFrame.toArrow``), one batch at a time."""
    from pyspark.errors.exceptions.captured import unwrap_spark_exception
    from pyspark.sql.pandas.serializers import ArrowCollectSerializer
    from pyspark.util import _load_from_socket  # type: ignore[attr-defined]

    try:
        port, secret, server = frame._jdf.collectAsArrowToPython()
        try:
            with _load_from_socket((port, secret), ArrowCollectSerializer()) as batches:
                for batch in batches:
                    yield pa.RecordBatch.from_arrays(
                        [c.cast(f.type) for c, f in zip(batch.columns, schema, strict=True)],
                        schema=schema,
                    )
        finally:
            with unwrap_spark_exception():  # raises what the job raised, as pyspark does
                server.getResult()
    except QueryError:
        raise
    except Exception as exc:
        raise QueryError(_reason(exc)) from exc


def _naive_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [
            f.with_type(pa.timestamp(f.type.unit))
            if pa.types.is_timestamp(f.type) and f.type.tz is not None
            else f
            for f in schema
        ]
    )


def _canonical_types(table: pa.Table) -> pa.Table:
    """Spark returns its session-zone (UTC) timestamps with a zone; bastide's have none."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = pa.timestamp(field.type.unit)
            table = table.set_column(i, field.with_type(naive), pc.cast(table.column(i), naive))
    return table


def _reason(exc: Exception) -> str:
    """The first line of Spark's message, without the JVM stack."""
    message = getattr(exc, "getMessage", None)
    text = message() if callable(message) else str(exc)
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
