"""Canonical SQL (DuckDB's dialect) -> Spark SQL, with sqlglot.

sqlglot transpiles the dialect differences (``INTERVAL`` arithmetic, ``TRY_CAST``, null
ordering, string functions, …). What remains is bastide's own vocabulary:

- ``stable_id(text)``: the first 15 hex digits of md5 as a BIGINT, as DuckDB's macro;
- day counts added to dates are cast to INT (Spark's ``date_add`` takes nothing wider);
- ``CREATE TEMP TABLE t AS SELECT …``: Spark has no temporary tables; ``CACHE TABLE t
  AS SELECT …`` materialises a temporary view once, which is what the ETL relies on.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
import sqlglot.expressions as exp

from bastide.engines.base import CANONICAL_DIALECT, QueryError, syntax_error

SPARK = "spark"


@dataclass(frozen=True)
class SparkStatement:
    """One statement for Spark: ``sql`` to run, and the temporary view it creates."""

    sql: str
    creates: str | None = None
    is_query: bool = True


def _stable_id(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name.lower() == "stable_id":
        if len(node.expressions) != 1:
            raise QueryError("stable_id takes one argument")
        digest = exp.func("md5", node.expressions[0])
        prefix = exp.Substring(
            this=digest, start=exp.Literal.number(1), length=exp.Literal.number(15)
        )
        converted = exp.func("conv", prefix, exp.Literal.number(16), exp.Literal.number(10))
        return exp.Cast(this=converted, to=exp.DataType.build("BIGINT"))
    return node


def _int_day_counts(node: exp.Expression) -> exp.Expression:
    # Spark's date_add takes an INT day count; DuckDB adds any integer.
    if isinstance(node, exp.DateAdd | exp.DateSub) and not isinstance(node.expression, exp.Literal):
        node.set("expression", exp.Cast(this=node.expression, to=exp.DataType.build("INT")))
    return node


def parse_canonical(sql: str | exp.Expression) -> exp.Expression:
    if isinstance(sql, exp.Expression):
        return sql
    try:
        statements = [s for s in sqlglot.parse(sql, read=CANONICAL_DIALECT) if s is not None]
    except sqlglot.errors.ParseError as exc:
        raise syntax_error(exc) from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Expression):
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    return statements[0]


def to_spark(sql: str | exp.Expression) -> SparkStatement:
    """Transpile one canonical statement to Spark SQL."""
    tree = parse_canonical(sql).copy().transform(_stable_id).transform(_int_day_counts)
    if isinstance(tree, exp.Create) and tree.kind == "TABLE":
        properties = tree.args.get("properties")
        temporary = properties is not None and any(
            isinstance(p, exp.TemporaryProperty) for p in properties.expressions
        )
        select = tree.expression
        if not temporary or not isinstance(select, exp.Query):
            raise QueryError(
                "the Spark engine creates only temporary tables (CREATE TEMP TABLE … AS SELECT)"
            )
        name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.this.name
        body = select.sql(dialect=SPARK)
        return SparkStatement(f"CACHE TABLE `{name}` AS {body}", creates=name, is_query=False)
    if not isinstance(tree, exp.Query):
        raise QueryError(
            f"the Spark engine runs queries and CREATE TEMP TABLE, not {tree.key.upper()}"
        )
    return SparkStatement(tree.sql(dialect=SPARK))
