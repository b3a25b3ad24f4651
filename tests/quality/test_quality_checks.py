"""Each check passes on clean data and fails on the defect it is meant to find."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date

import pyarrow as pa
import pytest
from omop_samples import Check, clean_rows, to_tables

from bastide.cdm.spec import UnknownTable
from bastide.quality import Category, Status

Rows = dict[str, list[dict[str, object]]]
Tables = dict[str, pa.Table]


def test_clean_data_passes_every_check(check: Check) -> None:
    report = check(to_tables(clean_rows()))
    assert report.ok, [r.check.check_id for r in report.failures]
    assert {r.status for r in report.results} == {Status.PASS, Status.INFO}
    assert {r.check.category for r in report.results} == set(Category)
    names = {r.check.name for r in report.results}
    assert names >= {
        "field_present", "is_required", "datatype", "primary_key", "foreign_key",
        "concept_domain", "null_share", "person_completeness", "outside_observation_period",
        "after_death", "before_birth", "end_before_start", "year_of_birth", "gender_value",
        "below_minimum",
    }  # fmt: skip
    # Concept 0 is allowed; a procedure 10 days after death is within the grace period.
    assert report.get("foreign_key.condition_occurrence.condition_concept_id").violated == 0
    assert report.get("after_death.procedure_occurrence.procedure_date").violated == 0
    share = report.get("null_share.condition_occurrence.visit_occurrence_id")
    assert share.status is Status.INFO and share.violated == 1 and share.denominator == 3


def _set(table: str, index: int, **values: object) -> Callable[[Rows], None]:
    def mutate(rows: Rows) -> None:
        rows[table][index].update(values)

    return mutate


def _append_copy(table: str, index: int) -> Callable[[Rows], None]:
    def mutate(rows: Rows) -> None:
        rows[table].append(dict(rows[table][index]))

    return mutate


def _drop_period(rows: Rows) -> None:
    del rows["observation_period"][1]


PERSON = ("person",)
EVENTS = ("person", "observation_period", "death")

# (check, defect, failing rows, tables checked: the check's own and those it relates to)
ROW_DEFECTS = [
    ("is_required.person.year_of_birth", _set("person", 1, year_of_birth=None), 1, PERSON),
    ("primary_key.person.person_id", _append_copy("person", 0), 2, PERSON),
    ("foreign_key.condition_occurrence.person_id",
     _set("condition_occurrence", 0, person_id=99), 1, ("condition_occurrence", "person")),
    ("foreign_key.condition_occurrence.visit_occurrence_id",
     _set("condition_occurrence", 0, visit_occurrence_id=999), 1,
     ("condition_occurrence", "visit_occurrence")),
    ("foreign_key.condition_occurrence.condition_concept_id",
     _set("condition_occurrence", 0, condition_concept_id=999999), 1,
     ("condition_occurrence", "concept")),
    ("concept_domain.condition_occurrence.condition_concept_id",
     _set("condition_occurrence", 0, condition_concept_id=1127433), 1,
     ("condition_occurrence", "concept")),
    ("datatype.person.person_source_value", _set("person", 0, person_source_value="x" * 51), 1,
     PERSON),
    ("outside_observation_period.drug_exposure.drug_exposure_start_date",
     _set("drug_exposure", 3, drug_exposure_start_date=date(2022, 6, 1),
          drug_exposure_end_date=date(2022, 6, 30)), 1, ("drug_exposure", *EVENTS)),
    ("after_death.procedure_occurrence.procedure_date",
     _set("procedure_occurrence", 1, procedure_date=date(2021, 7, 2)), 1,
     ("procedure_occurrence", *EVENTS)),
    ("before_birth.condition_occurrence.condition_start_date",
     _set("condition_occurrence", 2, condition_start_date=date(1999, 12, 31)), 1,
     ("condition_occurrence", *EVENTS)),
    ("end_before_start.visit_occurrence.visit_end_date",
     _set("visit_occurrence", 0, visit_end_date=date(2020, 1, 9)), 1, ("visit_occurrence",)),
    ("end_before_start.observation_period.observation_period_end_date",
     _set("observation_period", 0, observation_period_end_date=date(2018, 1, 1)), 1,
     ("observation_period",)),
    ("year_of_birth.person.year_of_birth", _set("person", 0, year_of_birth=1900), 1, PERSON),
    ("year_of_birth.person.year_of_birth", _set("person", 2, year_of_birth=2025), 1, PERSON),
    ("gender_value.person.gender_concept_id", _set("person", 0, gender_concept_id=0), 1, PERSON),
    ("below_minimum.measurement.value_as_number", _set("measurement", 0, value_as_number=-1.5),
     1, ("measurement",)),
    ("below_minimum.drug_exposure.days_supply", _set("drug_exposure", 0, days_supply=-30), 1,
     ("drug_exposure",)),
    ("person_completeness.observation_period.person_id", _drop_period, 1,
     ("person", "observation_period")),
]  # fmt: skip


@pytest.mark.parametrize(("check_id", "mutate", "violated", "tables"), ROW_DEFECTS)
def test_each_check_fails_on_its_defect(
    check: Check,
    check_id: str,
    mutate: Callable[[Rows], None],
    violated: int,
    tables: tuple[str, ...],
) -> None:
    clean = {name: rows for name, rows in clean_rows().items() if name in tables}
    assert check(to_tables(clean)).get(check_id).status is Status.PASS
    defective = copy.deepcopy(clean)
    mutate(defective)
    result = check(to_tables(defective)).get(check_id)
    assert result.status is Status.FAIL
    assert result.violated == violated


def _tables(*names: str) -> Tables:
    return {name: table for name, table in to_tables(clean_rows()).items() if name in names}


def _as_text(tables: Tables, table: str, column: str, values: list[str | None]) -> Tables:
    changed = tables[table].set_column(
        tables[table].schema.get_field_index(column), column, pa.array(values, pa.string())
    )
    return {**tables, table: changed}


def test_values_not_of_the_declared_type_fail(check: Check) -> None:
    tables = _tables("person", "measurement", "death")
    tables = _as_text(tables, "person", "year_of_birth", ["1950", " 1980 ", "19x0"])
    tables = _as_text(tables, "measurement", "value_as_number", ["7.1", "n/a", "5.4"])
    tables = _as_text(tables, "death", "death_date", ["2021-13-45"])
    report = check(tables)
    for check_id in (
        "datatype.person.year_of_birth",
        "datatype.measurement.value_as_number",
        "datatype.death.death_date",
    ):
        result = report.get(check_id)
        assert (result.status, result.violated) == (Status.FAIL, 1), check_id
    # Text that does hold an integer conforms; a fractional number does not.
    decimals = _tables("person")
    years = pa.array([1950.0, 1980.5, 2000.0])
    decimals["person"] = decimals["person"].set_column(
        decimals["person"].schema.get_field_index("year_of_birth"), "year_of_birth", years
    )
    assert check(decimals).get("datatype.person.year_of_birth").violated == 1


def test_a_check_that_cannot_run_is_reported_not_raised(check: Check) -> None:
    tables = _as_text(_tables("death", "person", "procedure_occurrence"), "death", "death_date",
                      ["not a date"])  # fmt: skip
    report = check(tables)
    errors = [r for r in report.results if r.status is Status.ERROR]
    assert errors and all(r.check.name == "after_death" for r in errors)
    assert all(r.message for r in errors)
    assert not report.ok


def test_a_missing_required_column_fails_field_present(check: Check) -> None:
    tables = _tables("visit_occurrence", "person")
    tables["visit_occurrence"] = tables["visit_occurrence"].drop_columns(
        ["visit_concept_id", "visit_source_value"]
    )
    report = check(tables)
    result = report.get("field_present.visit_occurrence")
    assert result.status is Status.FAIL and result.violated == 1
    assert "missing required: visit_concept_id" in result.message
    assert "missing optional: visit_source_value" in result.message
    # The missing field has no other check; the rest of the table is still checked.
    assert not [r for r in report.results if r.check.field == "visit_concept_id"]
    assert report.get("is_required.visit_occurrence.person_id").status is Status.PASS


def test_thresholds_are_configurable(check: Check) -> None:
    rows = copy.deepcopy(clean_rows())
    rows["drug_exposure"][3]["drug_exposure_start_date"] = date(2022, 6, 1)
    tables = {k: v for k, v in to_tables(rows).items() if k in ("drug_exposure", "person",
              "observation_period")}  # fmt: skip
    check_id = "outside_observation_period.drug_exposure.drug_exposure_start_date"
    assert check(tables).get(check_id).status is Status.FAIL  # 25 % > 5 %
    relaxed = check(tables, thresholds={"outside_observation_period.drug_exposure": 30.0})
    assert relaxed.get(check_id).status is Status.PASS
    assert relaxed.get(check_id).check.threshold == 30.0
    informative = check(tables, thresholds={"outside_observation_period": None})
    assert informative.get(check_id).status is Status.INFO


def test_checks_need_their_related_tables(check: Check) -> None:
    tables = to_tables(clean_rows())
    del tables["death"], tables["concept"]
    report = check(tables)
    names = {r.check.name for r in report.results}
    assert "after_death" not in names and "concept_domain" not in names
    concept_keys = [
        r for r in report.results if r.check.name == "foreign_key" and r.check.field
        and r.check.field.endswith("_concept_id")
    ]  # fmt: skip
    assert not concept_keys
    assert report.get("foreign_key.condition_occurrence.person_id").status is Status.PASS


def test_only_omop_tables_are_checked(check: Check) -> None:
    with pytest.raises(UnknownTable):
        check({"person; DROP TABLE person": to_tables(clean_rows())["person"]})
