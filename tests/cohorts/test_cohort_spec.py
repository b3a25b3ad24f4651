"""Spec tests of the cohort language: tiny patient tables written in the test, one
definition, the expected cohort (person, start, end). Each runs on every engine and on the
reference interpreter (see conftest.check); together they are the language reference."""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)

from __future__ import annotations

from datetime import date
from typing import Any

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
    SexCriterion,
    Window,
)
from bastide.cohorts import text_tables as tt
from conftest import Check

# A small vocabulary: CIM-10 K92 above K922 and K921; ATC M01A above celecoxib (M01AH01)
# and diclofenac (M01AB05), each above one CIP13 box.
VOCABULARY = tt.tables(
    concept="""
        concept_id | vocabulary_id | concept_code
        1          | CIM10         | K92
        2          | CIM10         | K922
        3          | CIM10         | K921
        10         | ATC           | M01A
        11         | ATC           | M01AH01
        12         | ATC           | M01AB05
        100        | CIP13         | 3400930000011
        101        | CIP13         | 3400930000012
    """,
    concept_ancestor="""
        ancestor_concept_id | descendant_concept_id
        1                   | 2
        1                   | 3
        10                  | 11
        10                  | 12
        10                  | 100
        10                  | 101
        11                  | 100
        12                  | 101
    """,
)
SETS = (
    ConceptSet("gi_bleed", (Concept("CIM10", "K92"),)),
    ConceptSet("k922", (Concept("CIM10", "K92.2"),)),
    ConceptSet("celecoxib", (Concept("ATC", "M01AH01"),)),
    ConceptSet("diclofenac", (Concept("ATC", "M01AB05"),)),
    ConceptSet("nsaid", (Concept("ATC", "M01A"),)),
)
PERIODS = """
    person_id | observation_period_start_date | observation_period_end_date
    1         | 2019-01-01                    | 2023-12-31
    2         | 2019-01-01                    | 2023-12-31
    3         | 2019-01-01                    | 2023-12-31
    4         | 2019-01-01                    | 2023-12-31
"""


def data(**texts: str) -> dict[str, tt.Rows]:
    out = dict(VOCABULARY)
    out["observation_period"] = tt.rows("observation_period", PERIODS)
    out.update(tt.tables(**texts))
    return out


def cohort(entry: Events | Entry, **options: Any) -> CohortDefinition:
    return CohortDefinition(
        name="spec",
        concept_sets=SETS,
        entry=entry if isinstance(entry, Entry) else Entry((entry,)),
        **options,
    )


NO_DEATH = Exit(censor_at_death=False)
CONDITIONS = """
    person_id | condition_source_concept_id | condition_concept_id | condition_start_date
    1         | 2                           | 0                    | 2020-03-01
    1         | 2                           | 0                    | 2020-01-15
    2         | 3                           | 0                    | 2021-06-01
    3         | 0                           | 2                    | 2022-02-02
    4         | 99                          | 0                    | 2022-02-02
"""


# -- entry events and concept sets ------------------------------------------------------------


def test_first_event_of_a_code_and_everything_below_it(check: Check) -> None:
    # K92 selects K922 and K921, on the source concept (1, 2) or the concept (3).
    definition = cohort(Events("condition_occurrence", "gi_bleed"), exit=NO_DEATH)
    check(
        definition,
        data(condition_occurrence=CONDITIONS),
        {
            (1, "2020-01-15", "2023-12-31"),
            (2, "2021-06-01", "2023-12-31"),
            (3, "2022-02-02", "2023-12-31"),
        },
        attrition=[(3, 3), (3, 3)],
    )


