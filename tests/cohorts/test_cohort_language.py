"""The cohort language: YAML and JSON files read into the same objects as the Python API,
errors that name the field, a canonical form and its digest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bastide.cohorts import (
    AgeCriterion,
    CohortDefinition,
    CohortDefinitionError,
    Concept,
    ConceptSet,
    Count,
    Entry,
    EventCriterion,
    Events,
    Exit,
    ExposureEndExit,
    IndexDateCriterion,
    Observation,
    SexCriterion,
    Window,
    definition_from_dict,
    definition_to_dict,
    load,
    loads,
)

YAML = """
name: celecoxib_new_users
version: 2
description: New users of celecoxib aged 18 or more.
concept_sets:
  celecoxib: [{vocabulary: ATC, code: M01AH01}]
  nsaids:
    - {vocabulary: ATC, code: M01A}
    - {vocabulary: ATC, code: M01AX, exclude: true}
  gi_bleeding: [{vocabulary: CIM10, code: k92.2, descendants: false}, {concept_id: 4338225}]
entry:
  events: [{domain: drug_exposure, concept_set: celecoxib}]
observation: {prior_days: 365}
inclusion:
  - name: no NSAID in the year before
    events: {domain: drug_exposure, concept_set: nsaids}
    window: [-365, -1]
    count: {at_most: 0}
  - name: no GI bleeding ever before
    events: {domain: condition_occurrence, concept_set: gi_bleeding}
    window: [-inf, -1]
    count: {exactly: 0}
    ignore_observation_period: true
  - {name: adults, age: {min: 18}}
  - {name: women, sex: female}
  - {name: indexed from 2020, index_date: {start: 2020-01-01}}
exit:
  end: exposure_end
  concept_set: celecoxib
  gap_days: 30
  extend_days: 30
  censor: [{domain: drug_exposure, concept_set: nsaids}]
