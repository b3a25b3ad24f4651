"""Compute engines. Only this package knows an SQL dialect: everything else writes
queries in bastide's canonical dialect (DuckDB's, parsed by sqlglot) or as sqlglot
expression trees, and an engine transpiles them to its own."""

from bastide.engines.base import (
    CANONICAL_DIALECT,
    ENGINES,
    Engine,
    ParquetSource,
    QueryError,
    open_engine,
)

__all__ = ["CANONICAL_DIALECT", "ENGINES", "Engine", "ParquetSource", "QueryError", "open_engine"]
