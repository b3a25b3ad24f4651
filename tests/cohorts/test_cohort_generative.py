"""Random valid cohort definitions over random small patient tables: every engine must
return what the reference interpreter returns (cohort rows and attrition). A failure is
shrunk by Hypothesis; add the shrunk case to the spec tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastide.cohorts import (
    AgeCriterion,
    CohortDefinition,
    Concept,
    ConceptSet,
    Count,
    Entry,
    EventCriterion,
    Events,
    Exit,
    ExposureEndExit,
    FixedExit,
    IndexDateCriterion,
    Observation,
    ObservationEndExit,
    SexCriterion,
    Window,
    build_cohort,
    compile_cohort,
    definition_from_dict,
    definition_to_dict,
    interpret,
)
from bastide.cohorts import text_tables as tt
from bastide.cohorts.compiler import required_columns
from bastide.engines import Engine, open_engine
from engine_choice import ENGINES

BASE = date(2020, 1, 1)
SPAN = 150  # days in which everything happens
PERSONS = range(1, 6)
CODES = {"A": 1, "A1": 2, "A2": 3, "B": 4, "B1": 5, "C": 6}
ANCESTORS = [(1, 2), (1, 3), (4, 5), (2, 6)]
CONCEPT_IDS = st.sampled_from([0, 1, 2, 2, 3, 4, 5, 5, 6, 7])
DOMAINS = ["condition_occurrence", "drug_exposure", "measurement"]


def day(offset: int) -> date:
    return BASE + timedelta(days=offset)


offsets = st.integers(0, SPAN)


@st.composite
def patient_tables(draw: st.DrawFn) -> dict[str, tt.Rows]:
    persons = [
        {
            "person_id": p,
            "gender_concept_id": draw(st.sampled_from([8507, 8532, 0])),
            "year_of_birth": draw(st.none() | st.integers(1995, 2005)),
            "month_of_birth": draw(st.none() | st.integers(1, 12)),
            "day_of_birth": draw(st.none() | st.integers(1, 28)),
        }
        for p in PERSONS
    ]
    periods = []
    for p in PERSONS:
        # Mostly one long period; sometimes none, or two with a gap between them.
        shape = draw(st.integers(0, 9))
        if shape == 0:
            continue
        cuts = (
            sorted(draw(st.lists(offsets, min_size=4, max_size=4, unique=True)))
            if shape <= 2
            else [draw(st.integers(0, 15)), draw(st.integers(110, SPAN))]
        )
        for start, end in zip(cuts[::2], cuts[1::2], strict=True):
            periods.append(
                {
                    "person_id": p,
                    "observation_period_start_date": day(start),
                    "observation_period_end_date": day(end),
                }
            )
    person_ids = st.sampled_from(list(PERSONS))
    conditions = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person_id": person_ids,
                    "condition_concept_id": CONCEPT_IDS,
                    "condition_source_concept_id": CONCEPT_IDS,
                    "condition_start_date": offsets.map(day),
                    "condition_type_concept_id": st.sampled_from([32810, 32817]),
                }
            ),
            min_size=3,
            max_size=25,
        )
    )
    drugs = []
    for row in draw(
        st.lists(
            st.tuples(
                person_ids,
                CONCEPT_IDS,
                CONCEPT_IDS,
                offsets,
                st.none() | st.integers(-5, 40),
                st.none() | st.integers(0, 40),
            ),
            min_size=3,
            max_size=20,
        )
    ):
        person, concept, source, start, length, supply = row
        drugs.append(
            {
                "person_id": person,
                "drug_concept_id": concept,
                "drug_source_concept_id": source,
                "drug_exposure_start_date": day(start),
                "drug_exposure_end_date": None if length is None else day(start + length),
                "days_supply": supply,
            }
        )
    measurements = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person_id": person_ids,
                    "measurement_concept_id": CONCEPT_IDS,
                    "measurement_source_concept_id": CONCEPT_IDS,
                    "measurement_date": offsets.map(day),
                    "value_as_number": st.none() | st.integers(0, 20).map(float),
                }
            ),
            max_size=8,
        )
    )
    deaths = [
        {"person_id": p, "death_date": day(d)}
        for p, d in draw(st.lists(st.tuples(person_ids, offsets), max_size=3))
    ]
    return {
        "person": persons,
        "observation_period": periods,
        "condition_occurrence": conditions,
        "drug_exposure": drugs,
        "measurement": measurements,
        "death": deaths,
        "concept": [
            {"concept_id": i, "vocabulary_id": "CIM10", "concept_code": c} for c, i in CODES.items()
        ],
        "concept_ancestor": [
            {"ancestor_concept_id": a, "descendant_concept_id": d} for a, d in ANCESTORS
        ],
    }


concepts = st.builds(
    Concept,
    vocabulary=st.just("CIM10"),
    code=st.sampled_from(sorted(CODES)),
    descendants=st.booleans(),
    exclude=st.sampled_from([False, False, False, True]),
) | st.builds(
    Concept,
    concept_id=st.integers(1, 7),
    descendants=st.booleans(),
    exclude=st.sampled_from([False, False, False, True]),
)


@st.composite
def definitions(draw: st.DrawFn) -> CohortDefinition:
    n_sets = draw(st.integers(1, 3))
    sets = []
    for i in range(n_sets):
        items = draw(st.lists(concepts, min_size=1, max_size=3))
        if all(c.exclude for c in items):
            items.append(Concept(concept_id=draw(st.integers(1, 7))))
        sets.append(ConceptSet(f"cs{i}", tuple(items)))
    set_names = st.sampled_from([s.name for s in sets])

    @st.composite
    def events(draw: st.DrawFn, domain: str | None = None) -> Events:
        dom = domain or draw(st.sampled_from(DOMAINS))
        options: dict[str, Any] = {}
        if dom == "measurement" and draw(st.booleans()):
            low = draw(st.none() | st.integers(0, 10))
            high = draw(st.none() | st.integers(10, 20))
            options = {"value_min": low, "value_max": high}
        if dom == "condition_occurrence" and draw(st.booleans()):
            options = {"type_concept_ids": (32817,)}
        return Events(dom, draw(st.none() | set_names), **options)

    bounds = st.none() | st.integers(-60, 60)

    @st.composite
    def windows(draw: st.DrawFn) -> Window:
        a, b = draw(bounds), draw(bounds)
        if a is not None and b is not None and a > b:
            a, b = b, a
        return Window(a, b)

    @st.composite
    def counts(draw: st.DrawFn) -> Count:
        low = draw(st.none() | st.integers(0, 2))
        high = draw(st.none() | st.integers(0, 3))
        if low is not None and high is not None and high < low:
            low, high = high, low
        return Count(low, high)

    @st.composite
    def criteria(draw: st.DrawFn, i: int) -> Any:
        kind = draw(st.sampled_from(["events", "events", "age", "sex", "index_date"]))
        name = f"criterion {i}"
        if kind == "events":
            return EventCriterion(
                name, draw(events()), draw(windows()), draw(counts()), draw(st.booleans())
            )
        if kind == "age":
            low = draw(st.none() | st.integers(14, 20))
            high = draw(st.integers(17, 25) if low is None else st.integers(low, 25))
            return AgeCriterion(name, low, high)
        if kind == "sex":
            return SexCriterion(
                name, tuple(draw(st.sets(st.sampled_from([8507, 8532]), min_size=1)))
            )
        a, b = sorted(draw(st.lists(offsets, min_size=2, max_size=2)))
        return IndexDateCriterion(name, day(a), draw(st.sampled_from([None, day(b)])))

    rule = draw(
        st.sampled_from(["fixed", "observation", "exposure"]).flatmap(
            lambda kind: {
                "fixed": st.builds(FixedExit, st.integers(0, 40)),
                "observation": st.just(ObservationEndExit()),
                "exposure": st.builds(
                    ExposureEndExit, set_names, st.integers(0, 10), st.integers(0, 10)
                ),
            }[kind]
        )
    )
    n_criteria = draw(st.integers(0, 3))
    return CohortDefinition(
        name="generated",
        concept_sets=tuple(sets),
        entry=Entry(
            tuple(draw(st.lists(events(), min_size=1, max_size=2))),
            draw(st.sampled_from(["first", "all"])),
        ),
        observation=Observation(
            draw(st.sampled_from([0, 0, 5, 20])), draw(st.sampled_from([0, 0, 5, 20]))
        ),
        inclusion=tuple(draw(criteria(i)) for i in range(n_criteria)),
        exit=Exit(
            rule,
            draw(st.booleans()),
            tuple(draw(st.lists(events(), max_size=1))),
        ),
        collapse_days=draw(st.integers(0, 5)),
    )


# Spark answers in about a second per example where DuckDB takes milliseconds.
EXAMPLES = {"duckdb": 60, "spark": 20}


@pytest.fixture(scope="module", params=ENGINES)
def session(request: pytest.FixtureRequest) -> Iterator[Engine]:
    engine = open_engine(request.param, threads=1)
    yield engine
    engine.close()


def test_engines_agree_with_the_reference_interpreter(session: Engine) -> None:
    @settings(
        max_examples=EXAMPLES[session.name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(definition=definitions(), data=patient_tables())
    def agree(definition: CohortDefinition, data: dict[str, tt.Rows]) -> None:
        expected = interpret(definition, data)
        tt.register(session, data, compile_cohort(definition).tables)
        built = build_cohort(session, definition)
        assert sorted(built.rows) == list(expected.rows), session.name  # type: ignore[type-var]
        assert [(r["persons"], r["entries"]) for r in built.attrition.to_pylist()] == [
            (a.persons, a.entries) for a in expected.attrition
        ], session.name

    agree()


@settings(max_examples=100, deadline=None)
@given(definition=definitions())
def test_definitions_round_trip_through_json(definition: CohortDefinition) -> None:
    text = json.dumps(definition_to_dict(definition))
    assert definition_from_dict(json.loads(text)) == definition
    assert definition_from_dict(json.loads(text)).digest == definition.digest


@settings(max_examples=30, deadline=None)
@given(definition=definitions())
def test_the_compiled_queries_read_only_the_required_columns(
    definition: CohortDefinition,
) -> None:
    # Tables holding only the columns required_columns names are enough to run it.
    need = required_columns(definition)
    assert set(need) == set(compile_cohort(definition).tables)
    engine = open_engine("duckdb", threads=1)
    try:
        for name, columns in need.items():
            engine.register(name, tt.arrow(name, []).select(sorted(columns)))
        build_cohort(engine, definition)
    finally:
        engine.close()
