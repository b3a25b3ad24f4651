"""Incidence rates of an outcome in a cohort, per 1,000 person-years, with exact Poisson
confidence intervals; overall and by age band, sex and calendar year.

Time at risk runs from cohort start to cohort end, both days included, and stops at the
first outcome (an outcome cohort's start date) in that period. Entries with an outcome
before their start are left out (``exclude_prior_outcome``: rates of new cases). Age is
taken at cohort start; calendar years split each person's time at risk, and an event
counts in the year it happens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.cohorts import Cohort
from bastide.studies import data, plots
from bastide.studies.errors import StudyError
from bastide.studies.results import TOTAL, AnalysisOutput, Figure, OutputTable
from bastide.studies.stats import (
    DAYS_PER_YEAR,
    DEFAULT_AGE_BANDS,
    Estimate,
    age_band,
    age_band_labels,
    incidence_rate,
    sex_label,
)

if TYPE_CHECKING:
    from bastide.engines import Engine

STRATA = ("age_band", "sex", "year")
RATES_SCHEMA = pa.schema(
    [
        ("stratum_type", pa.string()),
        ("stratum", pa.string()),
        ("persons", pa.int64()),
        ("events", pa.int64()),
        ("person_years", pa.float64()),
        ("rate", pa.float64()),
        ("lower", pa.float64()),
        ("upper", pa.float64()),
    ]
)


@dataclass(frozen=True)
class AtRisk:
    """One entry's time at risk: days from start to stop (both included), event or not."""

    person_id: int
    start: date
    stop: date
    event: bool
    age: int | None
    sex: str

    @property
    def days(self) -> int:
        return (self.stop - self.start).days + 1


@dataclass(frozen=True)
class IncidenceResult:
    rates: pa.Table  # stratum_type, stratum, persons, events, person_years, rate, lower, upper
    per: float
    excluded_prior_outcome: int
    cohort: str
    outcome: str

    @property
    def overall(self) -> Estimate:
        row = self.rates.slice(0, 1).to_pylist()[0]
        return Estimate(row["rate"], row["lower"], row["upper"])

    def to_output(self, name: str, title: str = "Incidence") -> AnalysisOutput:
        """One rate table per stratification, each with its ``Total`` row (the overall
        rate), as the disclosure checks read margins."""
        rows = self.rates.to_pylist()
        overall = {k: v for k, v in rows[0].items() if k not in ("stratum_type", "stratum")}
        kinds = list(dict.fromkeys(r["stratum_type"] for r in rows[1:])) or ["overall"]
        tables = []
        for kind in kinds:
            dim = "stratum" if kind == "overall" else kind
            part = [
                {dim: r["stratum"], **{k: v for k, v in r.items() if k in overall}}
                for r in rows[1:]
                if r["stratum_type"] == kind
            ]
            table = pa.Table.from_pylist(
                [*part, {dim: TOTAL, **overall}],
                schema=pa.schema([(dim, pa.string()), *list(RATES_SCHEMA)[2:]]),
            )
            tables.append(
                OutputTable(
                    f"{name}.{kind}",
                    f"Incidence of {self.outcome} in {self.cohort}"
                    + ("" if kind == "overall" else f" by {kind.replace('_', ' ')}")
                    + f", per {self.per:,.0f} person-years (exact 95% CI)",
                    table,
                    count_columns=("persons", "events"),
                    statistic_columns=("person_years", "rate", "lower", "upper"),
                    kind="rate",
                    dims=(dim,),
                    population=self.cohort,
                )
            )
        years = [r for r in rows if r["stratum_type"] == "year"]
        figures = []
        if years:
            figures.append(
                Figure(
                    f"{name}.year_plot",
                    "Incidence by calendar year",
                    plots.estimates(
                        [r["stratum"] for r in years],
                        [r["rate"] for r in years],
                        [r["lower"] for r in years],
                        [r["upper"] for r in years],
                        title=f"Incidence of {self.outcome} by calendar year (95% CI)",
                        ylabel=f"per {self.per:,.0f} person-years",
                    ),
                    tables=(f"{name}.year",),
                )
            )
        notes = (
            f"{self.excluded_prior_outcome} entries with the outcome before cohort start left out."
            if self.excluded_prior_outcome
            else "",
        )
        return AnalysisOutput(
            name, "incidence", title, tuple(tables), tuple(figures), tuple(n for n in notes if n)
        )


