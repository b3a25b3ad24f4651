"""Study files: the example study, shared concept sets, cohort files, errors that name
the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bastide.cohorts import ExposureEndExit, definition_to_dict
from bastide.cohorts.loader import parse_document
from bastide.studies import StudyError, load_study, study_from_dict
from bastide.studies.runner import required_columns
from bastide.studies.study import ComparativeSpec, UtilisationSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "studies" / "nsaid_gi_bleeding.yaml"

BASE = """
study: s
version: 1
concept_sets:
  drug: [{vocabulary: ATC, code: M01AH01}]
  other: [{vocabulary: ATC, code: M01AB05}]
cohorts:
  users:
    version: 1
    entry: {events: [{domain: drug_exposure, concept_set: drug}]}
    exit: {end: exposure_end, concept_set: drug, gap_days: 30}
analyses:
  - {name: counts, type: counts, cohorts: [users]}
"""


def test_the_example_study() -> None:
    study = load_study(EXAMPLE)
    assert study.name == "nsaid_gi_bleeding"
    assert [c.name for c in study.cohorts] == ["celecoxib", "diclofenac", "gi_bleeding"]
    celecoxib = study.cohort("celecoxib")
    assert celecoxib.observation.prior_days == 365
    assert celecoxib.inclusion[0].window.start == -365  # type: ignore[union-attr]
    rule = celecoxib.exit.rule
    assert isinstance(rule, ExposureEndExit) and (rule.gap_days, rule.extend_days) == (30, 30)
    # Shared concept sets are merged into the cohorts that use them, and only those.
    assert [cs.name for cs in celecoxib.concept_sets] == ["celecoxib", "study_drugs", "diclofenac"]
    assert [cs.name for cs in study.cohort("gi_bleeding").concept_sets] == ["gi_bleeding"]
    assert study.cohort("gi_bleeding").concept_sets[0].concepts[0].code == "K922"
    comparison = study.analyses[-1]
    assert isinstance(comparison, ComparativeSpec) and comparison.adjust == ("age", "sex")
    assert len(study.digest) == 64
    assert load_study(EXAMPLE).digest == study.digest
    need = required_columns(study)
    assert "days_supply" in need["drug_exposure"] and "concept_ancestor" in need


def test_cohort_files_relative_to_the_study(tmp_path: Path) -> None:
    data = parse_document(BASE)
    cohort = definition_to_dict(study_from_dict(data).cohort("users"))
    (tmp_path / "cohorts").mkdir()
    (tmp_path / "cohorts" / "users.yaml").write_text(yaml.safe_dump(cohort), encoding="utf-8")
    data["cohorts"] = {"users": {"file": "cohorts/users.yaml"}}
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    study = load_study(tmp_path / "study.yaml")
    assert study.cohort("users") == study_from_dict(parse_document(BASE)).cohort("users")
    data["cohorts"] = {"others": {"file": "cohorts/users.yaml"}}
    data["analyses"] = [{"name": "c", "type": "counts", "cohorts": ["others"]}]
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(StudyError, match=r"users\.yaml defines cohort 'users', not 'others'"):
        load_study(tmp_path / "study.yaml")


def _error(text: str) -> str:
    with pytest.raises(StudyError) as info:
        study_from_dict(parse_document(text))
    return str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("version: 1\nconcept_sets", "concept_sets"), "study file.version: required"),
        (("study: s", "study: 'S S'"), "study: 'S S' is not a valid name"),
        (("type: counts", "type: survival"), "analyses[0].type: expected one of counts,"),
        (("cohorts: [users]}", "cohorts: [nobody]}"), "analyses[0]: unknown cohort 'nobody'"),
        (("name: counts,", "name: counts, colour: red,"), "analyses[0].colour: unknown field"),
        (
            ("gap_days: 30}", "gap_days: -30}"),
            "cohorts.users.exit.gap_days: must be at least 0, not -30",
        ),
        (
            ("concept_set: drug}]}", "concept_set: nothing}]}"),
            "cohorts.users.entry.events[0].concept_set: unknown concept set 'nothing'",
        ),
        (
            (
                "- {name: counts, type: counts, cohorts: [users]}",
                "- {name: counts, type: counts, cohorts: [users]}\n"
                "  - {name: counts, type: counts, cohorts: [users]}",
            ),
            "analyses[1].name: 'counts' is used twice",
        ),
        (
            (
                "- {name: counts, type: counts, cohorts: [users]}",
                "- {name: x, type: comparative, target: users, comparator: users, "
                "outcome: users, adjust: [bmi]}",
            ),
            "analyses[0].adjust[0]: 'bmi' is not one of age, sex",
        ),
        (
            (
                "- {name: counts, type: counts, cohorts: [users]}",
                "- {name: x, type: drug_utilisation, cohort: users, concept_set: nope}",
            ),
            "analyses[0].concept_set: cohort 'users' has no concept set 'nope'",
        ),
        (
            (
                "- {name: counts, type: counts, cohorts: [users]}",
                "- {name: x, type: characterisation, cohorts: [users], window: [0, -3]}",
            ),
            "analyses[0].window: start (0) is after end (-3)",
        ),
        (
            (
                "- {name: counts, type: counts, cohorts: [users]}",
                "- {name: x, type: incidence, cohort: users, outcome: users, strata: [region]}",
            ),
            "analyses[0].strata[0]: 'region' is not one of age_band, sex, year",
        ),
    ],
)
def test_errors_name_the_field(change: tuple[str, str], message: str) -> None:
    text = BASE.replace(*change)
    assert text != BASE
    assert message in _error(text)


def test_utilisation_needs_a_drug_concept_set() -> None:
    text = BASE.replace(
        "exit: {end: exposure_end, concept_set: drug, gap_days: 30}", "exit: {end: fixed, days: 1}"
    ).replace(
        "- {name: counts, type: counts, cohorts: [users]}",
        "- {name: use, type: drug_utilisation, cohort: users}",
    )
    assert "analyses[0].concept_set: required (cohort 'users' does not end with exposure)" in (
        _error(text)
    )
    fixed = study_from_dict(
        parse_document(text.replace("cohort: users}", "cohort: users, concept_set: drug}"))
    )
    assert isinstance(fixed.analyses[0], UtilisationSpec)


def test_a_file_that_is_not_there() -> None:
    with pytest.raises(StudyError, match="no such file"):
        load_study(Path("/nonexistent/study.yaml"))
