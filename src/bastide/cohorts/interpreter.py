"""The reference interpreter: a cohort definition evaluated in plain Python over tables
given as lists of dict rows. It defines the right answer; engines must agree with it
(spec tests and the generative test check that they do).

It is written to be read, not to be fast: every rule of `bastide.cohorts.model` is a
few lines below, in the order the compiler applies them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bastide.cohorts.domains import DOMAINS
from bastide.cohorts.model import (
    AgeCriterion,
    CohortDefinition,
    Concept,
    ConceptSet,
    Criterion,
    EventCriterion,
    Events,
    ExposureEndExit,
    FixedExit,
    IndexDateCriterion,
    SexCriterion,
)

Row = Mapping[str, Any]
Tables = Mapping[str, Sequence[Row]]
CohortRow = tuple[int, date, date]


@dataclass(frozen=True)
class Attrition:
    step: int
    criterion: str
    persons: int
    entries: int


@dataclass(frozen=True)
class InterpretedCohort:
    rows: tuple[CohortRow, ...]  # (person_id, cohort_start_date, cohort_end_date), sorted
    attrition: tuple[Attrition, ...]


@dataclass
class _Entry:
    person_id: int
    index: date
    op: tuple[date, date] | None
    flags: list[bool]
    end: date | None = None


def attrition_labels(definition: CohortDefinition) -> list[str]:
    """The name of each step of the attrition table."""
    first = "first" if definition.entry.occurrence == "first" else "every"
    obs = definition.observation
    return [
        f"entry: {first} qualifying event",
        f"in observation ({obs.prior_days} days before, {obs.post_days} after)",
        *(c.name for c in definition.inclusion),
    ]


def interpret(definition: CohortDefinition, tables: Tables) -> InterpretedCohort:
    """The cohort ``definition`` over ``tables`` (OMOP table name → list of rows)."""
    return _Interpreter(definition, tables).run()


class _Interpreter:
    def __init__(self, definition: CohortDefinition, tables: Tables) -> None:
        self.d = definition
        self.tables = tables
        self.sets = {cs.name: resolve_concept_set(cs, tables) for cs in definition.concept_sets}
        self._eras: dict[int, list[tuple[date, date]]] | None = None

    def rows(self, table: str) -> Sequence[Row]:
        return self.tables.get(table, ())

    # -- events -------------------------------------------------------------------------------
    def events(self, ev: Events) -> list[tuple[int, date, Row]]:
        """(person_id, event date, row) of every event matching ``ev``."""
        dom = DOMAINS[ev.domain]
        concepts = self.sets[ev.concept_set] if ev.concept_set is not None else None
        out = []
        for row in self.rows(dom.table):
            person, day = row.get("person_id"), row.get(dom.start)
            if person is None or day is None:
                continue
            if concepts is not None and not (
                row.get(dom.source_concept) in concepts or row.get(dom.concept) in concepts
            ):
                continue
            if ev.type_concept_ids and row.get(dom.type_concept or "") not in ev.type_concept_ids:
                continue
            if ev.value_min is not None or ev.value_max is not None:
                value = row.get(dom.value or "")
                if value is None:
                    continue
                if ev.value_min is not None and value < ev.value_min:
                    continue
                if ev.value_max is not None and value > ev.value_max:
                    continue
            out.append((person, day, row))
        return out

    def by_person(self, ev: Events) -> dict[int, list[date]]:
        out: dict[int, list[date]] = defaultdict(list)
        for person, day, _ in self.events(ev):
            out[person].append(day)
        return out

    # -- steps --------------------------------------------------------------------------------
    def entries(self) -> list[_Entry]:
        dates: dict[int, set[date]] = defaultdict(set)
        for ev in self.d.entry.events:
            for person, day, _ in self.events(ev):
                dates[person].add(day)
        chosen = (
            [(p, min(ds)) for p, ds in dates.items()]
            if self.d.entry.occurrence == "first"
            else [(p, day) for p, ds in dates.items() for day in ds]
        )
        periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
        for row in self.rows("observation_period"):
            start, end = (
                row.get("observation_period_start_date"),
                row.get("observation_period_end_date"),
            )
            if row.get("person_id") is not None and start is not None and end is not None:
                periods[row["person_id"]].append((start, end))
        entries = []
        for person, index in sorted(chosen):
            containing = [(s, e) for s, e in periods[person] if s <= index <= e]
            # The period that starts first (then the one that ends last) holds the index.
            containing.sort(key=lambda p: (p[0], -p[1].toordinal()))
            entries.append(_Entry(person, index, containing[0] if containing else None, []))
        return entries

    def in_observation(self, e: _Entry) -> bool:
        if e.op is None:
            return False
        obs = self.d.observation
        return (e.index - e.op[0]).days >= obs.prior_days and (
            e.op[1] - e.index
        ).days >= obs.post_days

    def criterion(self, c: Criterion) -> Any:
        """A predicate over entries."""
        if isinstance(c, EventCriterion):
            events = self.by_person(c.events)

            def count(e: _Entry) -> bool:
                n = 0
                for day in events.get(e.person_id, ()):
                    if not c.window.contains((day - e.index).days):
                        continue
                    if not c.ignore_observation_period and (
                        e.op is None or not e.op[0] <= day <= e.op[1]
                    ):
                        continue
                    n += 1
                return c.count.accepts(n)

            return count
        persons = {r["person_id"]: r for r in self.rows("person") if r.get("person_id") is not None}
        if isinstance(c, AgeCriterion):

            def age_ok(e: _Entry) -> bool:
                age = age_at(e.index, persons.get(e.person_id))
                if age is None:
                    return False
                return (c.min is None or age >= c.min) and (c.max is None or age <= c.max)

            return age_ok
        if isinstance(c, SexCriterion):
            return lambda e: (
                (persons.get(e.person_id) or {}).get("gender_concept_id") in c.concept_ids
            )
        assert isinstance(c, IndexDateCriterion)
        return lambda e: (
            (c.start is None or e.index >= c.start) and (c.end is None or e.index <= c.end)
        )

    def exit_date(self, e: _Entry) -> date:
        assert e.op is not None
        rule = self.d.exit.rule
        if isinstance(rule, FixedExit):
            end = e.index + timedelta(days=rule.days)
        elif isinstance(rule, ExposureEndExit):
            end = e.index
            for start, stop in self.eras(rule).get(e.person_id, ()):
                if start <= e.index <= stop:
                    end = stop + timedelta(days=rule.extend_days)
        else:
            end = e.op[1]
        end = min(end, e.op[1])
        if self.d.exit.censor_at_death:
            deaths = [
                r["death_date"]
                for r in self.rows("death")
                if r.get("person_id") == e.person_id
                and r.get("death_date") is not None
                and r["death_date"] >= e.index
            ]
            if deaths:
                end = min(end, min(deaths))
        for ev in self.d.exit.censor:
            later = [day for day in self.by_person(ev).get(e.person_id, ()) if day >= e.index]
            if later:
                end = min(end, min(later))
        return end

    def eras(self, rule: ExposureEndExit) -> dict[int, list[tuple[date, date]]]:
        """Exposure eras by person: exposures merged across gaps of ``gap_days`` days
        without supply (a next start at most gap_days + 1 days after the latest end)."""
        if self._eras is None:
            exposures: dict[int, list[tuple[date, date]]] = defaultdict(list)
            for person, start, row in self.events(Events("drug_exposure", rule.concept_set)):
                exposures[person].append((start, exposure_end(row)))
            self._eras = {
                p: merge_periods(spans, rule.gap_days + 1) for p, spans in exposures.items()
            }
        return self._eras

    def run(self) -> InterpretedCohort:
        entries = self.entries()
        predicates = [self.in_observation, *(self.criterion(c) for c in self.d.inclusion)]
        for e in entries:
            e.flags = [bool(p(e)) for p in predicates]
        attrition = [
            Attrition(
                0, attrition_labels(self.d)[0], len({e.person_id for e in entries}), len(entries)
            )
        ]
        for step, label in enumerate(attrition_labels(self.d)[1:], start=1):
            kept = [e for e in entries if all(e.flags[:step])]
            attrition.append(Attrition(step, label, len({e.person_id for e in kept}), len(kept)))
        periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
        for e in entries:
            if all(e.flags):
                periods[e.person_id].append((e.index, self.exit_date(e)))
        rows = [
            (person, start, end)
            for person, spans in sorted(periods.items())
            for start, end in merge_periods(spans, self.d.collapse_days)
        ]
        return InterpretedCohort(tuple(rows), tuple(attrition))


# -- shared definitions ---------------------------------------------------------------------


def resolve_concept_set(cs: ConceptSet, tables: Tables) -> frozenset[int]:
    """The concept ids of a concept set: its included concepts (and their descendants in
    CONCEPT_ANCESTOR where asked) minus its excluded ones."""

    def ids(items: Iterable[Concept]) -> set[int]:
        out: set[int] = set()
        for c in items:
            if c.concept_id is not None:
                base = {c.concept_id}
            else:
                base = {
                    r["concept_id"]
                    for r in tables.get("concept", ())
                    if r.get("vocabulary_id") == c.vocabulary
                    and r.get("concept_code") == c.code
                    and r.get("concept_id") is not None
                }
            out |= base
            if c.descendants:
                out |= {
                    r["descendant_concept_id"]
                    for r in tables.get("concept_ancestor", ())
                    if r.get("ancestor_concept_id") in base
                    and r.get("descendant_concept_id") is not None
                }
        return out

    included = ids(c for c in cs.concepts if not c.exclude)
    excluded = ids(c for c in cs.concepts if c.exclude)
    return frozenset(included - excluded)


def age_at(day: date, person: Row | None) -> int | None:
    """Completed years at ``day``; a missing birth month or day counts as January / 1."""
    if person is None or person.get("year_of_birth") is None:
        return None
    month = person.get("month_of_birth") or 1
    dom = person.get("day_of_birth") or 1
    before_birthday = day.month * 100 + day.day < month * 100 + dom
    return int(day.year - person["year_of_birth"] - (1 if before_birthday else 0))


def exposure_end(row: Row) -> date:
    """Last day of a drug exposure: its end date, else start + days_supply − 1, else its
    start; never before its start."""
    start: date = row["drug_exposure_start_date"]
    end = row.get("drug_exposure_end_date")
    if end is None:
        supply = row.get("days_supply")
        end = start + timedelta(days=supply - 1) if supply is not None and supply >= 1 else start
    return max(start, end)


def merge_periods(spans: Iterable[tuple[date, date]], pad: int) -> list[tuple[date, date]]:
    """Periods sorted and merged when the next one starts at most ``pad`` days after the
    latest end so far (0: overlapping or on the same day)."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted(spans):
        if merged and (start - merged[-1][1]).days <= pad:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