"""

PYTHON = CohortDefinition(
    name="celecoxib_new_users",
    version=2,
    description="New users of celecoxib aged 18 or more.",
    concept_sets=(
        ConceptSet("celecoxib", (Concept("ATC", "M01AH01"),)),
        ConceptSet("nsaids", (Concept("ATC", "M01A"), Concept("ATC", "M01AX", exclude=True))),
        ConceptSet(
            "gi_bleeding",
            (Concept("CIM10", "K922", descendants=False), Concept(concept_id=4338225)),
        ),
    ),
    entry=Entry((Events("drug_exposure", "celecoxib"),)),
    observation=Observation(prior_days=365),
    inclusion=(
        EventCriterion(
            "no NSAID in the year before",
            Events("drug_exposure", "nsaids"),
            Window(-365, -1),
            Count(at_most=0),
        ),
        EventCriterion(
            "no GI bleeding ever before",
            Events("condition_occurrence", "gi_bleeding"),
            Window(None, -1),
            Count(0, 0),
            ignore_observation_period=True,
        ),
        AgeCriterion("adults", min=18),
        SexCriterion("women", (8532,)),
        IndexDateCriterion("indexed from 2020", start=date(2020, 1, 1)),
    ),
    exit=Exit(
        ExposureEndExit("celecoxib", gap_days=30, extend_days=30),
        censor=(Events("drug_exposure", "nsaids"),),
    ),
)


def test_yaml_and_python_build_the_same_definition(tmp_path: Path) -> None:
    assert loads(YAML) == PYTHON
    path = tmp_path / "cohort.yaml"
    path.write_text(YAML, encoding="utf-8")
    assert load(path) == PYTHON


def test_json_files_and_the_canonical_form(tmp_path: Path) -> None:
    data = definition_to_dict(PYTHON)
    path = tmp_path / "cohort.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load(path) == PYTHON
    assert definition_from_dict(json.loads(json.dumps(data))) == PYTHON


def test_the_digest_identifies_the_content() -> None:
    assert PYTHON.digest == loads(YAML).digest
    assert len(PYTHON.digest) == 64
    other = loads(YAML.replace("prior_days: 365", "prior_days: 180"))
    assert other.digest != PYTHON.digest


def _error(text: str) -> str:
    with pytest.raises(CohortDefinitionError) as info:
        loads(text)
    return str(info.value)


MINIMAL = """
name: c
version: 1
concept_sets: {x: [{vocabulary: CIM10, code: K92}]}
entry: {events: [{domain: condition_occurrence, concept_set: x}]}
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("version: 1\n", ""), "version: required"),
        (("version: 1", "version: one"), "version: expected an integer, not text"),
        (("version: 1", "version: 0"), "version: must be at least 1, not 0"),
        (("name: c", "name: 'a b'"), "name: 'a b' is not a valid name"),
        (
            ("domain: condition_occurrence", "domain: conditions"),
            "entry.events[0].domain: unknown domain 'conditions' (expected one of "
            "condition_occurrence, drug_exposure",
        ),
        (
            ("concept_set: x}", "concept_set: y}"),
            "entry.events[0].concept_set: unknown concept set 'y'",
        ),
        (
            ("code: K92", "code: K9.2.2.2.2.2.2.2"),
            "concept_sets.x[0].code: 'K9.2.2.2.2.2.2.2' is not",
        ),
        (
            ("code: K92", "code: 'K92 ?'"),
            "concept_sets.x[0].code: 'K92 ?' is not a valid CIM10 code",
        ),
        (
            ("{vocabulary: CIM10, code: K92}", "{vocabulary: CIM10}"),
            "concept_sets.x[0]: needs a concept_id, or a vocabulary and a code",
        ),
        (
            ("{vocabulary: CIM10, code: K92}", "{concept_id: 3, vocabulary: CIM10, code: K92}"),
            "concept_sets.x[0]: give either a concept_id or a vocabulary and a code, not both",
        ),
        (
            ("{vocabulary: CIM10, code: K92}", "{vocabulary: CIM10, code: K92, exclude: true}"),
            "concept_sets.x.concepts: needs at least one concept that is not excluded",
        ),
        (("entry: {", "entry: {occurrence: last, "), "entry.occurrence: must be 'first' or 'all'"),
        (("entry: {", "entry: {sometimes: 1, "), "entry.sometimes: unknown field (expected one of"),
        (
            ("concept_sets:", "collapse_days: -1\nconcept_sets:"),
            "collapse_days: must be at least 0, not -1",
        ),
    ],
)
def test_errors_name_the_field(change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    assert message in _error(text)


@pytest.mark.parametrize(
    ("inclusion", "message"),
    [
        (
            "{name: n, events: {domain: drug_exposure}, window: [-1, -365]}",
            "inclusion[0].window: start (-1) is after end (-365)",
        ),
        (
            "{name: n, events: {domain: drug_exposure}, window: [inf, 0]}",
            "inclusion[0].window[0]: 'inf' cannot bound this side of the window",
        ),
        (
            "{name: n, events: {domain: drug_exposure}, window: [-3]}",
            "inclusion[0].window: expected [start, end] in days relative to the index date",
        ),
        (
            "{name: n, events: {domain: drug_exposure}, windw: [0, 1]}",
            "inclusion[0].windw: unknown field (expected one of name, events, window, count,",
        ),
        (
            "{name: n, events: {domain: drug_exposure}, count: {at_least: 2, at_most: 1}}",
            "inclusion[0].count: at_most (1) is below at_least (2)",
        ),
        (
            "{name: n, events: {domain: death, value: {min: 3}}}",
            "inclusion[0].events.value_min: death has no numeric value",
        ),
        ("{name: n, age: {min: 70, max: 18}}", "inclusion[0].age: min (70) is above max (18)"),
        ("{name: n, sex: [woman]}", "inclusion[0].sex[0]: unknown sex 'woman'"),
        (
            "{name: n, index_date: {start: '2020-13-01'}}",
            "inclusion[0].index_date.start: expected a date YYYY-MM-DD, not '2020-13-01'",
        ),
        ("{name: n, index_date: {start: 2020-13-01}}", "not valid YAML: month must be in 1..12"),
        ("{name: n}", "inclusion[0]: needs exactly one of events, age, sex, index_date"),
        ("{name: n, age: {min: 1}, sex: male}", "inclusion[0]: needs exactly one of"),
        ("{age: {min: 1}}", "inclusion[0].name: required"),
    ],
)
def test_errors_in_criteria_name_the_field(inclusion: str, message: str) -> None:
    assert message in _error(MINIMAL + f"inclusion: [{inclusion}]\n")


@pytest.mark.parametrize(
    ("exit_", "message"),
    [
        ("{end: stop}", "exit.end: unknown exit 'stop' (expected one of fixed, observation_end"),
        ("{end: fixed}", "exit.days: required"),
        ("{end: fixed, days: -2}", "exit.days: must be at least 0, not -2"),
        ("{end: exposure_end, concept_set: z}", "exit.concept_set: unknown concept set 'z'"),
        ("{end: observation_end, gap_days: 3}", "exit.gap_days: unknown field"),
        ("{censor_at_death: maybe}", "exit.censor_at_death: expected true or false, not text"),
    ],
)
def test_errors_in_exit_name_the_field(exit_: str, message: str) -> None:
    assert message in _error(MINIMAL + f"exit: {exit_}\n")


def test_unreadable_documents() -> None:
    assert "not valid YAML" in _error("name: [unclosed")
    assert _error("- a list") == "expected a mapping, not a list"
    with pytest.raises(CohortDefinitionError, match="no such file"):
        load(Path("/nonexistent/cohort.yaml"))


def test_the_python_api_validates_too() -> None:
    with pytest.raises(CohortDefinitionError, match="start \\(3\\) is after end \\(1\\)"):
        Window(3, 1)
    with pytest.raises(CohortDefinitionError, match="concept_set: unknown concept set 'nope'"):
        CohortDefinition("c", Entry((Events("drug_exposure", "nope"),)))
    with pytest.raises(CohortDefinitionError, match="criterion 'a' is named twice"):
        CohortDefinition(
            "c",
            Entry((Events("drug_exposure"),)),
            inclusion=(AgeCriterion("a", min=1), AgeCriterion("a", max=3)),
        )
    assert Concept("CIM10", " k92.2 ").code == "K922"
    assert Concept("SNOMED", "65363002").code == "65363002"