def test_a_code_without_its_descendants(check: Check) -> None:
    sets = (ConceptSet("k92_only", (Concept("CIM10", "K92", descendants=False),)),)
    definition = CohortDefinition(
        name="spec",
        concept_sets=sets,
        entry=Entry((Events("condition_occurrence", "k92_only"),)),
        exit=Exit(FixedExit(0)),
    )
    rows = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 1                           | 2020-03-01
        2         | 2                           | 2020-03-01
    """
    check(definition, data(condition_occurrence=rows), {(1, "2020-03-01", "2020-03-01")})


def test_excluded_concepts_and_concept_ids(check: Check) -> None:
    # Everything below K92 except K921, plus concept 99 given by id.
    sets = (
        ConceptSet(
            "bleeds",
            (
                Concept("CIM10", "K92"),
                Concept("CIM10", "K921", exclude=True),
                Concept(concept_id=99),
            ),
        ),
    )
    definition = CohortDefinition(
        name="spec",
        concept_sets=sets,
        entry=Entry((Events("condition_occurrence", "bleeds"),)),
        exit=Exit(FixedExit(0)),
    )
    check(
        definition,
        data(condition_occurrence=CONDITIONS),
        {
            (1, "2020-01-15", "2020-01-15"),
            (3, "2022-02-02", "2022-02-02"),
            (4, "2022-02-02", "2022-02-02"),
        },
    )


def test_an_excluded_code_removes_everything_below_it(check: Check) -> None:
    # Found by the generative test: K922 (by id) minus K92 and below leaves nothing.
    sets = (
        ConceptSet("none_left", (Concept(concept_id=2), Concept("CIM10", "K92", exclude=True))),
        ConceptSet(
            "below_k92",
            (Concept("CIM10", "K92"), Concept(concept_id=1, descendants=False, exclude=True)),
        ),
    )
    rows = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2020-03-01
        2         | 3                           | 2020-03-01
        3         | 1                           | 2020-03-01
    """
    below = {(1, "2020-03-01", "2020-03-01"), (2, "2020-03-01", "2020-03-01")}
    for name, expected in (("none_left", set()), ("below_k92", below)):
        definition = CohortDefinition(
            name="spec",
            concept_sets=sets,
            entry=Entry((Events("condition_occurrence", name),)),
            exit=Exit(FixedExit(0)),
        )
        check(definition, data(condition_occurrence=rows), expected)


def test_every_event_with_overlapping_periods_merged(check: Check) -> None:
    # Each event opens a 30-day period; periods that overlap or touch become one.
    definition = cohort(
        Entry((Events("condition_occurrence", "gi_bleed"),), occurrence="all"),
        exit=Exit(FixedExit(30)),
    )
    rows = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2020-01-01
        1         | 2                           | 2020-01-20
        1         | 2                           | 2020-01-20
        1         | 2                           | 2020-03-01
        2         | 2                           | 2020-01-01
        2         | 2                           | 2020-01-31
    """
    check(
        definition,
        data(condition_occurrence=rows),
        {
            (1, "2020-01-01", "2020-02-19"),
            (1, "2020-03-01", "2020-03-31"),
            (2, "2020-01-01", "2020-03-01"),
        },
        attrition=[(2, 5), (2, 5)],  # same-day events are one entry
    )


def test_collapse_days_join_periods_separated_by_a_short_gap(check: Check) -> None:
    definition = cohort(
        Entry((Events("condition_occurrence", "gi_bleed"),), occurrence="all"),
        exit=Exit(FixedExit(0)),
        collapse_days=10,
    )
    rows = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2020-01-01
        1         | 2                           | 2020-01-11
        1         | 2                           | 2020-01-22
    """
    check(
        definition,
        data(condition_occurrence=rows),
        {(1, "2020-01-01", "2020-01-11"), (1, "2020-01-22", "2020-01-22")},
    )


def test_several_entry_domains(check: Check) -> None:
    entry = Entry((Events("condition_occurrence", "k922"), Events("drug_exposure", "celecoxib")))
    drugs = """
        person_id | drug_source_concept_id | drug_exposure_start_date
        1         | 100                    | 2019-12-01
        2         | 101                    | 2019-12-01
    """
    check(
        cohort(entry, exit=Exit(FixedExit(1))),
        data(condition_occurrence=CONDITIONS, drug_exposure=drugs),
        {(1, "2019-12-01", "2019-12-02"), (3, "2022-02-02", "2022-02-03")},
    )


def test_record_types_and_measurement_values(check: Check) -> None:
    sets = (ConceptSet("hb", (Concept(concept_id=3000963, descendants=False),)),)
    entry = Entry(
        (Events("measurement", "hb", type_concept_ids=(32817,), value_min=4.0, value_max=10.0),),
        occurrence="all",
    )
    definition = CohortDefinition(
        name="low_hb", concept_sets=sets, entry=entry, exit=Exit(FixedExit(0))
    )
    rows = """
        person_id | measurement_concept_id | measurement_date | measurement_type_concept_id | value_as_number
        1         | 3000963                | 2020-01-01       | 32817                       | 8.5
        1         | 3000963                | 2020-02-01       | 32817                       | 12.5
        2         | 3000963                | 2020-01-01       | 32856                       | 8.5
        3         | 3000963                | 2020-01-01       | 32817                       |
        4         | 3000963                | 2020-01-01       | 32817                       | 10.0
    """
    check(
        definition,
        data(measurement=rows),
        {(1, "2020-01-01", "2020-01-01"), (4, "2020-01-01", "2020-01-01")},
    )


