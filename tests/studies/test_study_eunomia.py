"""Cohorts and analyses on data nobody here wrote: Eunomia's Synthea 27 NJ OMOP database
(28 persons, SNOMED and RxNorm concepts, an empty CONCEPT_ANCESTOR). Each fact is worked
out again from the CSV files with the csv module alone, and the engine must also agree
with the reference interpreter."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from bastide.cohorts import (
    AgeCriterion,
    CohortDefinition,
    Concept,
    ConceptSet,
    Entry,
    Events,
    Exit,
    FixedExit,
    Observation,
    build_cohort,
    interpret,
)
from bastide.engines import Engine
from bastide.studies import characterise, incidence
from bastide.studies.stats import DAYS_PER_YEAR

SINUSITIS = "444814009"  # SNOMED Viral sinusitis (concept 40481087)
BRONCHITIS = 260139  # SNOMED Acute bronchitis, by concept id
ACETAMINOPHEN = 1127433  # RxNorm acetaminophen 325 MG Oral Tablet


def rows(directory: Path, table: str) -> list[dict[str, str]]:
    with (directory / f"{table.upper()}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def day(text: str) -> date:
    return date.fromisoformat(text[:10])


class Truth:
    """Eunomia read with the csv module: nothing of bastide in between."""

    def __init__(self, directory: Path) -> None:
        self.periods: dict[int, list[tuple[date, date]]] = defaultdict(list)
        for r in rows(directory, "observation_period"):
            self.periods[int(r["person_id"])].append(
                (day(r["observation_period_start_date"]), day(r["observation_period_end_date"]))
            )
        self.deaths = {int(r["person_id"]): day(r["death_date"]) for r in rows(directory, "death")}
        self.persons = {int(r["person_id"]): r for r in rows(directory, "person")}
        self.conditions = rows(directory, "condition_occurrence")
        self.drugs = rows(directory, "drug_exposure")
        self.visits = rows(directory, "visit_occurrence")
        self.concepts = rows(directory, "concept")

    def concept_id(self, vocabulary: str, code: str) -> int:
        (found,) = [
            int(c["concept_id"])
            for c in self.concepts
            if c["vocabulary_id"] == vocabulary and c["concept_code"] == code
        ]
        return found

    def first(
        self, events: list[dict[str, str]], column: str, date_column: str, concept: int | None
    ) -> dict[int, date]:
        firsts: dict[int, date] = {}
        for r in events:
            if concept is not None and int(r[column]) != concept:
                continue
            person, when = int(r["person_id"]), day(r[date_column])
            if person not in firsts or when < firsts[person]:
                firsts[person] = when
        return firsts

    def period_end(self, person: int, when: date) -> date | None:
        for start, end in self.periods[person]:
            if start <= when <= end:
                death = self.deaths.get(person)
                return min(end, death) if death is not None and death >= when else end
        return None

    def age(self, person: int, when: date) -> int:
        p = self.persons[person]
        born = (int(p["month_of_birth"] or 1), int(p["day_of_birth"] or 1))
        return when.year - int(p["year_of_birth"]) - ((when.month, when.day) < born)


@pytest.fixture(scope="module")
def truth(eunomia_dir: Path) -> Truth:
    return Truth(eunomia_dir)


def build(engine: Engine, eunomia: dict[str, pa.Table], definition: CohortDefinition) -> Any:
    for name, table in eunomia.items():
        engine.register(name, table)
    cohort = build_cohort(engine, definition)
    reference = interpret(definition, {n: t.to_pylist() for n, t in eunomia.items()})
    assert sorted(cohort.rows) == list(reference.rows)
    assert [(r["persons"], r["entries"]) for r in cohort.attrition.to_pylist()] == [
        (a.persons, a.entries) for a in reference.attrition
    ]
    return cohort


SINUSITIS_COHORT = CohortDefinition(
    "viral_sinusitis",
    Entry((Events("condition_occurrence", "sinusitis"),)),
    concept_sets=(ConceptSet("sinusitis", (Concept("SNOMED", SINUSITIS),)),),
    exit=Exit(),  # to the end of observation, or death
)


def test_first_viral_sinusitis_by_its_snomed_code(
    engine: Engine, eunomia: dict[str, pa.Table], truth: Truth
) -> None:
    cohort = build(engine, eunomia, SINUSITIS_COHORT)
    concept = truth.concept_id("SNOMED", SINUSITIS)
    firsts = truth.first(truth.conditions, "condition_concept_id", "condition_start_date", concept)
    expected = {
        (person, when, truth.period_end(person, when))
        for person, when in firsts.items()
        if truth.period_end(person, when) is not None
    }
    assert len(firsts) == 23  # persons with the diagnosis in CONDITION_OCCURRENCE.csv
    assert cohort.rows == expected
    assert cohort.attrition.column("persons").to_pylist() == [23, len(expected)]
    assert not cohort.warnings


def test_adults_with_a_year_of_prior_observation(
    engine: Engine, eunomia: dict[str, pa.Table], truth: Truth
) -> None:
    definition = CohortDefinition(
        "adult_sinusitis",
        Entry((Events("condition_occurrence", "sinusitis"),)),
        concept_sets=SINUSITIS_COHORT.concept_sets,
        observation=Observation(prior_days=365),
        inclusion=(AgeCriterion("adults", min=18),),
        exit=Exit(FixedExit(30)),
    )
    cohort = build(engine, eunomia, definition)
    concept = truth.concept_id("SNOMED", SINUSITIS)
    firsts = truth.first(truth.conditions, "condition_concept_id", "condition_start_date", concept)
    expected = set()
    for person, when in firsts.items():
        periods = [(s, e) for s, e in truth.periods[person] if s <= when <= e]
        if not periods or (when - periods[0][0]).days < 365 or truth.age(person, when) < 18:
            continue
        end = min(date.fromordinal(when.toordinal() + 30), truth.period_end(person, when))  # type: ignore[type-var]
        expected.add((person, when, end))
    assert cohort.rows == expected
    assert 0 < len(expected) < 23


def test_acetaminophen_users_by_concept_id(
    engine: Engine, eunomia: dict[str, pa.Table], truth: Truth
) -> None:
    definition = CohortDefinition(
        "acetaminophen",
        Entry((Events("drug_exposure", "acetaminophen"),), occurrence="all"),
        concept_sets=(
            ConceptSet("acetaminophen", (Concept(concept_id=ACETAMINOPHEN, descendants=False),)),
        ),
        exit=Exit(FixedExit(0)),
    )
    cohort = build(engine, eunomia, definition)
    dispensed = {
        (int(r["person_id"]), day(r["drug_exposure_start_date"]))
        for r in truth.drugs
        if int(r["drug_concept_id"]) == ACETAMINOPHEN
    }
    in_observation = {(p, d) for p, d in dispensed if truth.period_end(p, d) is not None}
    assert len({p for p, _ in dispensed}) == 15
    assert {(p, s) for p, s, _ in cohort.rows} == in_observation


def test_incidence_of_acute_bronchitis_from_the_first_visit(
    engine: Engine, eunomia: dict[str, pa.Table], truth: Truth
) -> None:
    # Everyone from their first visit to the end of observation (or death); the outcome:
    # each acute bronchitis diagnosis.
    followed = build(
        engine,
        eunomia,
        CohortDefinition("followed", Entry((Events("visit_occurrence"),)), exit=Exit()),
    )
    bronchitis = build(
        engine,
        eunomia,
        CohortDefinition(
            "bronchitis",
            Entry((Events("condition_occurrence", "b"),), occurrence="all"),
            concept_sets=(ConceptSet("b", (Concept(concept_id=BRONCHITIS),)),),
            exit=Exit(FixedExit(0)),
        ),
    )
    result = incidence(engine, followed, bronchitis, strata=("sex",))
    overall = result.rates.to_pylist()[0]
    # The same from the CSV files.
    visits = truth.first(truth.visits, "visit_concept_id", "visit_start_date", None)
    diagnoses = defaultdict(list)
    for r in truth.conditions:
        if int(r["condition_concept_id"]) == BRONCHITIS:
            diagnoses[int(r["person_id"])].append(day(r["condition_start_date"]))
    persons = events = days = excluded = 0
    for person, start in visits.items():
        end = truth.period_end(person, start)
        if end is None:
            continue
        if any(d < start for d in diagnoses[person]):
            excluded += 1
            continue
        after = sorted(d for d in diagnoses[person] if start <= d <= end)
        persons += 1
        events += bool(after)
        days += ((after[0] if after else end) - start).days + 1
    assert (overall["persons"], overall["events"]) == (persons, events)
    assert result.excluded_prior_outcome == excluded
    assert overall["person_years"] == pytest.approx(days / DAYS_PER_YEAR, abs=1e-4)
    assert overall["rate"] == pytest.approx(1000 * events / (days / DAYS_PER_YEAR))
    by_sex = {r["stratum"]: r for r in result.rates.to_pylist() if r["stratum_type"] == "sex"}
    assert by_sex["female"]["events"] + by_sex["male"]["events"] == events
    assert persons == 28 - excluded - sum(
        1 for p, s in visits.items() if truth.period_end(p, s) is None
    )


def test_table_1_of_the_sinusitis_cohort(
    engine: Engine, eunomia: dict[str, pa.Table], truth: Truth
) -> None:
    cohort = build(engine, eunomia, SINUSITIS_COHORT)
    result = characterise(engine, [cohort], window=(-365, -1), top=3)
    table = result.table1.to_pylist()
    total = next(r for r in table if (r["section"], r["characteristic"]) == ("sex", "Total"))
    assert total["n"] == cohort.table.num_rows
    women = next(r for r in table if (r["section"], r["characteristic"]) == ("sex", "female"))
    entries = {(p, s) for p, s, _ in cohort.rows}
    assert women["n"] == sum(
        1 for p, _ in entries if truth.persons[p]["gender_concept_id"] == "8532"
    )
    # The most frequent drug of the year before, counted again from DRUG_EXPOSURE.csv.
    drug = next(r for r in table if r["section"] == "drugs")
    users = {
        (p, s)
        for p, s in entries
        for r in truth.drugs
        if int(r["person_id"]) == p
        and int(r["drug_concept_id"]) == drug["concept_id"]
        and -365 <= (day(r["drug_exposure_start_date"]) - s).days <= -1
    }
    assert drug["n"] == len(users)
    assert drug["characteristic"].startswith("RxNorm ")
