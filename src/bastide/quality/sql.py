"""SQL of the checks: fixed templates in the canonical dialect whose placeholders are
filled with quoted identifiers taken from the OMOP specification and with literal values
from the settings, as sqlglot trees. No text from data or users is ever spliced in."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlglot
import sqlglot.expressions as exp

from bastide.engines import CANONICAL_DIALECT

# -- building blocks ------------------------------------------------------------------------


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def column(name: str, alias: str = "e") -> exp.Column:
    return exp.column(name, alias, quoted=True)


def in_set(name: str, values: list[int] | list[str], alias: str = "e") -> exp.Expr:
    return column(name, alias).isin(*values)


def is_null(name: str, alias: str = "e") -> exp.Expr:
    return exp.Is(this=column(name, alias), expression=exp.Null())


def not_null(name: str, alias: str = "e") -> exp.Expr:
    return exp.not_(is_null(name, alias), copy=False)


def _number(value: int) -> exp.Expr:
    return exp.Literal.number(value)


@cache
def _parse(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read=CANONICAL_DIALECT)


def fill(template: str, **values: Any) -> exp.Expr:
    """The template's tree with ``:name`` placeholders replaced: an `ident` or any
    expression as is, a Python number, string or date as a literal."""
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise ValueError(f"no value for placeholders {missing}")
    # replace_placeholders transforms a copy: the cached tree is never modified.
    return exp.replace_placeholders(_parse(template), **values)


def query(tree: exp.Expr) -> exp.Expression:
    """A filled template that is a whole query, typed as the engines accept it."""
    if not isinstance(tree, exp.Expression):
        raise TypeError(f"not a query: {tree.sql(dialect=CANONICAL_DIALECT)}")
    return tree


def count_where(condition: exp.Expr) -> exp.Expr:
    """COALESCE(SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0): a portable conditional count."""
    case = exp.Case(ifs=[exp.If(this=condition, true=_number(1))], default=_number(0))
    return exp.Coalesce(this=exp.Sum(this=case), expressions=[_number(0)])


def _source(table: str, alias: str = "e") -> exp.Table:
    return exp.Table(this=ident(table), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _counts(table: str) -> exp.Select:
    select = exp.select(exp.alias_(exp.Count(this=exp.Star()), "denominator"), copy=False)
    return select.from_(_source(table), copy=False)


# -- probes: queries returning one row, ``denominator`` and one count per check -------------


def field_probe(table: str, conditions: list[exp.Expr]) -> exp.Expression:
    """One scan of ``table`` (alias ``e``): its row count and, as ``v<i>``, the number of
    rows meeting condition i."""
    query = _counts(table)
    for i, condition in enumerate(conditions):
        query = query.select(exp.alias_(count_where(condition), f"v{i}"), copy=False)
    return query


def rows_where(
    table: str, condition: exp.Expr, denominator_table: str | None = None
) -> exp.Expression:
    """Rows of ``table`` (alias ``e``) meeting ``condition`` as ``v0``, over all rows of
    ``denominator_table`` (default: the same table)."""
    return query(
        fill(
            "SELECT (SELECT COUNT(*) FROM :d) AS denominator,"
            " (SELECT COUNT(*) FROM :t AS e WHERE :cond) AS v0",
            t=ident(table),
            d=ident(denominator_table or table),
            cond=condition,
        )
    )


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``column`` of the checked table must exist in ``table.key``; a concept
    key also allows 0 ("no matching concept") and may have to be in one of ``domains``."""

    column: str
    table: str
    key: str
    concept: bool = False
    domains: tuple[str, ...] = ()


_DISTINCT_KEYS = "SELECT DISTINCT r.:rc AS k FROM :rt AS r"
_KEYS_IN_DOMAIN = (
    "SELECT r.:rc AS k, MAX(CASE WHEN :ok THEN 1 ELSE 0 END) AS ok FROM :rt AS r GROUP BY r.:rc"
)