# -- observation ------------------------------------------------------------------------------


def test_prior_and_post_observation(check: Check) -> None:
    periods = """
        person_id | observation_period_start_date | observation_period_end_date
        1         | 2019-01-01                    | 2020-12-31
        2         | 2021-01-01                    | 2021-12-31
        2         | 2019-01-01                    | 2020-06-30
        3         | 2022-01-01                    | 2022-02-10
    """
    # Person 1: 379 days before; person 2's first event lies in a gap between periods
    # (the first event ever is the entry, a later one does not replace it); person 3
    # has 32 days before, fewer than 100.
    definition = cohort(
        Events("condition_occurrence", "gi_bleed"),
        observation=Observation(prior_days=100, post_days=30),
        exit=NO_DEATH,
    )
    tables = data(condition_occurrence=CONDITIONS)
    tables["observation_period"] = tt.rows("observation_period", periods)
    rows = """
        person_id | condition_source_concept_id | condition_start_date
        2         | 2                           | 2020-08-01
        2         | 2                           | 2021-08-01
    """
    tables["condition_occurrence"] = (
        tables["condition_occurrence"][:2]
        + tt.rows("condition_occurrence", rows)
        + tables["condition_occurrence"][3:]
    )
    check(
        definition,
        tables,
        {(1, "2020-01-15", "2020-12-31")},
        attrition=[(3, 3), (1, 1)],
    )


def test_exactly_the_required_prior_observation(check: Check) -> None:
    rows = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2019-04-11
        2         | 2                           | 2019-04-10
    """
    # 2019-04-11 is 100 days after 2019-01-01.
    definition = cohort(
        Events("condition_occurrence", "k922"),
        observation=Observation(prior_days=100),
        exit=Exit(FixedExit(0)),
    )
    check(definition, data(condition_occurrence=rows), {(1, "2019-04-11", "2019-04-11")})


# -- inclusion criteria -------------------------------------------------------------------------

NEW_USER_DRUGS = """
    person_id | drug_source_concept_id | drug_concept_id | drug_exposure_start_date | drug_exposure_end_date
    1         | 100                    | 11              | 2021-03-01               | 2021-03-30
    2         | 100                    | 11              | 2020-06-01               | 2020-06-30
    2         | 101                    | 12              | 2021-03-01               | 2021-03-30
    3         | 100                    | 11              | 2020-03-01               | 2020-03-30
    3         | 100                    | 11              | 2021-02-25               | 2021-03-26
    4         | 101                    | 12              | 2021-03-01               | 2021-03-30
"""


def test_new_users_have_no_exposure_in_the_year_before(check: Check) -> None:
    # All celecoxib dispensings are entries; those preceded by an NSAID of the study
    # within [-365, -1] days are not new use.
    definition = cohort(
        Entry((Events("drug_exposure", "celecoxib"),), occurrence="all"),
        inclusion=(
            EventCriterion(
                "no NSAID in the year before",
                Events("drug_exposure", "nsaid"),
                Window(-365, -1),
                Count(at_most=0),
            ),
        ),
        exit=Exit(FixedExit(0)),
    )
    check(
        definition,
        data(drug_exposure=NEW_USER_DRUGS),
        {
            (1, "2021-03-01", "2021-03-01"),
            (2, "2020-06-01", "2020-06-01"),
            (3, "2020-03-01", "2020-03-01"),
        },
        attrition=[(3, 4), (3, 4), (3, 3)],
    )


def test_a_condition_any_time_before_or_on_index(check: Check) -> None:
    conditions = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2021-03-01
        2         | 2                           | 2021-03-02
        3         | 3                           | 2019-05-01
    """
    definition = cohort(
        Events("drug_exposure", "nsaid"),
        inclusion=(
            EventCriterion(
                "GI bleeding history", Events("condition_occurrence", "gi_bleed"), Window(None, 0)
            ),
        ),
        exit=Exit(FixedExit(10)),
    )
    check(
        definition,
        data(drug_exposure=NEW_USER_DRUGS, condition_occurrence=conditions),
        {(1, "2021-03-01", "2021-03-11"), (3, "2020-03-01", "2020-03-11")},
    )


