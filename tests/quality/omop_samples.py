"""Small hand-written OMOP tables without defects, and the eunomia database read as
Arrow (helpers shared by the data-quality tests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import pyarrow as pa

from bastide.cdm.spec import arrow_schema, conform
from bastide.quality import QualityReport

TODAY = date(2024, 6, 1)
D = date  # brevity in the rows below

CONCEPTS = [
    (0, "No matching concept", "Metadata"),
    (8507, "MALE", "Gender"),
    (8532, "FEMALE", "Gender"),
    (32810, "Claim", "Type Concept"),
    (32815, "Death Certificate", "Type Concept"),
    (44814724, "Period covering healthcare encounters", "Type Concept"),
    (9201, "Inpatient Visit", "Visit"),
    (9202, "Outpatient Visit", "Visit"),
    (201826, "Type 2 diabetes mellitus", "Condition"),
    (1127433, "acetaminophen 325 MG Oral Tablet", "Drug"),
    (4301351, "Surgical procedure", "Procedure"),
    (3004410, "Hemoglobin A1c", "Measurement"),
]


def clean_rows() -> dict[str, list[dict[str, object]]]:
    """Three persons observed 2019-2021; person 3 dies on 2021-06-01 and has a procedure
    ten days later (within the 30-day grace); a condition without a concept (0)."""
    claim = 32810
    return {
        "person": [
            {"person_id": i, "gender_concept_id": g, "year_of_birth": y, "race_concept_id": 0,
             "ethnicity_concept_id": 0, "person_source_value": f"p{i}"}
            for i, g, y in ((1, 8507, 1950), (2, 8532, 1980), (3, 8532, 2000))
        ],
        "observation_period": [
            {"observation_period_id": i, "person_id": i,
             "observation_period_start_date": D(2019, 1, 1),
             "observation_period_end_date": D(2021, 12, 31), "period_type_concept_id": 44814724}
            for i in (1, 2, 3)
        ],
        "visit_occurrence": [
            {"visit_occurrence_id": 10, "person_id": 1, "visit_concept_id": 9201,
             "visit_start_date": D(2020, 1, 10), "visit_end_date": D(2020, 1, 12),
             "visit_type_concept_id": claim},
            {"visit_occurrence_id": 20, "person_id": 2, "visit_concept_id": 9202,
             "visit_start_date": D(2020, 2, 1), "visit_end_date": D(2020, 2, 1),
             "visit_type_concept_id": claim},
            {"visit_occurrence_id": 30, "person_id": 3, "visit_concept_id": 9202,
             "visit_start_date": D(2020, 3, 1), "visit_end_date": D(2020, 3, 1),
             "visit_type_concept_id": claim},
        ],
        "condition_occurrence": [
            {"condition_occurrence_id": 1, "person_id": 1, "condition_concept_id": 201826,
             "condition_start_date": D(2020, 1, 10), "condition_type_concept_id": claim,
             "visit_occurrence_id": 10, "condition_source_value": "E119"},
            {"condition_occurrence_id": 2, "person_id": 2, "condition_concept_id": 0,
             "condition_start_date": D(2020, 2, 1), "condition_type_concept_id": claim,
             "visit_occurrence_id": 20, "condition_source_value": "R69"},
            {"condition_occurrence_id": 3, "person_id": 3, "condition_concept_id": 201826,
             "condition_start_date": D(2020, 3, 1), "condition_end_date": D(2020, 4, 1),
             "condition_type_concept_id": claim},
        ],
        "drug_exposure": [
            {"drug_exposure_id": i, "person_id": p, "drug_concept_id": 1127433,
             "drug_exposure_start_date": s, "drug_exposure_end_date": e,
             "drug_type_concept_id": claim, "quantity": 30.0, "days_supply": 30}
            for i, p, s, e in ((1, 1, D(2020, 1, 11), D(2020, 2, 9)),
                               (2, 2, D(2020, 2, 1), D(2020, 3, 1)),
                               (3, 3, D(2020, 3, 1), D(2020, 3, 30)),
                               (4, 1, D(2021, 1, 5), D(2021, 2, 3)))
        ],
        "procedure_occurrence": [
            {"procedure_occurrence_id": 1, "person_id": 1, "procedure_concept_id": 4301351,
             "procedure_date": D(2020, 1, 11), "procedure_type_concept_id": claim,
             "quantity": 1, "visit_occurrence_id": 10},
            {"procedure_occurrence_id": 2, "person_id": 3, "procedure_concept_id": 4301351,
             "procedure_date": D(2021, 6, 11), "procedure_type_concept_id": claim, "quantity": 1},
        ],
        "measurement": [
            {"measurement_id": i, "person_id": p, "measurement_concept_id": 3004410,
             "measurement_date": D(2020, 1, 10), "measurement_type_concept_id": claim,
             "value_as_number": v}
            for i, p, v in ((1, 1, 7.1), (2, 2, 0.0), (3, 3, 5.4))
        ],
        "death": [
            {"person_id": 3, "death_date": D(2021, 6, 1), "death_type_concept_id": 32815},
        ],
        "concept": [
            {"concept_id": i, "concept_name": n, "domain_id": d, "vocabulary_id": "Test",
             "concept_class_id": "Test", "concept_code": str(i),
             "valid_start_date": D(1970, 1, 1), "valid_end_date": D(2099, 12, 31)}
            for i, n, d in CONCEPTS
        ],
    }  # fmt: skip


def to_tables(rows: Mapping[str, list[dict[str, object]]]) -> dict[str, pa.Table]:
    """Rows as OMOP-typed Arrow tables (every field present, nulls allowed)."""
    tables = {}
    for name, records in rows.items():
        present = {key for record in records for key in record}
        schema = pa.schema([f.with_nullable(True) for f in arrow_schema(name) if f.name in present])
        tables[name] = conform(pa.Table.from_pylist(records, schema=schema), name, strict=False)
    return tables


# A runner: register tables in a session and check them (the `check` fixture).
Check = Callable[..., QualityReport]


EUNOMIA_TABLES = (
    "person", "observation_period", "visit_occurrence", "visit_detail", "condition_occurrence",
    "drug_exposure", "procedure_occurrence", "device_exposure", "measurement", "observation",
    "death", "provider", "care_site", "location", "concept",
)  # fmt: skip
