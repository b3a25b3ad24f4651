"""The embedded default engine: DuckDB over registered Arrow data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
import sqlglot
import sqlglot.expressions as exp

from bastide.engines.base import CANONICAL_DIALECT, QueryError

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
    ) -> None:
        config: dict[str, Any] = {
            "threads": threads,
            "memory_limit": memory_limit,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if temp_directory is not None:
            config["temp_directory"] = temp_directory
        self.con = duckdb.connect(":memory:", config=config)
        self._registered: set[str] = set()
        self.con.execute("SET enable_progress_bar = false")
        for macro in _MACROS:
            self.con.execute(macro)

    # -- tables ---------------------------------------------------------------------
    def register(self, name: str, data: ds.Dataset | pa.Table | pa.RecordBatchReader) -> None:
        self.con.register(name, data)
        self._registered.add(name)

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

    def restrict(self) -> None:
        # Order matters: external access off, then the configuration locked so that no
        # later statement can turn it back on (see FEASIBILITY.md, "DuckDB as a sandbox").
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "query failed"


def parse(sql: str) -> exp.Expression:
    """Parse canonical-dialect SQL into a tree (raises QueryError on a syntax error)."""
    try:
        return sqlglot.parse_one(sql, read=CANONICAL_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"SQL syntax error: {exc}") from exc
