"""The audit log holds metadata only: details keys are allow-listed and shaped, and no
patient-level value (identifier, birth date) of a real-layout data set reaches the log."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest
from sqlalchemy import select

from bastide.audit import ALLOWED_DETAILS, AuditDetailsError, AuditLog, validate_details
from bastide.audit.table import audit_log
from bastide.governance import Governance, InvalidRequest, ProjectRequest
from bastide.hub import Hub
from shared_data import shared_data_path

NIR = "1840275123456"  # the shape of a French NIR (without its key)


@pytest.mark.parametrize(
    "details",
    [
        {"nir": NIR},
        {"ben_nir_psa": "fvROSurjXIfxJwEop"},
        {"birth_date": "1947-06-20"},
        {"patient": "x"},
        {"value": 3.2},
        {"sql": "SELECT * FROM person WHERE person_id = 42"},
        {"file": "extract_dupont_jean.csv"},
        {"table": NIR},
        {"snapshot": f"v-{NIR}"},
        {"user": "Jean Dupont"},
        {"row_count": "12"},
        {"row_count": True},
        {"row_counts": {"person": -1}},
        {"tables": ["person", "ben nir"]},
        {"columns": ["person"]},
        {"expires_at": "soon"},
    ],
    ids=repr,
)
def test_non_metadata_details_are_refused(details: dict) -> None:
    with pytest.raises(AuditDetailsError):
        validate_details(details)


def test_metadata_details_are_accepted() -> None:
    details = {
        "table": "person",
        "tables": ["person", "death"],
        "columns": ["person.person_id"],
        "row_counts": {"person": 1200},
        "snapshot": "2025-03-01.1",
        "file_sha256": "0123456789" * 6 + "abcd",
        "expires_at": "2026-01-01T00:00:00+00:00",
    }
    assert validate_details(details) == details


def test_refusal_names_the_key(hub: Hub) -> None:
    log = AuditLog(hub)
    try:
        with pytest.raises(AuditDetailsError, match="key 'nir' is not allow-listed"):
            log.append("olga", "ingest", "succeeded", details={"nir": NIR})
        with pytest.raises(AuditDetailsError, match="object holds a long number"):
            log.append("olga", "ingest", "succeeded", obj=f"person:{NIR}")
        with pytest.raises(AuditDetailsError, match="reason holds a long number"):
            log.append("olga", "ingest", "succeeded", reason=f"loaded {NIR}")
        assert log.entries() == []
    finally:
        log.close()


def _patient_values() -> set[str]:
    """Identifiers and dates of birth/death of the synthetic SNDS beneficiaries."""
    path = shared_data_path("snds", "synthetic-snds-tables", "BENEFICIAIRE", "IR_BEN_R.csv")
    values: set[str] = set()
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for column in (
                "BEN_NIR_PSA",
                "BEN_NIR_ANO",
                "BEN_IDT_ANO",
                "ASS_NIR_ANO",
                "BEN_DCD_DTE",
            ):
                if row.get(column) and len(row[column]) >= 8:
                    values.add(row[column])
    return values


def test_the_log_holds_no_patient_level_value(hub: Hub) -> None:
    patients = _patient_values()
    assert len(patients) > 10
    nir_psa = sorted(patients)[0]
    with Governance(hub) as gov:
        olga = gov.add_user(None, "olga", ["operator"])
        stella = gov.add_user(olga, "stella", ["steward"])
        rita = gov.add_user(olga, "rita", ["researcher"])
        gov.record_snapshot(olga, "2025-03-01.1", {"IR_BEN_R": len(patients)}, "snds")
        request = {
            "name": "cohort-study",
            "title": "A cohort",
            "purpose": "Describe.",
            "legal_basis": "RGPD 9.2.j",
            "authorisation": "DR-2025-001",
            "tables": {"person": ["person_id", "year_of_birth"]},
        }
        gov.request_project(rita, ProjectRequest.from_dict(request))
        gov.review_project(stella, "cohort-study")
        gov.approve_project(stella, "cohort-study", expires=date(2099, 1, 1))
        # A researcher pasting a patient identifier where it does not belong: refused,
        # and the failure entry does not quote it.
        with pytest.raises(InvalidRequest):
            gov.request_project(
                rita,
                ProjectRequest.from_dict(
                    {**request, "name": "other", "tables": {"person": [f"id_{NIR}"]}}
                ),
            )
        with pytest.raises(AuditDetailsError):
            gov.authorize(olga, "ingest", details={"ben_nir_psa": nir_psa})
        with gov.store.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(select(audit_log))]
    assert len(rows) >= 8
    dump = repr(rows)
    assert NIR not in dump
    assert not [value for value in patients if value in dump]
    for row in rows:  # what is stored still passes the allow-list
        details = json.loads(row["details"])
        assert validate_details(details) == details
        assert set(details) <= set(ALLOWED_DETAILS)
