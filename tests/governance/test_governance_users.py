"""Local accounts: bootstrap, roles, scrypt password hashes, audited logins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bastide.governance import (
    AuthenticationFailed,
    Governance,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Role,
)
from bastide.governance.tables import User

PASSWORD = "correct horse battery staple"


def test_first_account_bootstraps_the_hub(gov: Governance) -> None:
    with pytest.raises(InvalidRequest, match="first account of a hub must be an operator"):
        gov.add_user(None, "rita", ["researcher"])
    olga = gov.add_user(None, "olga", ["operator"])
    assert olga.roles == {Role.OPERATOR}
    with pytest.raises(PermissionDenied, match="act as an operator"):
        gov.add_user(None, "mallory", ["operator"])
    first = gov.audit.entries(newest_first=False)[0]
    assert (first.actor, first.action, first.outcome) == ("olga", "manage_users", "succeeded")
    assert first.reason == "first account of the hub (bootstrap)"


def test_only_operators_add_users(gov: Governance, people) -> None:
    with pytest.raises(PermissionDenied, match="manage_users needs the role operator"):
        gov.add_user(people.stella, "eve", ["steward"])
    last = gov.audit.entries(1)[0]
    assert (last.actor, last.outcome, last.details) == (
        "stella",
        "denied",
        '{"rule":"manage_users/role"}',
    )
    both = gov.add_user(people.olga, "dana", ["researcher", "steward"])
    assert both.roles == {Role.RESEARCHER, Role.STEWARD}


@pytest.mark.parametrize(
    ("name", "roles", "message"),
    [
        ("Bad Name", ["researcher"], "user name 'Bad Name'"),
        ("system", ["researcher"], "user name 'system'"),
        ("zoe", ["admin"], "unknown role 'admin'"),
        ("zoe", [], "at least one role"),
        ("rita", ["researcher"], "user 'rita' already exists"),
    ],
)
def test_bad_accounts_are_refused(gov: Governance, people, name, roles, message) -> None:
    with pytest.raises(InvalidRequest, match=message):
        gov.add_user(people.olga, name, roles)
    assert gov.audit.entries(1)[0].outcome == "failed"


def test_passwords_are_scrypt_hashes_and_logins_are_audited(gov: Governance, people) -> None:
    gov.add_user(people.olga, "paula", ["researcher"], PASSWORD)
    with gov.store.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "paula"))
    assert stored is not None and stored.startswith("scrypt$32768$8$1$")
    assert PASSWORD not in stored
    assert gov.login("paula", PASSWORD).name == "paula"
    for name, password in [("paula", "wrong password!"), ("nobody", PASSWORD), ("rita", PASSWORD)]:
        with pytest.raises(AuthenticationFailed, match=r"^wrong user name or password$"):
            gov.login(name, password)
    logins = [(e.actor, e.outcome) for e in gov.audit.entries(4)[::-1]]
    assert logins == [
        ("paula", "succeeded"),
        ("paula", "failed"),
        ("nobody", "failed"),
        ("rita", "failed"),  # an account without a password cannot log in with one
    ]
    assert all(PASSWORD not in e.reason + e.details for e in gov.audit.entries())


def test_short_passwords_are_refused(gov: Governance, people) -> None:
    with pytest.raises(InvalidRequest, match="at least 12 characters"):
        gov.add_user(people.olga, "paula", ["researcher"], "short")


def test_listing_users(gov: Governance, people) -> None:
    accounts = gov.users(people.audrey)
    assert [(a.name, a.roles) for a in accounts][:2] == [
        ("audrey", (Role.AUDITOR,)),
        ("olga", (Role.OPERATOR,)),
    ]
    with pytest.raises(PermissionDenied, match="list_users needs the role"):
        gov.users(people.rita)


def test_unknown_identity(gov: Governance) -> None:
    with pytest.raises(NotFound, match="unknown user 'ghost'"):
        gov.identity("ghost")
