"""The granted perimeter as queries over a warehouse snapshot (canonical SQL).

- **Population** (``population_statements``): persons of the ``person`` table matching
  every criterion of the scope: sex (``gender_concept_id`` 8532 for F, 8507 for M), age
  in whole years at the start of the period (at the extract date when the period has no
  start; the birth date is ``birth_datetime``, else year, month and day of birth with a
  missing month or day counted as the first), and at least one condition occurrence, at
  any date, whose ``condition_concept_id`` or ``condition_source_concept_id`` is one of
  the listed concepts or a descendant of one in ``concept_ancestor`` (a CIM-10 category
  such as E11 selects E110...E119). A person whose age cannot be computed is left out
  when the scope has an age criterion.
- **Tables** (``table_query``): a table with ``person_id`` keeps the population's rows
  only. Events keep the rows whose date (``EVENT_DATES``) lies in the period; intervals
  (``INTERVALS``: observation and payer plan periods, eras) keep those that overlap it,
  clipped to it. Tables without patient rows (vocabularies, locations, care sites,
  providers...) are copied whole. Tables holding patient rows without a ``person_id``
  (``UNRESTRICTABLE``) cannot be limited to a population and are refused.
- Only the granted columns are selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bastide.governance.scope import Scope
from bastide.projects.errors import ExtractError

GENDER = {"F": 8532, "M": 8507}
EVENT_DATES = {
    "visit_occurrence": "visit_start_date",
    "visit_detail": "visit_detail_start_date",
    "condition_occurrence": "condition_start_date",
    "drug_exposure": "drug_exposure_start_date",
    "procedure_occurrence": "procedure_date",
    "device_exposure": "device_exposure_start_date",
    "measurement": "measurement_date",
    "observation": "observation_date",
    "death": "death_date",
    "note": "note_date",
    "specimen": "specimen_date",
    "episode": "episode_start_date",
}
INTERVALS = {
    "observation_period": ("observation_period_start_date", "observation_period_end_date"),
    "payer_plan_period": ("payer_plan_period_start_date", "payer_plan_period_end_date"),
    "condition_era": ("condition_era_start_date", "condition_era_end_date"),
    "drug_era": ("drug_era_start_date", "drug_era_end_date"),
    "dose_era": ("dose_era_start_date", "dose_era_end_date"),
}
UNRESTRICTABLE = {
    "note_nlp": "links to notes by note_id, not to a person",
    "fact_relationship": "links records of any table by their ids",
    "cost": "links to events of any table by cost_event_id",
    "episode_event": "links episodes to events of any table by event_id",
    "cohort": "holds study results by subject_id; cohorts are rebuilt inside the workspace",
}
POPULATION = "extract_population"
CONDITIONS = "extract_condition_concepts"


def q(name: str) -> str:
    """A quoted identifier (names come from the validated scope and the OMOP spec)."""
    return '"' + name.replace('"', '""') + '"'


def _date(value: date) -> str:
    return f"DATE '{value.isoformat()}'"


def check_restrictable(table: str) -> None:
    if table in UNRESTRICTABLE:
        raise ExtractError(
            f"table {table} cannot be limited to the project's population "
            f"({UNRESTRICTABLE[table]}); it is not extracted: grant the tables it refers to"
        )


def _birth_date() -> str:
    year = "CAST(p.year_of_birth AS BIGINT)"
    month = "CAST(COALESCE(p.month_of_birth, 1) AS BIGINT)"
    day = "CAST(COALESCE(p.day_of_birth, 1) AS BIGINT)"
    return f"COALESCE(CAST(p.birth_datetime AS DATE), make_date({year}, {month}, {day}))"


def _completed_years(on: str, born: str) -> str:
    """Age in completed years on day ``on`` (plain arithmetic: every engine has it)."""
    day_of_year = "(EXTRACT(MONTH FROM {d}) * 100 + EXTRACT(DAY FROM {d}))"
    before_birthday = f"{day_of_year.format(d=on)} < {day_of_year.format(d=born)}"
    return (
        f"(EXTRACT(YEAR FROM {on}) - EXTRACT(YEAR FROM {born}) "
        f"- CASE WHEN {before_birthday} THEN 1 ELSE 0 END)"
    )


def population_statements(
    scope: Scope, reference: date, *, with_conditions: bool, with_ancestors: bool
) -> list[str]:
    """Statements creating the temporary table ``extract_population(person_id)``.

    ``with_conditions``/``with_ancestors``: whether ``condition_occurrence`` and
    ``concept_ancestor`` are in the snapshot (without conditions nobody matches a
    condition criterion; without ancestors only the listed concepts themselves match)."""
    population = scope.population
    statements: list[str] = []
    where = ["p.person_id IS NOT NULL"]
    if population.sex:
        codes = ", ".join(str(GENDER[s]) for s in population.sex)
        where.append(f"p.gender_concept_id IN ({codes})")
    if population.age_min is not None or population.age_max is not None:
        age = _completed_years(_date(reference), _birth_date())
        if population.age_min is not None:
            where.append(f"{age} >= {population.age_min}")
        if population.age_max is not None:
            where.append(f"{age} <= {population.age_max}")
    if population.conditions:
        listed = ", ".join(str(c) for c in population.conditions)
        rows = ", ".join(f"({c})" for c in population.conditions)
        select = f"SELECT CAST(c AS BIGINT) AS concept_id FROM (VALUES {rows}) AS v(c)"
        if with_ancestors:
            select += (
                " UNION SELECT descendant_concept_id FROM concept_ancestor "
                f"WHERE ancestor_concept_id IN ({listed})"
            )
        statements.append(f"CREATE TEMP TABLE {CONDITIONS} AS {select}")
        if with_conditions:
            where.append(
                "p.person_id IN (SELECT co.person_id FROM condition_occurrence AS co "
                f"WHERE co.condition_concept_id IN (SELECT concept_id FROM {CONDITIONS}) "
                f"OR co.condition_source_concept_id IN (SELECT concept_id FROM {CONDITIONS}))"
            )
        else:
            where.append("FALSE")
    statements.append(
        f"CREATE TEMP TABLE {POPULATION} AS SELECT DISTINCT p.person_id FROM person AS p "
        f"WHERE {' AND '.join(where)}"
    )
    return statements


def table_query(table: str, columns: Sequence[str], available: Sequence[str], scope: Scope) -> str:
    """The SELECT that materialises ``columns`` of ``table`` within the perimeter.

    ``columns`` must be among ``available``, the columns of the table in the snapshot."""
    check_restrictable(table)
    start, end = scope.period_start, scope.period_end
    have = set(available)
    interval = INTERVALS.get(table) if "person_id" in have else None
    items = []
    for column in columns:
        if column not in have:
            raise ExtractError(f"the warehouse's {table} table has no column {column}")
        if interval and column == interval[0] and start is not None:
            items.append(f"GREATEST(t.{q(column)}, {_date(start)}) AS {q(column)}")
        elif interval and column == interval[1] and end is not None:
            items.append(f"LEAST(t.{q(column)}, {_date(end)}) AS {q(column)}")
        else:
            items.append(f"t.{q(column)}")
    where: list[str] = []
    if "person_id" in have:
        where.append(f"t.person_id IN (SELECT person_id FROM {POPULATION})")
        event = EVENT_DATES.get(table)
        if interval:
            first, last = (q(c) for c in interval)
            if start is not None:
                where.append(f"COALESCE(t.{last}, t.{first}) >= {_date(start)}")
            if end is not None:
                where.append(f"t.{first} <= {_date(end)}")
        elif event and event in have:
            if start is not None:
                where.append(f"t.{q(event)} >= {_date(start)}")
            if end is not None:
                where.append(f"t.{q(event)} <= {_date(end)}")
    sql = f"SELECT {', '.join(items)} FROM {q(table)} AS t"
    return sql + (f" WHERE {' AND '.join(where)}" if where else "")