def test_exactly_n_events_and_events_outside_observation(check: Check) -> None:
    conditions = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2018-06-01
        1         | 2                           | 2020-01-01
        2         | 2                           | 2020-01-01
        2         | 2                           | 2020-01-01
        3         | 2                           | 2020-01-01
        3         | 2                           | 2020-02-01
        3         | 2                           | 2020-02-02
    """
    drugs = """
        person_id | drug_source_concept_id | drug_exposure_start_date
        1         | 100                    | 2021-01-01
        2         | 100                    | 2021-01-01
        3         | 100                    | 2021-01-01
    """
    # Person 1's 2018 event lies before their observation period: not counted unless
    # the criterion ignores observation periods. Two events on one day count twice.
    counted = cohort(
        Events("drug_exposure", "celecoxib"),
        inclusion=(
            EventCriterion("two bleeds", Events("condition_occurrence", "k922"), count=Count(2, 2)),
        ),
        exit=Exit(FixedExit(0)),
    )
    tables = data(condition_occurrence=conditions, drug_exposure=drugs)
    check(counted, tables, {(2, "2021-01-01", "2021-01-01")})
    everywhere = cohort(
        Events("drug_exposure", "celecoxib"),
        inclusion=(
            EventCriterion(
                "two bleeds",
                Events("condition_occurrence", "k922"),
                count=Count(2, 2),
                ignore_observation_period=True,
            ),
        ),
        exit=Exit(FixedExit(0)),
    )
    check(everywhere, tables, {(1, "2021-01-01", "2021-01-01"), (2, "2021-01-01", "2021-01-01")})


def test_age_at_index_in_completed_years(check: Check) -> None:
    persons = """
        person_id | gender_concept_id | year_of_birth | month_of_birth | day_of_birth
        1         | 8532              | 2003          | 3              | 1
        2         | 8507              | 2003          | 3              | 2
        3         | 8532              | 2003          |                |
        4         | 8532              |               |                |
    """
    drugs = """
        person_id | drug_source_concept_id | drug_exposure_start_date
        1         | 100                    | 2021-03-01
        2         | 100                    | 2021-03-01
        3         | 100                    | 2021-03-01
        4         | 100                    | 2021-03-01
    """
    # On 2021-03-01 person 1 turns 18, person 2 is still 17, person 3 (born "January 1")
    # is 18; person 4 has no birth year.
    definition = cohort(
        Events("drug_exposure", "celecoxib"),
        inclusion=(AgeCriterion("adults", min=18, max=64),),
        exit=Exit(FixedExit(0)),
    )
    check(
        definition,
        data(person=persons, drug_exposure=drugs),
        {(1, "2021-03-01", "2021-03-01"), (3, "2021-03-01", "2021-03-01")},
        attrition=[(4, 4), (4, 4), (2, 2)],
    )


def test_sex_and_calendar_period(check: Check) -> None:
    persons = """
        person_id | gender_concept_id | year_of_birth
        1         | 8532              | 1950
        2         | 8532              | 1950
        3         | 8507              | 1950
        4         | 8532              | 1950
    """
    definition = cohort(
        Events("drug_exposure", "nsaid"),
        inclusion=(
            SexCriterion("women", (8532,)),
            IndexDateCriterion("indexed in 2021", date(2021, 1, 1), date(2021, 12, 31)),
        ),
        exit=Exit(FixedExit(0)),
    )
    check(
        definition,
        data(person=persons, drug_exposure=NEW_USER_DRUGS),
        {(1, "2021-03-01", "2021-03-01"), (4, "2021-03-01", "2021-03-01")},
        attrition=[(4, 4), (4, 4), (3, 3), (2, 2)],
    )


# -- exit -------------------------------------------------------------------------------------


def test_fixed_exit_stops_at_the_end_of_observation_and_at_death(check: Check) -> None:
    periods = """
        person_id | observation_period_start_date | observation_period_end_date
        1         | 2019-01-01                    | 2021-03-20
        2         | 2019-01-01                    | 2023-12-31
        3         | 2019-01-01                    | 2023-12-31
        4         | 2019-01-01                    | 2023-12-31
    """
    deaths = """
        person_id | death_date
        2         | 2020-06-10
        3         | 2020-01-01
        4         | 2021-03-01
    """
    # Person 3's death date precedes the index (a data error): it does not censor.
    definition = cohort(Events("drug_exposure", "nsaid"), exit=Exit(FixedExit(60)))
    tables = data(drug_exposure=NEW_USER_DRUGS, death=deaths)
    tables["observation_period"] = tt.rows("observation_period", periods)
    check(
        definition,
        tables,
        {
            (1, "2021-03-01", "2021-03-20"),
            (2, "2020-06-01", "2020-06-10"),
            (3, "2020-03-01", "2020-04-30"),
            (4, "2021-03-01", "2021-03-01"),
        },
    )
    not_at_death = cohort(
        Events("drug_exposure", "nsaid"), exit=Exit(FixedExit(60), censor_at_death=False)
    )
    check(
        not_at_death,
        tables,
        {
            (1, "2021-03-01", "2021-03-20"),
            (2, "2020-06-01", "2020-07-31"),
            (3, "2020-03-01", "2020-04-30"),
            (4, "2021-03-01", "2021-04-30"),
        },
    )


def test_censoring_events(check: Check) -> None:
    # Celecoxib users leave the cohort on the day they start diclofenac.
    drugs = """
        person_id | drug_source_concept_id | drug_exposure_start_date
        1         | 100                    | 2021-03-01
        1         | 101                    | 2021-02-01
        1         | 101                    | 2021-04-01
        2         | 100                    | 2021-03-01
        2         | 101                    | 2021-03-01
    """
    definition = cohort(
        Events("drug_exposure", "celecoxib"),
        exit=Exit(FixedExit(365), censor=(Events("drug_exposure", "diclofenac"),)),
    )
    check(
        definition,
        data(drug_exposure=drugs),
        {(1, "2021-03-01", "2021-04-01"), (2, "2021-03-01", "2021-03-01")},
    )


def test_end_of_continuous_exposure_with_a_grace_period(check: Check) -> None:
    # Exposures join into one era when at most 30 days without supply separate them;
    # the cohort ends 30 days after the era. Without an end date an exposure lasts
    # days_supply days (else one day); an end before the start counts as the start.
    drugs = """
        person_id | drug_source_concept_id | drug_exposure_start_date | drug_exposure_end_date | days_supply
        1         | 100                    | 2021-01-01               | 2021-01-30             |
        1         | 100                    | 2021-03-02               | 2021-03-31             |
        1         | 100                    | 2021-05-02               | 2021-05-31             |
        2         | 100                    | 2021-01-01               |                        | 30
        2         | 100                    | 2021-03-03               |                        | 30
        3         | 100                    | 2021-01-01               |                        |
        4         | 100                    | 2021-01-01               | 2020-12-01             |
        4         | 11                     | 2021-01-01               | 2021-01-10             |
    """
    definition = cohort(
        Events("drug_exposure", "celecoxib"),
        exit=Exit(ExposureEndExit("celecoxib", gap_days=30, extend_days=30)),
    )
    check(
        definition,
        data(drug_exposure=drugs),
        {
            (1, "2021-01-01", "2021-04-30"),  # era 01-01..03-31 (gaps of 30, then 31 days)
            (2, "2021-01-01", "2021-03-01"),  # 01-01..01-30, then a gap of 31 days
            (3, "2021-01-01", "2021-01-31"),
            (4, "2021-01-01", "2021-02-09"),
        },
    )


def test_exposure_era_that_does_not_contain_the_index_date(check: Check) -> None:
    # Entry on a diagnosis, exit with celecoxib exposure: no era holds the index date
    # for person 2, whose period ends where it starts.
    conditions = """
        person_id | condition_source_concept_id | condition_start_date
        1         | 2                           | 2021-01-10
        2         | 2                           | 2021-03-01
    """
    drugs = """
        person_id | drug_source_concept_id | drug_exposure_start_date | drug_exposure_end_date
        1         | 100                    | 2021-01-01               | 2021-01-30
        2         | 100                    | 2021-01-01               | 2021-01-30
    """
    definition = cohort(
        Events("condition_occurrence", "k922"),
        exit=Exit(ExposureEndExit("celecoxib")),
    )
    check(
        definition,
        data(condition_occurrence=conditions, drug_exposure=drugs),
        {(1, "2021-01-10", "2021-01-30"), (2, "2021-03-01", "2021-03-01")},
    )


def test_nothing_matches(check: Check) -> None:
    definition = cohort(Events("procedure_occurrence", "gi_bleed"))
    check(definition, data(), set(), attrition=[(0, 0), (0, 0)])
