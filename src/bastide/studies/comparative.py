"""Comparative new-user study of an outcome between two drug cohorts (target versus
comparator): crude incidence rate ratio with its exact interval, Kaplan-Meier curves, and
Cox hazard ratios (crude, and adjusted for age and sex when asked).

Each cohort's entries are followed from cohort start to cohort end (on treatment when the
cohorts end with exposure) until the first outcome. By default each person's first entry
is kept, persons in both cohorts are left out, and so are entries with the outcome
before their start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.cohorts import Cohort
from bastide.studies import data, plots
from bastide.studies.errors import StudyError
from bastide.studies.results import AnalysisOutput, Figure, OutputTable
from bastide.studies.stats import DAYS_PER_YEAR, Estimate, incidence_rate, rate_ratio
from bastide.studies.survival import CoxTerm, KaplanMeier, cox_model, kaplan_meier, logrank_p

if TYPE_CHECKING:
    from bastide.engines import Engine

ADJUSTMENTS = ("age", "sex")
KM_DAYS = (30, 90, 180, 365)


@dataclass(frozen=True)
class Subject:
    person_id: int
    arm: int  # 1 target, 0 comparator
    days: int
    event: bool
    age: int | None
    female: int | None


@dataclass(frozen=True)
class Comparison:
    target: str
    comparator: str
    outcome: str
    attrition: pa.Table  # step, target, comparator
    arms: pa.Table  # arm, cohort, persons, events, person_years, rate, lower, upper
    rate_ratio: Estimate
    cox: pa.Table  # model, term, hazard_ratio, lower, upper, p
    crude_hazard_ratio: CoxTerm | None
    adjusted_hazard_ratio: CoxTerm | None
    km_curve: pa.Table  # arm, day, at_risk, events, survival, lower, upper
    km_at: pa.Table  # arm, day, at_risk, survival, lower, upper
    logrank_p: float
    notes: tuple[str, ...] = ()

    @property
    def hazard_ratio(self) -> CoxTerm | None:
        """The adjusted hazard ratio when one was estimated, else the crude one."""
        return self.adjusted_hazard_ratio or self.crude_hazard_ratio

    def to_output(self, name: str, title: str | None = None) -> AnalysisOutput:
        title = title or f"{self.outcome}: {self.target} versus {self.comparator}"
        population = f"{self.target}.vs.{self.comparator}"
        irr = pa.Table.from_pylist(
            [
                {
                    "target": self.target,
                    "comparator": self.comparator,
                    "rate_ratio": self.rate_ratio.value,
                    "lower": self.rate_ratio.lower,
                    "upper": self.rate_ratio.upper,
                    "logrank_p": self.logrank_p,
                }
            ]
        )
        curve = OutputTable(
            f"{name}.km_curve",
            "Kaplan-Meier curves",
            self.km_curve,
            count_columns=("at_risk", "events"),
            statistic_columns=("survival", "lower", "upper"),
            kind="survival",
            dims=("arm",),
            time="day",
            population=population,
        )
        tables = (
            OutputTable(
                f"{name}.attrition",
                "Persons in each arm after each step",
                self.attrition,
                count_columns=("target", "comparator"),
                kind="frequency",
                dims=("step",),
                population=population,
            ),
            OutputTable(
                f"{name}.arms",
                "Events and incidence rates per 1,000 person-years (exact 95% CI)",
                self.arms,
                count_columns=("persons", "events"),
                statistic_columns=("person_years", "rate", "lower", "upper"),
                kind="rate",
                dims=("arm", "cohort"),
                population=population,
            ),
            OutputTable(
                f"{name}.rate_ratio",
                "Crude incidence rate ratio (exact conditional 95% CI) and log-rank test",
                irr,
                statistic_columns=("rate_ratio", "lower", "upper", "logrank_p"),
            ),
            OutputTable(
                f"{name}.cox",
                "Cox proportional-hazards models (hazard ratios, Wald 95% CI)",
                self.cox,
                statistic_columns=("hazard_ratio", "lower", "upper", "p"),
            ),
            OutputTable(
                f"{name}.km_at",
                "Outcome-free survival at fixed days (Kaplan-Meier, 95% CI)",
                self.km_at,
                count_columns=("at_risk",),
                statistic_columns=("survival", "lower", "upper"),
            ),
            curve,
        )
        curves = []
        for label in (self.target, self.comparator):
            rows = [r for r in self.km_curve.to_pylist() if r["arm"] == label]
            curves.append(
                plots.Curve(
                    label,
                    [r["day"] for r in rows],
                    [r["survival"] for r in rows],
                    [r["lower"] for r in rows],
                    [r["upper"] for r in rows],
                )
            )
        figure = Figure(
            f"{name}.km_plot",
            "Kaplan-Meier curves",
            plots.step_curves(
                curves,
                title=f"Free of {self.outcome} (Kaplan-Meier, 95% CI)",
                xlabel="days since cohort start",
                ylabel="probability without the outcome",
            ),
            tables=(curve.name,),
        )
        return AnalysisOutput(name, "comparative", title, tables, (figure,), self.notes)


def compare(
    engine: Engine,
    target: Cohort,
    comparator: Cohort,
    outcome: Cohort,
    *,
    adjust: Sequence[str] = (),
    first_entry_only: bool = True,
    exclude_in_both: bool = True,
    exclude_prior_outcome: bool = True,
    km_days: Sequence[int] = KM_DAYS,
) -> Comparison:
    unknown = [a for a in adjust if a not in ADJUSTMENTS]
    if unknown:
        raise StudyError(f"cannot adjust for {unknown} (expected some of {', '.join(ADJUSTMENTS)})")
    with data.registered(engine, [target, comparator, outcome]) as (t, c, o):
        arms = [data.follow_up(engine, t, o).to_pylist(), data.follow_up(engine, c, o).to_pylist()]
    steps = [("cohort entries", len(arms[0]), len(arms[1]))]
    if first_entry_only:
        arms = [_first_entries(rows) for rows in arms]
        steps.append(("first entry of each person", len(arms[0]), len(arms[1])))
    if exclude_in_both:
        both = {r["person_id"] for r in arms[0]} & {r["person_id"] for r in arms[1]}
        arms = [[r for r in rows if r["person_id"] not in both] for rows in arms]
        steps.append(("not in both cohorts", len(arms[0]), len(arms[1])))
    if exclude_prior_outcome:
        arms = [[r for r in rows if not r["prior_outcome"]] for rows in arms]
        steps.append(("no outcome before cohort start", len(arms[0]), len(arms[1])))
    subjects = [_subject(r, 1) for r in arms[0]] + [_subject(r, 0) for r in arms[1]]
    names = {1: target.name, 0: comparator.name}
    notes: list[str] = []

    arm_rows = []
    totals = {}
    for arm in (1, 0):
        group = [s for s in subjects if s.arm == arm]
        events = sum(s.event for s in group)
        person_years = sum(s.days for s in group) / DAYS_PER_YEAR
        totals[arm] = (events, person_years)
        rate = incidence_rate(events, person_years)
        arm_rows.append(
            {
                "arm": "target" if arm else "comparator",
                "cohort": names[arm],
                "persons": len({s.person_id for s in group}),
                "events": events,
                "person_years": round(person_years, 4),
                "rate": rate.value,
                "lower": rate.lower,
                "upper": rate.upper,
            }
        )
    irr = rate_ratio(totals[1][0], totals[1][1], totals[0][0], totals[0][1])

    curves: list[dict[str, Any]] = []
    fixed: list[dict[str, Any]] = []
    kms: dict[int, KaplanMeier] = {}
    for arm in (1, 0):
        group = [s for s in subjects if s.arm == arm]
        km = kaplan_meier([s.days for s in group], [s.event for s in group])
        kms[arm] = km
        for row in km.table().to_pylist():
            curves.append({"arm": names[arm], **row})
        for day in km_days:
            fixed.append({"arm": names[arm], "day": day, **km.at(day, "survival")})
    group1 = [s for s in subjects if s.arm == 1]
    group0 = [s for s in subjects if s.arm == 0]
    p_logrank = logrank_p(
        [s.days for s in group1], [s.event for s in group1],
        [s.days for s in group0], [s.event for s in group0],
    )  # fmt: skip

    crude, adjusted, cox_rows = _cox(subjects, adjust, notes)
    return Comparison(
        target=target.name,
        comparator=comparator.name,
        outcome=outcome.name,
        attrition=pa.Table.from_pylist(
            [{"step": s, "target": a, "comparator": b} for s, a, b in steps],
            schema=pa.schema(
                [("step", pa.string()), ("target", pa.int64()), ("comparator", pa.int64())]
            ),
        ),
        arms=pa.Table.from_pylist(arm_rows),
        rate_ratio=irr,
        cox=pa.Table.from_pylist(
            cox_rows,
            schema=pa.schema(
                [
                    ("model", pa.string()),
                    ("term", pa.string()),
                    ("hazard_ratio", pa.float64()),
                    ("lower", pa.float64()),
                    ("upper", pa.float64()),
                    ("p", pa.float64()),
                ]
            ),
        ),
        crude_hazard_ratio=crude,
        adjusted_hazard_ratio=adjusted,
        km_curve=pa.Table.from_pylist(
            curves,
            schema=pa.schema(
                [
                    ("arm", pa.string()),
                    ("day", pa.float64()),
                    ("at_risk", pa.int64()),
                    ("events", pa.int64()),
                    ("survival", pa.float64()),
                    ("lower", pa.float64()),
                    ("upper", pa.float64()),
                ]
            ),
        ),
        km_at=pa.Table.from_pylist(
            fixed,
            schema=pa.schema(
                [
                    ("arm", pa.string()),
                    ("day", pa.int64()),
                    ("at_risk", pa.int64()),
                    ("survival", pa.float64()),
                    ("lower", pa.float64()),
                    ("upper", pa.float64()),
                ]
            ),
        ),
        logrank_p=p_logrank,
        notes=tuple(notes),
    )


def _first_entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first: dict[int, dict[str, Any]] = {}
    for r in rows:
        kept = first.get(r["person_id"])
        if kept is None or r["cohort_start_date"] < kept["cohort_start_date"]:
            first[r["person_id"]] = r
    return [first[p] for p in sorted(first)]


def _subject(row: dict[str, Any], arm: int) -> Subject:
    stop = row["outcome_date"] if row["outcome_date"] is not None else row["cohort_end_date"]
    sex = row["gender_concept_id"]
    return Subject(
        person_id=row["person_id"],
        arm=arm,
        days=(stop - row["cohort_start_date"]).days + 1,
        event=row["outcome_date"] is not None,
        age=row["age"],
        female=None if sex not in (8507, 8532) else int(sex == 8532),
    )


def _cox(
    subjects: list[Subject], adjust: Sequence[str], notes: list[str]
) -> tuple[CoxTerm | None, CoxTerm | None, list[dict[str, Any]]]:
    rows: list[dict[str, Any]] = []
    models: list[tuple[str, tuple[str, ...]]] = [("crude", ())]
    if adjust:
        models.append(("adjusted for " + " and ".join(adjust), tuple(adjust)))
    found: list[CoxTerm | None] = []
    for label, covariates in models:
        columns = ["treatment", *("female" if c == "sex" else c for c in covariates)]
        data_rows = [
            {
                "duration": float(s.days),
                "event": int(s.event),
                "treatment": s.arm,
                "age": s.age,
                "female": s.female,
            }
            for s in subjects
        ]
        complete = [r for r in data_rows if all(r[c] is not None for c in columns)]
        if len(complete) < len(data_rows):
            notes.append(
                f"{label}: {len(data_rows) - len(complete)} entries without "
                f"{'/'.join(columns[1:])} left out."
            )
        kept = [c for c in columns if len({r[c] for r in complete}) > 1]
        if "treatment" not in kept or not any(r["event"] for r in complete):
            notes.append(f"{label}: no hazard ratio (one arm or no event).")
            found.append(None)
            continue
        dropped = [c for c in columns if c not in kept]
        if dropped:
            notes.append(f"{label}: {', '.join(dropped)} constant, left out of the model.")
        try:
            terms = cox_model(
                [{k: r[k] for k in ("duration", "event", *kept)} for r in complete], kept
            )
        except Exception as exc:  # lifelines convergence failures on degenerate data
            notes.append(f"{label}: the Cox model did not converge ({type(exc).__name__}).")
            found.append(None)
            continue
        for t in terms:
            rows.append(
                {
                    "model": label,
                    "term": t.term,
                    "hazard_ratio": t.hazard_ratio,
                    "lower": t.lower,
                    "upper": t.upper,
                    "p": t.p,
                }
            )
        found.append(terms[0])
    crude = found[0]
    adjusted = found[1] if len(found) > 1 else None
    if crude is not None and not math.isfinite(crude.hazard_ratio):
        notes.append("crude: the hazard ratio is not finite.")
    return crude, adjusted, rows
