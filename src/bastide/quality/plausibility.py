"""Plausibility checks: events outside observation, after death or before birth, periods
ending before they start, implausible years of birth and genders, negative quantities."""

from __future__ import annotations

import sqlglot.expressions as exp

from bastide.quality import sql
from bastide.quality.builder import (
    EVENT_DATES,
    GENDER_CONCEPTS,
    PERIODS,
    PLAUSIBLE_MINIMUM,
    Builder,
)
from bastide.quality.model import Category

P = Category.PLAUSIBILITY


def add_checks(b: Builder) -> None:
    _event_timing(b)
    _periods(b)
    _person(b)
    _minimum_values(b)


def _event_timing(b: Builder) -> None:
    settings = b.settings
    for table, (start, _) in EVENT_DATES.items():
        if not b.has(table, "person_id", start):
            continue
        d = sql.ident(start)
        where = f"{table}.{start}"
        if b.has("observation_period", "person_id", *PERIODS["observation_period"]):
            check = b.check(
                "outside_observation_period",
                P,
                table,
                start,
                f"{where} falls within an observation period of the person",
            )
            condition = sql.fill(sql.OUTSIDE_OBSERVATION, d=d, op=sql.ident("observation_period"))
            b.relational(check, table, condition)
        if b.has("death", "person_id", "death_date"):
            days = settings.death_grace_days
            check = b.check(
                "after_death", P, table, start, f"{where} is at most {days} days after death"
            )
            condition = sql.fill(sql.AFTER_DEATH, d=d, death=sql.ident("death"), days=days)
            b.relational(check, table, condition)
        if b.has("person", "person_id", "year_of_birth"):
            check = b.check(
                "before_birth", P, table, start, f"{where} is not before the year of birth"
            )
            condition = sql.fill(sql.BEFORE_BIRTH, d=d, person=sql.ident("person"))
            b.relational(check, table, condition)


def _periods(b: Builder) -> None:
    spans = {t: (s, e) for t, (s, e) in EVENT_DATES.items() if e is not None} | PERIODS
    for table, (start, end) in spans.items():
        if not b.has(table, start, end):
            continue
        check = b.check("end_before_start", P, table, end, f"{table}.{end} is not before {start}")
        condition = sql.fill(sql.END_BEFORE_START, start=sql.ident(start), end=sql.ident(end))
        b.relational(check, table, condition)


def _person(b: Builder) -> None:
    settings = b.settings
    if b.has("person", "year_of_birth"):
        low, high = settings.earliest_year_of_birth, settings.today.year
        check = b.check(
            "year_of_birth",
            P,
            "person",
            "year_of_birth",
            f"year_of_birth after {low} and not after {high}",
        )
        condition = sql.fill(sql.YEAR_OF_BIRTH_IMPLAUSIBLE, low=low, high=high)
        b.relational(check, "person", condition)
    if b.has("person", "gender_concept_id"):
        allowed = list(GENDER_CONCEPTS)
        check = b.check(
            "gender_value",
            P,
            "person",
            "gender_concept_id",
            f"gender_concept_id is one of {', '.join(map(str, allowed))}",
        )
        b.relational(check, "person", exp.not_(sql.in_set("gender_concept_id", allowed)))


def _minimum_values(b: Builder) -> None:
    signed = list(b.settings.signed_measurement_concepts)
    for (table, column), low in PLAUSIBLE_MINIMUM.items():
        if not b.has(table, column):
            continue
        check = b.check("below_minimum", P, table, column, f"{table}.{column} is not below {low}")
        condition = sql.fill(sql.BELOW_MINIMUM, c=sql.ident(column), low=low)
        if table == "measurement" and signed and b.has(table, "measurement_concept_id"):
            condition = exp.and_(condition, exp.not_(sql.in_set("measurement_concept_id", signed)))
        b.relational(check, table, condition)
