"""Read models of projects, as the service hands them out (never ORM objects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bastide.governance.scope import Scope
from bastide.governance.tables import Project
from bastide.governance.terms import ProjectState


@dataclass(frozen=True)
class TransitionView:
    from_state: ProjectState | None
    to_state: ProjectState
    actor: str
    at: datetime
    note: str


@dataclass(frozen=True)
class ProjectView:
    name: str
    title: str
    purpose: str
    legal_basis: str
    authorisation: str
    requester: str
    state: ProjectState
    requested: Scope
    granted: Scope | None  # set on approval; what the extract materialises
    expires_at: datetime | None
    decided_by: str | None
    members: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    history: tuple[TransitionView, ...]


def project_view(row: Project) -> ProjectView:
    return ProjectView(
        name=row.name,
        title=row.title,
        purpose=row.purpose,
        legal_basis=row.legal_basis,
        authorisation=row.authorisation,
        requester=row.requester.name,
        state=ProjectState(row.state),
        requested=Scope.from_dict(row.requested_scope),
        granted=Scope.from_dict(row.granted_scope) if row.granted_scope else None,
        expires_at=row.expires_at,
        decided_by=row.decided_by.name if row.decided_by else None,
        members=tuple(sorted(m.user.name for m in row.members)),
        created_at=row.created_at,
        updated_at=row.updated_at,
        history=tuple(
            TransitionView(
                ProjectState(t.from_state) if t.from_state else None,
                ProjectState(t.to_state),
                t.actor,
                t.at,
                t.note,
            )
            for t in row.history
        ),
    )
