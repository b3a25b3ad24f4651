"""The analyses on data whose answer is known: tiny tables computed by hand, and a
simulated population with a true hazard ratio and age confounding."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest
from study_world import STUDY, World

from bastide.cohorts import (
    CohortDefinition,
    Concept,
    ConceptSet,
    Entry,
    Events,
    Exit,
    ExposureEndExit,
    FixedExit,
    build_cohort,
)
from bastide.cohorts import text_tables as tt
from bastide.cohorts.loader import parse_document
from bastide.engines import Engine
from bastide.studies import (
    characterise,
    compare,
    drug_utilisation,
    incidence,
    run_analysis,
    study_from_dict,
)
from bastide.studies.stats import DAYS_PER_YEAR

# -- tiny tables --------------------------------------------------------------------------

TINY = tt.tables(
    person="""
        person_id | gender_concept_id | year_of_birth | month_of_birth | day_of_birth
        1         | 8532              | 1950          | 6              | 15
        2         | 8507              | 1990          | 1              | 1
        3         | 8532              | 1970          | 1              | 1
        4         | 8507              | 1950          | 1              | 1
    """,
    observation_period="""
        person_id | observation_period_start_date | observation_period_end_date
        1         | 2015-01-01                    | 2022-12-31
        2         | 2015-01-01                    | 2022-12-31
        3         | 2015-01-01                    | 2021-06-30
        4         | 2015-01-01                    | 2022-12-31
    """,
    drug_exposure="""
        person_id | drug_concept_id | drug_exposure_start_date | drug_exposure_end_date
        1         | 11              | 2020-12-01               | 2020-12-30
        1         | 11              | 2021-01-15               | 2021-02-13
        2         | 11              | 2021-03-01               | 2021-03-30
        3         | 11              | 2021-05-01               | 2021-05-30
        3         | 11              | 2021-06-01               | 2021-07-30
        4         | 11              | 2021-01-01               | 2021-01-30
        1         | 50              | 2020-06-01               | 2020-06-30
        2         | 50              | 2021-02-01               | 2021-02-28
        4         | 51              | 2020-12-01               | 2020-12-01
    """,
    condition_occurrence="""
        person_id | condition_concept_id | condition_start_date
        1         | 2                    | 2021-01-20
        2         | 2                    | 2020-01-01
        3         | 77                   | 2021-01-01
        4         | 77                   | 2020-12-15
    """,
    concept="""
        concept_id | concept_name | vocabulary_id | concept_code
        2          | Haematemesis | CIM10         | K922
        11         | CELECOXIB    | ATC           | M01AH01
        50         | PARACETAMOL  | ATC           | N02BE01
        51         | IBUPROFEN    | ATC           | M01AE01
        77         | Hypertension | CIM10         | I10
    """,
)
DRUG = ConceptSet("celecoxib", (Concept("ATC", "M01AH01"),))
BLEED = ConceptSet("bleed", (Concept("CIM10", "K922"),))
USERS = CohortDefinition(
    "users",
    Entry((Events("drug_exposure", "celecoxib"),)),
    concept_sets=(DRUG,),
    exit=Exit(ExposureEndExit("celecoxib", gap_days=30, extend_days=10)),
)
OUTCOME = CohortDefinition(
    "bleed",
    Entry((Events("condition_occurrence", "bleed"),), occurrence="all"),
    concept_sets=(BLEED,),
    exit=Exit(FixedExit(0)),
)


def register(engine: Engine, data: dict[str, tt.Rows]) -> None:
    tt.register(engine, data, {"death", "concept_ancestor"})


def test_tiny_cohort_periods(engine: Engine) -> None:
    register(engine, TINY)
    users = build_cohort(engine, USERS)
    # 1: 12-01..12-30 and 01-15..02-13 (gap 15 days) -> to 02-23; 3: until its period ends.
    assert users.rows == {
        (1, date(2020, 12, 1), date(2021, 2, 23)),
        (2, date(2021, 3, 1), date(2021, 4, 9)),
        (3, date(2021, 5, 1), date(2021, 6, 30)),
        (4, date(2021, 1, 1), date(2021, 2, 9)),
    }


def test_incidence_by_hand(engine: Engine) -> None:
    register(engine, TINY)
    users, bleed = build_cohort(engine, USERS), build_cohort(engine, OUTCOME)
    result = incidence(engine, users, bleed, age_bands=(0, 40, 70))
    rows = {(r["stratum_type"], r["stratum"]): r for r in result.rates.to_pylist()}
    # Person 2 had the outcome before starting: left out. Person 1 bleeds on 2021-01-20.
    days = {1: 51, 3: 61, 4: 40}  # 2020-12-01..2021-01-20, 2021-05-01..06-30, 01-01..02-09
    overall = rows[("overall", "all")]
    assert (overall["persons"], overall["events"]) == (3, 1)
    assert overall["person_years"] == pytest.approx(sum(days.values()) / DAYS_PER_YEAR, abs=1e-4)
    assert overall["rate"] == pytest.approx(1000 / (152 / DAYS_PER_YEAR))
    assert result.excluded_prior_outcome == 1
    # Person 1 (born 1950-06-15) is 70 on 2020-12-01; person 4 is 71; person 3 is 51.
    assert rows[("age_band", "70+")]["persons"] == 2
    assert rows[("age_band", "40-69")]["persons"] == 1
    assert rows[("age_band", "0-39")]["persons"] == 0
    assert rows[("sex", "female")]["events"] == 1
    # Person 1's time splits over two years: 31 days in 2020, 20 in 2021 with the event.
    assert rows[("year", "2020")]["person_years"] == pytest.approx(31 / DAYS_PER_YEAR, abs=1e-4)
    assert rows[("year", "2021")]["person_years"] == pytest.approx(121 / DAYS_PER_YEAR, abs=1e-4)
    assert (rows[("year", "2020")]["events"], rows[("year", "2021")]["events"]) == (0, 1)
    assert rows[("year", "2021")]["persons"] == 3
    # Exact Poisson interval of one event (0.0253, 5.5716) over the person-time.
    scale = 1000 / (152 / DAYS_PER_YEAR)
    assert overall["lower"] == pytest.approx(0.025318 * scale, rel=1e-4)
    assert overall["upper"] == pytest.approx(5.571643 * scale, rel=1e-4)


def test_characterisation_by_hand(engine: Engine) -> None:
    register(engine, TINY)
    users = build_cohort(engine, USERS)
    result = characterise(engine, [users], window=(-365, -1), top=1, age_bands=(0, 40, 70))
    rows = {(r["section"], r["characteristic"]): r for r in result.table1.to_pylist()}
    assert rows[("age band", "Total")]["n"] == 4
    assert rows[("age band", "70+")]["n"] == 2 and rows[("age band", "70+")]["percent"] == 50.0
    assert rows[("sex", "female")]["n"] == 2
    # Drugs in the year before: paracetamol (persons 1 and 2), ibuprofen (4): top 1.
    drugs = [r for r in result.table1.to_pylist() if r["section"] == "drugs"]
    assert [(r["characteristic"], r["n"]) for r in drugs] == [("ATC N02BE01 — PARACETAMOL", 2)]
    conditions = [r for r in result.table1.to_pylist() if r["section"] == "conditions"]
    # Hypertension before 3 (2021-01-01) and 4 (2020-12-15); 2's bleed is 14 months before.
    assert [(r["concept_id"], r["n"], r["percent"]) for r in conditions] == [(77, 2, 50.0)]
    assert result.age.to_pylist()[0]["n"] == 4


def test_characterisation_side_by_side_and_differences(engine: Engine) -> None:
    register(engine, TINY)
    everyone = build_cohort(engine, USERS)
    same_people = CohortDefinition(
        "same_people",
        Entry((Events("drug_exposure", "celecoxib"),)),
        concept_sets=(DRUG,),
        exit=Exit(FixedExit(0)),
    )
    second = build_cohort(engine, same_people)
    result = characterise(engine, [everyone, second], top=5)
    assert result.differences is not None
    smd = {r["characteristic"]: r["smd"] for r in result.differences.to_pylist()}
    assert set(smd.values()) == {0.0}  # the same persons
    cohorts = set(result.table1.column("cohort").to_pylist())
    assert cohorts == {"users", "same_people"}
    output = result.to_output("baseline")
    assert [t.name for t in output.tables][:2] == ["baseline.users", "baseline.same_people"]


def test_utilisation_by_hand(engine: Engine) -> None:
    register(engine, TINY)
    use = drug_utilisation(engine, build_cohort(engine, USERS))
    assert use.new_users.to_pylist() == [
        {"year": 2020, "new_users": 1},
        {"year": 2021, "new_users": 3},
    ]
    duration = use.duration.to_pylist()[0]
    # Episodes: 1: 12-01..02-23 (85 days); 2: 40; 3: censored at 06-30 (61); 4: 40.
    assert (duration["episodes"], duration["stopped"]) == (4, 3)
    assert duration["median_days"] == pytest.approx((40 + 61) / 2)
    assert duration["mean_exposures"] == pytest.approx(6 / 4)
    bands = {r["band"]: r["episodes"] for r in use.duration_bands.to_pylist()}
    assert bands == {
        "1-30 days": 0,
        "31-90 days": 4,
        "91-180 days": 0,
        "181-365 days": 0,
        "366+ days": 0,
    }
    # Kaplan-Meier: two of four stop on day 40 (S = 1/2), one is censored on day 61, the
    # last stops on day 85 (S = 0).
    persistence = {r["day"]: r for r in use.persistence.to_pylist()}
    assert persistence[30]["persistent"] == 1.0
    assert persistence[90]["persistent"] == 0.0
    curve = {r["day"]: r["persistent"] for r in use.curve.to_pylist()}
    assert curve[40] == pytest.approx(0.5)
    assert curve[85] == pytest.approx(0.0)


# -- the simulated world ------------------------------------------------------------------


def _truth(world: World, drug: int) -> tuple[int, int]:
    """Events and days at risk of one arm, straight from the simulated tables."""
    starts = {
        r["person_id"]: r["drug_exposure_start_date"]
        for r in world.tables["drug_exposure"].to_pylist()
        if r["drug_concept_id"] == drug
    }
    outcomes = {
        r["person_id"]: r["condition_start_date"]
        for r in world.tables["condition_occurrence"].to_pylist()
    }
    events = days = 0
    for person, start in starts.items():
        end = start + timedelta(days=364)
        when = outcomes.get(person)
        if when is not None and start <= when <= end:
            events += 1
            days += (when - start).days + 1
        else:
            days += 365
    return events, days


def _load(engine: Engine, world: World) -> Any:
    for name, table in world.tables.items():
        engine.register(name, table)
    study = study_from_dict(parse_document(STUDY))
    return study, {c.name: build_cohort(engine, c) for c in study.cohorts}


def test_comparison_recovers_the_simulated_hazard_ratio(engine: Engine, world: World) -> None:
    _, cohorts = _load(engine, world)
    assert cohorts["celecoxib"].persons == world.target
    assert cohorts["diclofenac"].persons == world.persons - world.target
    result = compare(
        engine,
        cohorts["celecoxib"],
        cohorts["diclofenac"],
        cohorts["bleeding"],
        adjust=("age", "sex"),
    )
    arms = {r["arm"]: r for r in result.arms.to_pylist()}
    for arm, drug in (("target", 11), ("comparator", 12)):
        events, days = _truth(world, drug)
        assert arms[arm]["events"] == events
        assert arms[arm]["person_years"] == pytest.approx(days / DAYS_PER_YEAR, abs=1e-3)
    irr = (arms["target"]["events"] / arms["target"]["person_years"]) / (
        arms["comparator"]["events"] / arms["comparator"]["person_years"]
    )
    assert result.rate_ratio.value == pytest.approx(irr)
    adjusted, crude = result.adjusted_hazard_ratio, result.crude_hazard_ratio
    assert adjusted is not None and crude is not None
    assert adjusted.lower < world.hazard_ratio < adjusted.upper
    # Older people take the target drug more and bleed more: the crude ratio is biased up.
    assert crude.hazard_ratio > adjusted.hazard_ratio
    assert not crude.lower < world.hazard_ratio < crude.upper
    age = next(r for r in result.cox.to_pylist() if r["term"] == "age")
    assert age["lower"] < math.exp(0.05) < age["upper"]
    assert result.logrank_p < 0.05


def test_every_analysis_of_the_study_runs(engine: Engine, world: World) -> None:
    study, cohorts = _load(engine, world)
    outputs = {spec.name: run_analysis(engine, spec, cohorts) for spec in study.analyses}
    counts = outputs["counts"].table("cohorts").table.to_pylist()
    assert [r["persons"] for r in counts] == [
        world.target,
        world.persons - world.target,
        world.events,
    ]
    rates = outputs["rates"].table("age_band").table.to_pylist()
    total = next(r for r in rates if r["age_band"] == "Total")
    events, _ = _truth(world, 11)
    assert total["events"] == events
    use = outputs["use"].table("duration").table.to_pylist()[0]
    assert use["median_days"] == 365.0
    names = [t.name for o in outputs.values() for t in o.tables]
    assert len(names) == len(set(names))
