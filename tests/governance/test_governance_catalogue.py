"""The catalogue: documentation from the OMOP and SNDS specifications, snapshot row counts
recorded by the loader, browsing by every role."""

from __future__ import annotations

import pytest

from bastide.audit import AuditLog
from bastide.governance import Catalogue, Governance, InvalidRequest, NotFound, PermissionDenied
from bastide.governance.reference_docs import omop_tables, snds_tables
from bastide.hub import Hub


def test_reference_documentation_is_complete() -> None:
    omop = omop_tables()
    assert len(omop) == 39 and len(omop["person"].variables) == 18
    person_id = omop["person"].variables[0]
    assert (person_id.name, person_id.required) == ("person_id", True)
    assert "different person" in person_id.description
    snds = snds_tables()
    assert len(snds) > 150
    prs = snds["ER_PRS_F"]
    assert prs.description and prs.origin == "schema-snds"
    assert any(v.name == "BEN_NIR_PSA" and v.description for v in prs.variables)


def test_document_every_table(gov: Governance, people) -> None:
    written = gov.document_variables(people.stella)
    expected = sum(len(t.variables) for t in (*omop_tables().values(), *snds_tables().values()))
    assert written == expected
    datasets = {d.name: d for d in gov.datasets(people.rita)}
    assert datasets["person"].variables == 18 and datasets["person"].source == "omop-cdm-5.4"
    assert datasets["T_MCOaaB"].source == "schema-snds"
    # Documenting again replaces, it does not duplicate.
    assert gov.document_variables(people.olga, ["person"]) == 18
    info, variables = gov.describe(people.audrey, "PERSON")
    assert info.variables == len(variables) == 18
    assert [v.name for v in variables[:3]] == ["person_id", "gender_concept_id", "year_of_birth"]
    with pytest.raises(PermissionDenied, match="catalog_write needs the role operator, steward"):
        gov.document_variables(people.rita)


def test_snapshots_update_row_counts(gov: Governance, people, clock) -> None:
    gov.record_snapshot(
        people.olga, "2025-03-01.1", {"person": 1200, "death": 31}, "snds+hospitals"
    )
    clock.advance(days=1)
    gov.record_snapshot(people.olga, "2025-03-02.1", {"person": 1250}, "snds+hospitals")
    datasets = {d.name: d for d in gov.datasets(people.rita)}
    assert (datasets["person"].snapshot_version, datasets["person"].row_count) == (
        "2025-03-02.1",
        1250,
    )
    assert (datasets["death"].snapshot_version, datasets["death"].row_count) == ("2025-03-01.1", 31)
    assert datasets["death"].variables == 7  # documented from the OMOP spec on first sight
    entry = next(e for e in gov.audit.entries() if e.action == "ingest")
    assert entry.details == (
        '{"row_counts":{"person":1250},"rule":"ingest","snapshot":"2025-03-02.1",'
        '"source":"snds+hospitals"}'
    )
    with pytest.raises(PermissionDenied, match="ingest needs the role operator"):
        gov.record_snapshot(people.stella, "v3", {"person": 1}, "snds")
    with pytest.raises(InvalidRequest, match="row count of person must be >= 0"):
        gov.record_snapshot(people.olga, "v3", {"person": -1}, "snds")
    with pytest.raises(InvalidRequest, match="is not a table name"):
        gov.record_snapshot(people.olga, "v3", {"person; drop": 1}, "snds")


def test_the_loader_hook_is_audited(hub: Hub, gov: Governance, people) -> None:
    catalogue = Catalogue(hub)
    try:
        catalogue.record_snapshot("v7", {"measurement": 99, "T_MCO19B": 10}, "snds")
        by_name = {d.name: d for d in catalogue.datasets()}
    finally:
        catalogue.close()
    assert by_name["measurement"].row_count == 99
    assert by_name["T_MCO19B"].description  # a yearly extract name finds its template
    last = AuditLog(hub).entries(1)[0]
    assert (last.actor, last.action, last.object) == ("system", "record_snapshot", "snapshot:v7")
    assert gov.verify_audit(people.audrey).ok


def test_unknown_tables(gov: Governance, people) -> None:
    with pytest.raises(NotFound, match="table 'nowhere' is not in the catalogue"):
        gov.describe(people.rita, "nowhere")
    with pytest.raises(NotFound, match="no OMOP or SNDS specification for table 'nowhere'"):
        gov.document_variables(people.olga, ["nowhere"])
