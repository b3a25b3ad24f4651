"""The data-quality check on a real OMOP database: eunomia's Synthea 27 NJ extract."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest
from omop_samples import TODAY

from bastide.engines import open_engine
from bastide.quality import QualityReport, Settings, Status, run_checks


@pytest.fixture(scope="module")
def report(eunomia: dict[str, pa.Table]) -> Iterator[QualityReport]:
    engine = open_engine(threads=1)
    for name, table in eunomia.items():
        engine.register(name, table)
    yield run_checks(engine, eunomia, settings=Settings(today=TODAY))
    engine.close()


def test_every_check_runs(report: QualityReport) -> None:
    assert len(report.tables) == 15
    assert not [r for r in report.results if r.status is Status.ERROR]
    assert report.get("is_required.person.person_id").denominator == 28
    assert report.get("is_required.measurement.measurement_id").denominator == 10_040
    assert all(r.status is Status.PASS for r in report.results if r.check.name == "primary_key")


def test_known_vocabulary_gaps_are_found(report: QualityReport) -> None:
    # Eunomia ships a vocabulary subset without the gender and type concepts it uses.
    gender = report.get("foreign_key.person.gender_concept_id")
    assert (gender.status, gender.violated, gender.denominator) == (Status.FAIL, 28, 28)
    measurement_type = report.get("foreign_key.measurement.measurement_type_concept_id")
    assert measurement_type.status is Status.FAIL and measurement_type.violated == 10_040
    # ... while the event concepts themselves are all there, in the right domain.
    for check_id in (
        "foreign_key.condition_occurrence.condition_concept_id",
        "foreign_key.drug_exposure.drug_concept_id",
        "foreign_key.visit_occurrence.visit_concept_id",
        "concept_domain.drug_exposure.drug_concept_id",
    ):
        assert report.get(check_id).status is Status.PASS, check_id
    assert report.get("gender_value.person.gender_concept_id").violated == 0


def test_known_plausibility_facts(report: QualityReport) -> None:
    outside = {
        table: report.get(f"outside_observation_period.{table}.{field}").violated
        for table, field in (
            ("condition_occurrence", "condition_start_date"),
            ("procedure_occurrence", "procedure_date"),
            ("measurement", "measurement_date"),
            ("observation", "observation_date"),
            ("drug_exposure", "drug_exposure_start_date"),
            ("visit_occurrence", "visit_start_date"),
        )
    }
    assert outside == {
        "condition_occurrence": 1,
        "procedure_occurrence": 1,
        "measurement": 4,
        "observation": 6,
        "drug_exposure": 0,
        "visit_occurrence": 0,
    }
    # A few events outside observation stay under the 5 % threshold.
    assert report.get("outside_observation_period.observation.observation_date").status is (
        Status.PASS
    )
    assert all(r.violated == 0 for r in report.results if r.check.name == "after_death")
    assert report.get("person_completeness.observation_period.person_id").violated == 0
    assert report.get("year_of_birth.person.year_of_birth").status is Status.PASS


def test_report_renders(report: QualityReport, tmp_path) -> None:
    path = report.to_html(tmp_path / "quality.html")
    html = path.read_text(encoding="utf-8")
    assert "foreign_key" in html and 'data-status="fail"' in html
    assert html.count("<tr data-status=") == len(report.results)
    summary = report.summary()
    assert sum(sum(c.values()) for c in summary.values()) == len(report.results)
    assert summary["conformance"]["fail"] == len(
        [r for r in report.failures if r.check.category == "conformance"]
    )
