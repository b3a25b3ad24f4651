"""The patient-level queries analyses run through the engine: cohort entries with age and
sex, follow-up to an outcome, baseline concepts, treatment episodes. Their results stay
in the analysis code, which turns them into aggregate tables."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pyarrow as pa
import sqlglot.expressions as exp

from bastide.cohorts import Cohort
from bastide.cohorts.compiler import (
    age_at,
    all_of,
    case,
    col,
    days_between,
    exposure_eras,
    lit,
    table,
)
from bastide.cohorts.domains import DOMAINS
from bastide.engines import QueryError
from bastide.studies.errors import StudyError

if TYPE_CHECKING:
    from bastide.engines import Engine


@contextmanager
def registered(engine: Engine, cohorts: Sequence[Cohort]) -> Iterator[list[str]]:
    """Expose cohort tables to the engine under fresh names for the time of a block."""
    names = [f"cohort_{secrets.token_hex(6)}" for _ in cohorts]
    try:
        for name, cohort in zip(names, cohorts, strict=True):
            engine.register(name, cohort.table)
        yield names
    finally:
        for name in names:
            engine.unregister(name)


def run(engine: Engine, query: exp.Select, what: str) -> pa.Table:
    try:
        return engine.query(query)
    except QueryError as exc:
        raise StudyError(f"{what}: {exc}") from None


def _entry_keys(left: str, right: str) -> exp.Expr:
    return all_of(
        col("person_id", left).eq(col("person_id", right)),
        col("cohort_start_date", left).eq(col("cohort_start_date", right)),
    )


def entries(engine: Engine, cohort: str) -> pa.Table:
    """person_id, cohort_start_date, cohort_end_date, age (at start), gender_concept_id."""
    query = (
        exp.select(
            col("person_id", "c"),
            col("cohort_start_date", "c"),
            col("cohort_end_date", "c"),
            age_at(col("cohort_start_date", "c"), "p").as_("age"),
            col("gender_concept_id", "p"),
        )
        .from_(table(cohort, "c"))
        .join(
            table("person", "p"),
            on=col("person_id", "p").eq(col("person_id", "c")),
            join_type="left",
        )
        .order_by(col("person_id", "c"), col("cohort_start_date", "c"))
    )
    return run(engine, query, "cohort entries")


def follow_up(engine: Engine, cohort: str, outcome: str) -> pa.Table:
    """Each entry with its first outcome between cohort start and end (``outcome_date``)
    and whether an outcome began before the start (``prior_outcome``)."""
    base = entries(engine, cohort)
    first = (
        exp.select(
            col("person_id", "c"),
            col("cohort_start_date", "c"),
            exp.Min(this=col("cohort_start_date", "o")).as_("outcome_date"),
        )
        .from_(table(cohort, "c"))
        .join(
            table(outcome, "o"),
            on=all_of(
                col("person_id", "o").eq(col("person_id", "c")),
                col("cohort_start_date", "o") >= col("cohort_start_date", "c"),
                col("cohort_start_date", "o") <= col("cohort_end_date", "c"),
            ),
        )
        .group_by(col("person_id", "c"), col("cohort_start_date", "c"))
    )
    prior = (
        exp.select(
            col("person_id", "c"),
            col("cohort_start_date", "c"),
            exp.Count(this=exp.Star()).as_("n"),
        )
        .from_(table(cohort, "c"))
        .join(
            table(outcome, "o"),
            on=all_of(
                col("person_id", "o").eq(col("person_id", "c")),
                col("cohort_start_date", "o") < col("cohort_start_date", "c"),
            ),
        )
        .group_by(col("person_id", "c"), col("cohort_start_date", "c"))
    )
    query = (
        exp.select(
            col("person_id", "c"),
            col("cohort_start_date", "c"),
            col("outcome_date", "f"),
            (exp.func("COALESCE", col("n", "pr"), lit(0)) > lit(0)).as_("prior_outcome"),
        )
        .from_(table(cohort, "c"))
        .join(first.subquery("f"), on=_entry_keys("f", "c"), join_type="left")
        .join(prior.subquery("pr"), on=_entry_keys("pr", "c"), join_type="left")
    )
    events = run(engine, query, "outcomes")
    return _join_entries(base, events)


def _join_entries(base: pa.Table, extra: pa.Table) -> pa.Table:
    keys = ["person_id", "cohort_start_date"]
    joined = base.join(extra, keys=keys, join_type="left outer")
    return joined.sort_by([(k, "ascending") for k in keys])


def baseline_concepts(
    engine: Engine, cohort: str, domain: str, window: tuple[int, int]
) -> pa.Table:
    """For each concept of ``domain`` recorded in ``window`` (days around cohort start):
    the number of entries with it. The concept is the event's concept, or its source
    concept where the concept is 0 (French codes without a standard mapping)."""
    dom = DOMAINS[domain]
    concept = col(dom.concept, "e")
    key = case(
        exp.or_(concept.is_(exp.null()), concept.copy().eq(lit(0))),
        col(dom.source_concept, "e"),
        concept.copy(),
    )
    offset = days_between(col("cohort_start_date", "c"), col(dom.start, "e"))
    hits = (
        exp.select(col("person_id", "c"), col("cohort_start_date", "c"), key.as_("concept_id"))
        .distinct()
        .from_(table(cohort, "c"))
        .join(
            table(dom.table, "e"),
            on=all_of(
                col("person_id", "e").eq(col("person_id", "c")),
                offset >= lit(window[0]),
                offset.copy() <= lit(window[1]),
            ),
        )
    )
    counts = (
        exp.select(col("concept_id"), exp.Count(this=exp.Star()).as_("n"))
        .from_(hits.subquery("h"))
        .where(all_of(col("concept_id").is_(exp.null()).not_(), col("concept_id").neq(lit(0))))
        .group_by(col("concept_id"))
    )
    query = (
        exp.select(
            col("concept_id", "k"),
            col("n", "k"),
            col("concept_name", "v"),
            col("vocabulary_id", "v"),
            col("concept_code", "v"),
        )
        .from_(counts.subquery("k"))
        .join(
            table("concept", "v"),
            on=col("concept_id", "v").eq(col("concept_id", "k")),
            join_type="left",
        )
        .order_by(exp.Ordered(this=col("n", "k"), desc=True), col("concept_id", "k"))
    )
    return run(engine, query, f"baseline {domain}")


def treatment_episodes(
    engine: Engine, cohort: Cohort, cohort_table: str, concept_set: str, gap_days: int
) -> pa.Table:
    """Each cohort entry with the exposure era that holds its start (era_start, era_end,
    exposures; NULL when none does)."""
    eras = exposure_eras(cohort.definition, concept_set, gap_days)
    query = (
        exp.select(
            col("person_id", "c"),
            col("cohort_start_date", "c"),
            col("cohort_end_date", "c"),
            exp.Max(this=col("era_start", "r")).as_("era_start"),
            exp.Max(this=col("era_end", "r")).as_("era_end"),
            exp.Max(this=col("exposures", "r")).as_("exposures"),
        )
        .from_(table(cohort_table, "c"))
        .join(
            eras.subquery("r"),
            on=all_of(
                col("person_id", "r").eq(col("person_id", "c")),
                col("era_start", "r") <= col("cohort_start_date", "c"),
                col("cohort_start_date", "c") <= col("era_end", "r"),
            ),
            join_type="left",
        )
        .group_by(col("person_id", "c"), col("cohort_start_date", "c"), col("cohort_end_date", "c"))
        .order_by(col("person_id", "c"), col("cohort_start_date", "c"))
    )
    return run(engine, query, "treatment episodes")
