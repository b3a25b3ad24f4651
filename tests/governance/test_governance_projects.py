"""The project lifecycle through the service: four-eyes approval, granted scope, expiry,
revocation, membership; every decision in the audit log with its reason."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bastide.governance import (
    Governance,
    IllegalTransition,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ProjectRequest,
    ProjectState,
    ProjectView,
    Scope,
)

REQUEST = {
    "name": "diabetes-outcomes",
    "title": "Outcomes of type 2 diabetes",
    "purpose": "Describe complications after diagnosis.",
    "legal_basis": "RGPD art. 6.1.e and 9.2.j",
    "authorisation": "CNIL DR-2024-123",
    "tables": {
        "person": ["person_id", "year_of_birth", "gender_concept_id"],
        "condition_occurrence": ["person_id", "condition_concept_id", "condition_start_date"],
    },
    "population": {"age_min": 40, "age_max": 80, "conditions": [201826]},
    "period": {"start": "2015-01-01", "end": "2022-12-31"},
}
NAME = REQUEST["name"]


def _request(gov: Governance, people, **change) -> ProjectView:
    return gov.request_project(people.rita, ProjectRequest.from_dict({**REQUEST, **change}))


def _active(gov: Governance, people, expires: date = date(2026, 2, 28)) -> ProjectView:
    _request(gov, people)
    gov.review_project(people.stella, NAME)
    gov.approve_project(people.stella, NAME, expires=expires)
    return gov.activate_project(people.olga, NAME)


def test_full_lifecycle(gov: Governance, people, clock) -> None:
    project = _request(gov, people)
    assert (project.state, project.requester, project.members) == ("requested", "rita", ("rita",))
    gov.review_project(people.stella, NAME, note="complete file")
    narrower = Scope.from_dict(
        {
            "tables": {"person": ["person_id", "year_of_birth"]},
            "population": {"age_min": 45, "age_max": 80, "conditions": [201826]},
            "period": {"start": "2016-01-01", "end": "2022-12-31"},
        }
    )
    approved = gov.approve_project(
        people.sam, NAME, expires=date(2028, 2, 29), granted=narrower, note="no conditions table"
    )
    assert approved.state == "approved"
    assert approved.granted == narrower and approved.requested != narrower
    assert approved.decided_by == "sam"
    assert approved.expires_at is not None and approved.expires_at.isoformat() == (
        "2028-03-01T00:00:00+00:00"
    )
    active = gov.activate_project(people.olga, NAME)
    assert active.state == "active"
    assert gov.authorize(people.rita, "query_project", NAME).allowed
    closed = gov.close_project(people.rita, NAME, note="study done")
    assert [(h.from_state, h.to_state, h.actor) for h in closed.history] == [
        (None, "requested", "rita"),
        ("requested", "under_review", "stella"),
        ("under_review", "approved", "sam"),
        ("approved", "active", "olga"),
        ("active", "closed", "rita"),
    ]
    assert closed.history[2].note == "no conditions table"
    assert gov.verify_audit(people.audrey).ok


def test_requester_cannot_approve_their_own_request(gov: Governance, people) -> None:
    dual = gov.add_user(people.olga, "dual", ["researcher", "steward"])
    gov.request_project(dual, ProjectRequest.from_dict(REQUEST))
    with pytest.raises(PermissionDenied, match="requested this project and may not decide"):
        gov.review_project(dual, NAME)
    gov.review_project(people.stella, NAME)
    with pytest.raises(PermissionDenied, match="requested this project and may not decide"):
        gov.approve_project(dual, NAME, expires=date(2026, 1, 1))
    entry = gov.audit.entries(1)[0]
    assert (entry.actor, entry.action, entry.project, entry.outcome) == (
        "dual",
        "approve_project",
        NAME,
        "denied",
    )
    assert (
        entry.reason == "approve_project: the actor requested this project and may not decide on it"
    )
    assert gov.approve_project(people.stella, NAME, expires=date(2026, 1, 1)).state == "approved"


def test_illegal_transitions_are_clear(gov: Governance, people) -> None:
    _request(gov, people)
    with pytest.raises(
        IllegalTransition,
        match="approve_project needs a project that is under_review; this one is requested",
    ):
        gov.approve_project(people.stella, NAME, expires=date(2026, 1, 1))
    with pytest.raises(IllegalTransition, match="this one is requested"):
        gov.activate_project(people.olga, NAME)
    gov.review_project(people.stella, NAME)
    gov.reject_project(people.sam, NAME, note="purpose too broad")
    for call in (
        lambda: gov.review_project(people.stella, NAME),
        lambda: gov.revoke_project(people.stella, NAME),
        lambda: gov.close_project(people.rita, NAME),
    ):
        with pytest.raises(IllegalTransition, match="this one is rejected"):
            call()
    with pytest.raises(PermissionDenied, match="manage_members needs a project that is"):
        gov.add_member(people.stella, NAME, "rob")
    with pytest.raises(NotFound, match="unknown project 'nope'"):
        gov.review_project(people.stella, "nope")
    assert gov.audit.entries(1)[0].outcome == "failed"


def test_granted_scope_may_only_narrow(gov: Governance, people) -> None:
    _request(gov, people)
    gov.review_project(people.stella, NAME)
    wider = Scope.from_dict(
        {
            "tables": {"person": ["person_id", "race_concept_id"]},
            "population": {"age_min": 40, "age_max": 80, "conditions": [201826]},
            "period": {"start": "2015-01-01", "end": "2022-12-31"},
        }
    )
    with pytest.raises(
        InvalidRequest, match=r"wider than requested: columns person.\{race_concept_id\}"
    ):
        gov.approve_project(people.stella, NAME, expires=date(2026, 1, 1), granted=wider)
    with pytest.raises(InvalidRequest, match="is not in the future"):
        gov.approve_project(people.stella, NAME, expires=date(2025, 2, 1))
    failed = gov.audit.entries(1)[0]
    assert (failed.outcome, failed.details) == (
        "failed",
        '{"error":"InvalidRequest","rule":"approve_project"}',
    )
    assert gov.project(people.stella, NAME).state == "under_review"  # nothing half-done


def test_requests_are_checked_against_the_warehouse(gov: Governance, people) -> None:
    with pytest.raises(InvalidRequest, match=r"'persons' is not an OMOP CDM v5\.4 table"):
        _request(gov, people, tables={"persons": ["person_id"]})
    with pytest.raises(InvalidRequest, match="no column nir in person"):
        _request(gov, people, tables={"person": ["person_id", "nir"]})
    _request(gov, people)
    with pytest.raises(InvalidRequest, match="already exists"):
        _request(gov, people)
    with pytest.raises(PermissionDenied, match="request_project needs the role researcher"):
        gov.request_project(people.stella, ProjectRequest.from_dict({**REQUEST, "name": "other"}))


def test_expiry_is_evaluated_on_every_check(gov: Governance, people, clock) -> None:
    _active(gov, people, expires=date(2025, 3, 31))
    assert gov.authorize(people.rita, "query_project", NAME).allowed
    clock.advance(days=30, hours=14, minutes=59)  # 2025-03-31 23:59 UTC: still valid
    assert gov.authorize(people.rita, "query_project", NAME).allowed
    clock.advance(minutes=1)
    with pytest.raises(
        PermissionDenied, match="needs a project that is active; this one is expired"
    ):
        gov.authorize(people.rita, "query_project", NAME)
    expired = [e for e in gov.audit.entries(3)][::-1]
    assert [(e.actor, e.action, e.outcome) for e in expired] == [
        ("rita", "query_project", "allowed"),
        ("system", "expire_project", "succeeded"),
        ("rita", "query_project", "denied"),
    ]
    assert expired[1].reason == "the authorisation expired at 2025-04-01T00:00:00+00:00"
    assert gov.project(people.stella, NAME).state == "expired"
    with pytest.raises(IllegalTransition, match="this one is expired"):
        gov.revoke_project(people.stella, NAME)


def test_expire_due_sweeps_and_hooks_fire(gov: Governance, people, clock) -> None:
    seen: list[tuple[str, str, str]] = []
    gov.add_hook(lambda project, previous: seen.append((project.name, previous, project.state)))
    _active(gov, people, expires=date(2025, 3, 2))
    clock.advance(days=2)
    assert gov.expire_due() == [NAME]
    assert gov.expire_due() == []
    assert seen[-1] == (NAME, "active", "expired")
    assert [s[2] for s in seen] == ["under_review", "approved", "active", "expired"]


def test_revocation_stops_queries(gov: Governance, people) -> None:
    seen: list[ProjectState] = []
    gov.add_hook(lambda project, previous: seen.append(project.state))
    _active(gov, people)
    with pytest.raises(PermissionDenied, match="revoke_project needs the role steward"):
        gov.revoke_project(people.rita, NAME)
    gov.revoke_project(people.sam, NAME, note="breach of the charter")
    assert seen[-1] == "revoked"
    with pytest.raises(PermissionDenied, match="this one is revoked"):
        gov.authorize(people.rita, "query_project", NAME)


def test_membership(gov: Governance, people) -> None:
    _active(gov, people)
    with pytest.raises(PermissionDenied, match="not a member"):
        gov.authorize(people.rob, "query_project", NAME)
    with pytest.raises(PermissionDenied, match="view_project: the actor is not a member"):
        gov.project(people.rob, NAME)
    assert gov.projects(people.rob) == []
    with pytest.raises(PermissionDenied, match="manage_members needs the role steward"):
        gov.add_member(people.rita, NAME, "rob")
    with pytest.raises(InvalidRequest, match="'audrey' is not a researcher"):
        gov.add_member(people.stella, NAME, "audrey")
    assert gov.add_member(people.stella, NAME, "rob").members == ("rita", "rob")
    with pytest.raises(InvalidRequest, match="already a member"):
        gov.add_member(people.stella, NAME, "rob")
    assert gov.authorize(people.rob, "query_project", NAME).allowed
    assert [p.name for p in gov.projects(people.rob)] == [NAME]
    assert [p.name for p in gov.projects(people.audrey)] == [NAME]
    # Only the requester (or a steward) closes a project.
    with pytest.raises(PermissionDenied, match="only the project's requester"):
        gov.close_project(people.rob, NAME)


def test_every_decision_is_audited(gov: Governance, people) -> None:
    before = len(gov.audit.entries())
    _request(gov, people)
    attempts = [
        lambda: gov.review_project(people.rita, NAME),
        lambda: gov.approve_project(people.olga, NAME, expires=date(2026, 1, 1)),
        lambda: gov.authorize(people.rita, "query_project", NAME),
        lambda: gov.authorize(people.rita, "ingest"),
        lambda: gov.verify_audit(people.rita),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    gov.authorize(
        people.olga, "manage_keys", obj="key:pseudonym", details={"key_name": "pseudonym"}
    )
    entries = gov.audit.entries(newest_first=False)[before:]
    assert [e.outcome for e in entries] == ["succeeded", *["denied"] * 5, "allowed"]
    assert all(e.reason for e in entries)
    assert entries[-1].details == '{"key_name":"pseudonym","rule":"manage_keys"}'


def test_expiry_date_must_be_aware(gov: Governance, people) -> None:
    from datetime import datetime

    _request(gov, people)
    gov.review_project(people.stella, NAME)
    with pytest.raises(InvalidRequest, match="timezone-aware"):
        gov.approve_project(people.stella, NAME, expires=datetime(2026, 1, 1))
    soon = gov.now() + timedelta(hours=1)
    assert gov.approve_project(people.stella, NAME, expires=soon).expires_at == soon
