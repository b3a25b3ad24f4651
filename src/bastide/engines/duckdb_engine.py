"""The embedded default engine: DuckDB over registered Arrow data."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
import sqlglot.expressions as exp

from bastide.engines.base import CANONICAL_DIALECT, ParquetSource, QueryError, syntax_error

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds


# Functions of bastide's canonical SQL that every engine provides under the same name.
# stable_id: a 60-bit id from text (md5 is available, and identical, on every engine).
_MACROS = ("CREATE MACRO stable_id(x) AS CAST(('0x' || substr(md5(x), 1, 15)) AS BIGINT)",)


class DuckDBEngine:
    name = "duckdb"

    def __init__(
        self,
        *,
        threads: int = 2,
        memory_limit: str = "4GB",
        temp_directory: str | None = None,
        max_temp_directory_size: str | None = None,
        python_replacements: bool = True,
    ) -> None:
        """``max_temp_directory_size`` bounds what a query may spill to disk;
        ``python_replacements=False`` stops a query from reading a Python variable of the
        calling process by naming it as a table (a sandbox needs that off)."""
        config: dict[str, Any] = {
            "threads": threads,
            "memory_limit": memory_limit,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            # Results are never relied on for their order (every query that needs one says
            # ORDER BY); not preserving it lets large materialisations stream and spill less.
            "preserve_insertion_order": False,
        }
        if temp_directory is not None:
            config["temp_directory"] = temp_directory
        if max_temp_directory_size is not None:
            config["max_temp_directory_size"] = max_temp_directory_size
        if not python_replacements:
            config["python_enable_replacements"] = False
        self.con = duckdb.connect(":memory:", config=config)
        self._registered: set[str] = set()
        self.con.execute("SET enable_progress_bar = false")
        for macro in _MACROS:
            self.con.execute(macro)

    # -- tables ---------------------------------------------------------------------
    def register(self, name: str, data: ds.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        self.con.register(name, data)
        self._registered.add(name)

    def register_parquet(self, name: str, source: ParquetSource) -> None:
        self.register(name, source.dataset())  # pyarrow decrypts, DuckDB scans lazily

    def unregister(self, name: str) -> None:
        if name in self._registered:
            self.con.unregister(name)
            self._registered.discard(name)

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self._registered)

    # -- queries --------------------------------------------------------------------
    @staticmethod
    def _sql(sql: str | exp.Expression) -> str:
        # The canonical dialect is DuckDB's, so text passes through unchanged; trees are
        # rendered here so that only engines/ turns expressions into a dialect.
        if isinstance(sql, exp.Expression):
            return sql.sql(dialect=CANONICAL_DIALECT)
        return sql

    def _run(self, sql: str | exp.Expression, params: dict[str, Any] | None) -> Any:
        try:
            return self.con.execute(self._sql(sql), params or None)
        except duckdb.Error as exc:
            raise QueryError(_first_line(str(exc))) from exc

    def query(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> pa.Table:
        try:
            return self._run(sql, params).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(_first_line(str(exc))) from exc

    def stream(
        self,
        sql: str | exp.Expression,
        params: dict[str, Any] | None = None,
        batch_rows: int = 100_000,
    ) -> pa.RecordBatchReader:
        try:
            return self._run(sql, params).to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            raise QueryError(_first_line(str(exc))) from exc

    def execute(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> None:
        """Run a statement for its effect (temporary views and tables of a session)."""
        self._run(sql, params)

    def encrypt_spill(self, directory: Path) -> None:
        # Spill blocks are AES-GCM encrypted under a key living only in this process.
        # DuckDB writes them only with OpenSSL, which its httpfs extension brings (loaded
        # from the duckdb-extension-httpfs wheel, never downloaded); without it a query
        # that must spill fails instead of spilling in clear.
        extension = httpfs_extension()
        if extension is not None:
            self.con.execute(f"LOAD {_literal(extension)}")
        directory.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(f"SET temp_directory = {_literal(directory)}")
        self.con.execute("SET temp_file_encryption = true")

    def restrict(self, *, allowed_directories: Sequence[str] | None = None) -> None:
        """Lock the session down. ``allowed_directories`` (e.g. ``[]``) first narrows the
        directories that remain reachable once external access is off; DuckDB keeps its
        own temporary directory reachable whatever the list says."""
        # Order matters: allowed directories, then external access off, then the
        # configuration locked so that no later statement can turn either back on (see
        # FEASIBILITY.md, "DuckDB as a sandbox").
        if allowed_directories is not None:
            listed = ", ".join(_literal(d) for d in allowed_directories)
            self.con.execute(f"SET allowed_directories = [{listed}]")
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def interrupt(self) -> None:
        """Stop the query running in this session (from another thread, e.g. a
        watchdog); it fails with DuckDB's interrupt error."""
        self.con.interrupt()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def httpfs_extension() -> Path | None:
    """The httpfs extension file matching the installed DuckDB, if installed."""
    spec = importlib.util.find_spec("duckdb_extension_httpfs")
    if spec is None or spec.origin is None:
        return None
    path = (
        Path(spec.origin).parent
        / "extensions"
        / f"v{duckdb.__version__}"
        / "httpfs.duckdb_extension"
    )
    return path if path.is_file() else None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "query failed"


def parse(sql: str) -> exp.Expression:
    """Parse canonical-dialect SQL into a tree (raises QueryError on a syntax error)."""
    try:
        tree = sqlglot.parse_one(sql, read=CANONICAL_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise syntax_error(exc) from exc
    if not isinstance(tree, exp.Expression):  # a bare keyword parses to a non-statement
        raise QueryError(f"not an SQL statement: {sql[:80]!r}")
    return tree
