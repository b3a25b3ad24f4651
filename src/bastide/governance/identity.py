"""Who is acting: ``Identity`` and the providers that vouch for one.

Every governance method takes an ``Identity`` (a name and its roles). Where it comes
from is the ``IdentityProvider`` seam:

- embedded mode: ``LocalAccounts``, users in the metadata store with scrypt password
  hashes; the CLI acts as ``--as USER`` / ``$BASTIDE_USER`` because whoever runs it
  already holds the hub's key file;
- production: an OpenID Connect provider (not part of this package yet) validates a
  bearer token and maps its claims to an ``Identity``; it provisions a local user row
  (without password) on first sight so that memberships and the audit trail name it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastide.governance.errors import AuthenticationFailed, InvalidRequest, NotFound
from bastide.governance.passwords import hash_password, verify_password
from bastide.governance.tables import User, UserRole
from bastide.governance.terms import Role

USER_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
RESERVED_NAMES = frozenset({"system", "bootstrap", "anonymous"})


@dataclass(frozen=True)
class Identity:
    name: str
    roles: frozenset[Role]
    provider: str = "local"

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Account:
    """A user as listed to operators and auditors (never the password hash)."""

    name: str
    roles: tuple[Role, ...]
    provider: str
    has_password: bool
    created_at: datetime


class IdentityProvider(Protocol):
    """Turns a name (and a credential) into an ``Identity``."""

    def lookup(self, name: str) -> Identity: ...

    def authenticate(self, name: str, secret: str) -> Identity: ...


def parse_roles(roles: Iterable[Role | str]) -> frozenset[Role]:
    parsed = set()
    for role in roles:
        try:
            parsed.add(Role(role))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise InvalidRequest(f"unknown role {role!r} (expected one of {known})") from None
    if not parsed:
        raise InvalidRequest("a user needs at least one role")
    return frozenset(parsed)


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name) or name in RESERVED_NAMES:
        raise InvalidRequest(
            f"user name {name!r}: use 2-64 lower-case letters, digits, '.', '_' or '-' "
            f"(not {', '.join(sorted(RESERVED_NAMES))})"
        )
    return name


def _identity(user: User) -> Identity:
    return Identity(user.name, frozenset(Role(r.role) for r in user.roles), user.provider)


class LocalAccounts:
    """Local accounts in the metadata store (embedded mode). Works inside a caller's
    session so that account changes commit together with their audit entry."""

    provider = "local"

    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def valid_name(name: str) -> bool:
        return bool(USER_NAME.match(name)) and name not in RESERVED_NAMES

    def _get(self, name: str) -> User | None:
        return self.session.scalar(select(User).where(User.name == name))

    def count(self) -> int:
        return len(self.session.scalars(select(User.id)).all())

    def add(
        self, name: str, roles: Iterable[Role | str], password: str | None, now: datetime
    ) -> Identity:
        check_user_name(name)
        parsed = parse_roles(roles)
        if self._get(name) is not None:
            raise InvalidRequest(f"user {name!r} already exists")
        user = User(
            name=name,
            password_hash=hash_password(password) if password is not None else None,
            provider=self.provider,
            created_at=now,
        )
        user.roles = [UserRole(role=role.value) for role in sorted(parsed)]
        self.session.add(user)
        self.session.flush()
        return _identity(user)

    def lookup(self, name: str) -> Identity:
        user = self._get(name)
        if user is None:
            raise NotFound(f"unknown user {name!r}; an operator adds it with 'bastide user add'")
        return _identity(user)

    def authenticate(self, name: str, secret: str) -> Identity:
        user = self._get(name)
        ok = verify_password(secret, user.password_hash if user else None)
        if user is None or not ok:
            raise AuthenticationFailed("wrong user name or password")
        return _identity(user)

    def accounts(self) -> list[Account]:
        users = self.session.scalars(select(User).order_by(User.name)).all()
        return [
            Account(
                u.name,
                tuple(sorted(Role(r.role) for r in u.roles)),
                u.provider,
                u.password_hash is not None,
                u.created_at,
            )
            for u in users
        ]
