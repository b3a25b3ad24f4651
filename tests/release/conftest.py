"""A hub (SQLite metadata store) with one account per role and an active project
``asthma-care`` whose members are rita and rob; the release service over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bastide.governance import Governance, Identity, ProjectRequest
from bastide.hub import Hub
from bastide.release import Releases

PROJECT = "asthma-care"
REQUEST = {
    "name": PROJECT,
    "title": "Asthma care pathways",
    "purpose": "Describe care pathways of adults with asthma.",
    "legal_basis": "RGPD art. 6.1.e and 9.2.j",
    "authorisation": "CNIL DR-2025-042",
    "tables": {"person": ["person_id", "year_of_birth"]},
    "period": {"start": "2018-01-01", "end": "2023-12-31"},
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass(frozen=True)
class People:
    olga: Identity  # operator
    stella: Identity  # steward
    sam: Identity  # steward
    rita: Identity  # researcher, requested the project
    rob: Identity  # researcher, member
    ron: Identity  # researcher, not a member
    audrey: Identity  # auditor
    vera: Identity  # researcher and steward, member


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub.init(tmp_path / "hub")


@pytest.fixture
def gov(hub: Hub) -> Iterator[Governance]:
    with Governance(hub, clock=Clock()) as service:
        yield service


@pytest.fixture
def people(gov: Governance) -> People:
    olga = gov.add_user(None, "olga", ["operator"])
    roles = {
        "stella": ["steward"],
        "sam": ["steward"],
        "rita": ["researcher"],
        "rob": ["researcher"],
        "ron": ["researcher"],
        "audrey": ["auditor"],
        "vera": ["researcher", "steward"],
    }
    made = {name: gov.add_user(olga, name, r) for name, r in roles.items()}
    return People(olga=olga, **made)


@pytest.fixture
def project(gov: Governance, people: People) -> str:
    gov.request_project(people.rita, ProjectRequest.from_dict(REQUEST))
    gov.review_project(people.stella, PROJECT)
    gov.approve_project(people.stella, PROJECT, expires=date(2027, 12, 31))
    gov.activate_project(people.olga, PROJECT)
    gov.add_member(people.stella, PROJECT, "rob")
    gov.add_member(people.stella, PROJECT, "vera")
    return PROJECT


@pytest.fixture
def releases(gov: Governance) -> Releases:
    return Releases(gov)
