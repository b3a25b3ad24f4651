"""The OMOP standard concepts bastide itself writes (gender, visit, type, status …).

These are OHDSI's published concept ids and names; shipping them with the French
vocabularies lets foreign keys to CONCEPT hold even when no ATHENA export is loaded.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from bastide.cdm.spec import conform

# concept_id, concept_name, domain_id, vocabulary_id, concept_class_id, concept_code
CORE_CONCEPTS: tuple[tuple[int, str, str, str, str, str], ...] = (
    (8507, "MALE", "Gender", "Gender", "Gender", "M"),
    (8532, "FEMALE", "Gender", "Gender", "Gender", "F"),
    (9201, "Inpatient Visit", "Visit", "Visit", "Visit", "IP"),
    (9202, "Outpatient Visit", "Visit", "Visit", "Visit", "OP"),
    (9203, "Emergency Room Visit", "Visit", "Visit", "Visit", "ER"),
    (262, "Emergency Room and Inpatient Visit", "Visit", "Visit", "Visit", "ERIP"),
    (581458, "Pharmacy visit", "Visit", "CMS Place of Service", "Visit", "01"),
    (581476, "Home Visit", "Visit", "CMS Place of Service", "Visit", "12"),
    (581478, "Ambulance Visit", "Visit", "CMS Place of Service", "Visit", "41"),
    (32036, "Laboratory Visit", "Visit", "Visit", "Visit", "LAB"),
    (5083, "Telehealth", "Visit", "CMS Place of Service", "Visit", "02"),
    (38004193, "Case Management Visit", "Visit", "NUCC", "Visit", "251B00000X"),
    (42898160, "Non-hospital institution Visit", "Visit", "Visit", "Visit", "NHIV"),
    (32810, "Claim", "Type Concept", "Type Concept", "Type Concept", "OMOP4976890"),
    (32817, "EHR", "Type Concept", "Type Concept", "Type Concept", "OMOP4976894"),
    (
        32818,
        "EHR administration record",
        "Type Concept",
        "Type Concept",
        "Type Concept",
        "OMOP4976895",
    ),
    (32815, "Death Certificate", "Type Concept", "Type Concept", "Type Concept", "OMOP4976892"),
    (
        44814724,
        "Period covering healthcare encounters",
        "Type Concept",
        "Obs Period Type",
        "Obs Period Type",
        "OMOP generated",
    ),
    (
        32902,
        "Primary diagnosis",
        "Condition Status",
        "Condition Status",
        "Condition Status",
        "OMOP4976972",
    ),
    (
        32908,
        "Secondary diagnosis",
        "Condition Status",
        "Condition Status",
        "Condition Status",
        "OMOP4976978",
    ),
)


def core_vocabulary_table() -> pa.Table:
    """VOCABULARY rows of the vocabularies CORE_CONCEPTS come from."""
    names = sorted({c[3] for c in CORE_CONCEPTS})
    rows = [
        {
            "vocabulary_id": name,
            "vocabulary_name": f"OMOP {name}",
            "vocabulary_reference": "OMOP generated",
            "vocabulary_version": None,
            "vocabulary_concept_id": 0,
        }
        for name in names
    ]
    return conform(pa.Table.from_pylist(rows), "vocabulary")


def core_concept_table() -> pa.Table:
    """CORE_CONCEPTS as CONCEPT rows (standard, valid from 1970)."""
    rows = [
        {
            "concept_id": cid,
            "concept_name": name,
            "domain_id": domain,
            "vocabulary_id": vocabulary,
            "concept_class_id": concept_class,
            "standard_concept": "S",
            "concept_code": code,
            "valid_start_date": date(1970, 1, 1),
            "valid_end_date": date(2099, 12, 31),
            "invalid_reason": None,
        }
        for cid, name, domain, vocabulary, concept_class, code in CORE_CONCEPTS
    ]
    return conform(pa.Table.from_pylist(rows), "concept")