def reference_probe(table: str, references: list[Reference]) -> exp.Expression:
    """All foreign keys of ``table`` in one query: a left join per key on the distinct
    referenced values (so rows are never multiplied). ``missing<i>`` counts rows whose key
    is not found, ``domain<i>`` (when domains are given) rows found in another domain."""
    query = _counts(table)
    for i, ref in enumerate(references):
        alias = f"r{i}"
        keys = dict(rc=ident(ref.key), rt=ident(ref.table))
        if ref.domains:
            ok = in_set("domain_id", list(ref.domains), alias="r")
            lookup = fill(_KEYS_IN_DOMAIN, ok=ok, **keys)
        else:
            lookup = fill(_DISTINCT_KEYS, **keys)
        joined = exp.Subquery(this=lookup, alias=exp.TableAlias(this=exp.to_identifier(alias)))
        on = exp.EQ(this=column(ref.column), expression=column("k", alias))
        query = query.join(joined, on=on, join_type="left", copy=False)

        present = [not_null(ref.column)]
        if ref.concept:
            present.append(exp.NEQ(this=column(ref.column), expression=_number(0)))
        missing = exp.and_(*present, is_null("k", alias), copy=False)
        query = query.select(exp.alias_(count_where(missing), f"missing{i}"), copy=False)
        if ref.domains:
            outside = exp.EQ(this=column("ok", alias), expression=_number(0))
            wrong = exp.and_(*present, not_null("k", alias), outside, copy=False)
            query = query.select(exp.alias_(count_where(wrong), f"domain{i}"), copy=False)
    return query


DUPLICATE_KEY = (
    "SELECT (SELECT COUNT(*) FROM :t) AS denominator,"
    " (SELECT COALESCE(SUM(k.n), 0) FROM (SELECT COUNT(*) AS n FROM :t WHERE :c IS NOT NULL"
    " GROUP BY :c HAVING COUNT(*) > 1) AS k) AS v0"
)

# -- conditions on a row aliased ``e`` ------------------------------------------------------
IS_NULL = "e.:c IS NULL"
NOT_NULL = "e.:c IS NOT NULL"
INTEGER_FROM_NUMBER = "e.:c <> TRUNC(e.:c)"
INTEGER_FROM_TEXT = (
    "e.:c IS NOT NULL AND (TRY_CAST(TRIM(e.:c) AS DOUBLE) IS NULL"
    " OR TRY_CAST(TRIM(e.:c) AS DOUBLE) <> TRUNC(TRY_CAST(TRIM(e.:c) AS DOUBLE)))"
)
FLOAT_FROM_TEXT = "e.:c IS NOT NULL AND TRY_CAST(TRIM(e.:c) AS DOUBLE) IS NULL"
DATE_FROM_TEXT = "e.:c IS NOT NULL AND TRY_CAST(TRIM(e.:c) AS DATE) IS NULL"
DATETIME_FROM_TEXT = "e.:c IS NOT NULL AND TRY_CAST(TRIM(e.:c) AS TIMESTAMP) IS NULL"
TOO_LONG = "LENGTH(CAST(e.:c AS VARCHAR)) > :n"

PERSON_WITHOUT_ROWS = "NOT EXISTS (SELECT 1 FROM :t AS x WHERE x.person_id = e.person_id)"
OUTSIDE_OBSERVATION = (
    "e.:d IS NOT NULL AND NOT EXISTS (SELECT 1 FROM :op AS o WHERE o.person_id = e.person_id"
    " AND e.:d BETWEEN o.observation_period_start_date AND o.observation_period_end_date)"
)
AFTER_DEATH = (
    "e.:d IS NOT NULL AND EXISTS (SELECT 1 FROM :death AS x WHERE x.person_id = e.person_id"
    " AND DATE_DIFF('day', x.death_date, e.:d) > :days)"
)
BEFORE_BIRTH = (
    "e.:d IS NOT NULL AND EXISTS (SELECT 1 FROM :person AS x WHERE x.person_id = e.person_id"
    " AND YEAR(e.:d) < x.year_of_birth)"
)
END_BEFORE_START = "e.:end < e.:start"
YEAR_OF_BIRTH_IMPLAUSIBLE = "e.year_of_birth <= :low OR e.year_of_birth > :high"
BELOW_MINIMUM = "e.:c < :low"