def time_at_risk(rows: Iterable[dict[str, Any]]) -> list[AtRisk]:
    return [
        AtRisk(
            person_id=r["person_id"],
            start=r["cohort_start_date"],
            stop=r["outcome_date"] if r["outcome_date"] is not None else r["cohort_end_date"],
            event=r["outcome_date"] is not None,
            age=r["age"],
            sex=sex_label(r["gender_concept_id"]),
        )
        for r in rows
    ]


def follow_up_rows(
    engine: Engine, cohort: Cohort, outcome: Cohort, *, exclude_prior_outcome: bool
) -> tuple[list[dict[str, Any]], int]:
    with data.registered(engine, [cohort, outcome]) as (cohort_name, outcome_name):
        rows = data.follow_up(engine, cohort_name, outcome_name).to_pylist()
    if not exclude_prior_outcome:
        return rows, 0
    kept = [r for r in rows if not r["prior_outcome"]]
    return kept, len(rows) - len(kept)


def incidence(
    engine: Engine,
    cohort: Cohort,
    outcome: Cohort,
    *,
    strata: Sequence[str] = STRATA,
    age_bands: Sequence[int] = DEFAULT_AGE_BANDS,
    exclude_prior_outcome: bool = True,
    per: float = 1000.0,
) -> IncidenceResult:
    unknown = [s for s in strata if s not in STRATA]
    if unknown:
        raise StudyError(f"unknown strata {unknown} (expected some of {', '.join(STRATA)})")
    rows, excluded = follow_up_rows(
        engine, cohort, outcome, exclude_prior_outcome=exclude_prior_outcome
    )
    spans = time_at_risk(rows)
    out = [_row("overall", "all", spans, per)]
    if "age_band" in strata:
        by_band: dict[str, list[AtRisk]] = defaultdict(list)
        for s in spans:
            by_band[age_band(s.age, age_bands)].append(s)
        for label in [*age_band_labels(age_bands), "unknown"]:
            if label != "unknown" or by_band[label]:
                out.append(_row("age_band", label, by_band[label], per))
    if "sex" in strata:
        by_sex: dict[str, list[AtRisk]] = defaultdict(list)
        for s in spans:
            by_sex[s.sex].append(s)
        for label in ("female", "male", "other or unknown"):
            if label != "other or unknown" or by_sex[label]:
                out.append(_row("sex", label, by_sex[label], per))
    if "year" in strata:
        out.extend(_by_year(spans, per))
    return IncidenceResult(
        pa.Table.from_pylist(out, schema=RATES_SCHEMA), per, excluded, cohort.name, outcome.name
    )


def _row(kind: str, label: str, spans: Sequence[AtRisk], per: float) -> dict[str, Any]:
    events = sum(s.event for s in spans)
    person_years = sum(s.days for s in spans) / DAYS_PER_YEAR
    return _rate_row(kind, label, len({s.person_id for s in spans}), events, person_years, per)


def _rate_row(
    kind: str, label: str, persons: int, events: int, person_years: float, per: float
) -> dict[str, Any]:
    rate = incidence_rate(events, person_years, per=per)
    return {
        "stratum_type": kind,
        "stratum": label,
        "persons": persons,
        "events": events,
        "person_years": round(person_years, 4),
        "rate": rate.value,
        "lower": rate.lower,
        "upper": rate.upper,
    }


def _by_year(spans: Sequence[AtRisk], per: float) -> list[dict[str, Any]]:
    days: dict[int, int] = defaultdict(int)
    events: dict[int, int] = defaultdict(int)
    persons: dict[int, set[int]] = defaultdict(set)
    for s in spans:
        for year in range(s.start.year, s.stop.year + 1):
            first = max(s.start, date(year, 1, 1))
            last = min(s.stop, date(year, 12, 31))
            days[year] += (last - first + timedelta(days=1)).days
            persons[year].add(s.person_id)
        if s.event:
            events[s.stop.year] += 1
    return [
        _rate_row("year", str(y), len(persons[y]), events[y], days[y] / DAYS_PER_YEAR, per)
        for y in sorted(days)
    ]
