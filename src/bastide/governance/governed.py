"""The governed call: load the project (applying expiry), decide, act, audit.

``GovernedService`` is the base of ``Governance``; it holds the store, the audit log, the
clock and the transition hooks, and ``authorize``, the hook for work done elsewhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastide.audit import AuditEntry, AuditLog, Outcome
from bastide.audit.entry import audit_safe_reason
from bastide.errors import BastideError
from bastide.governance.errors import IllegalTransition, NotFound, PermissionDenied
from bastide.governance.identity import Identity
from bastide.governance.lifecycle import TRANSITIONS, is_expired
from bastide.governance.policy import Context, Decision, decide
from bastide.governance.projects import ProjectView, project_view
from bastide.governance.scope import PROJECT_NAME
from bastide.governance.store import MetadataStore
from bastide.governance.tables import Project, ProjectTransition, User
from bastide.governance.terms import Action, ProjectState
from bastide.hub import Hub

T = TypeVar("T")
Clock = Callable[[], datetime]
Details = dict[str, Any]
# work(session, project or None, decision) -> (result, audit details)
Work = Callable[[Session, Project | None, Decision], tuple[T, Details]]
SYSTEM = "system"  # the actor of what the hub does by itself (expiry)
# Installed on every service, as "module:function" called with the service: whichever
# process moves a project to a final state also destroys its extract key.
SERVICE_HOOKS = ("bastide.projects.retire:install",)


class TransitionHook(Protocol):
    """Called after a project's state change is committed: e.g. destroy the project's
    data key when it becomes expired or revoked."""

    def __call__(self, project: ProjectView, previous: ProjectState) -> None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _project_field(name: str | None) -> str | None:
    """A project name as the audit log may hold it (malformed input is not logged)."""
    return name if name and PROJECT_NAME.match(name) else None


class GovernedService:
    def __init__(self, hub: Hub, *, clock: Clock | None = None) -> None:
        self.hub = hub
        self._clock = clock or _utcnow
        self.store = MetadataStore.for_hub(hub)
        self.audit = AuditLog.for_hub(hub, self.store, clock=self._clock)
        self._hooks: list[TransitionHook] = []
        self._fired: list[tuple[ProjectView, ProjectState]] = []
        for target in SERVICE_HOOKS:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)(self)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> GovernedService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add_hook(self, hook: TransitionHook) -> None:
        self._hooks.append(hook)

    def now(self) -> datetime:
        return self._clock()

    # -- recording --------------------------------------------------------------------
    def _record(
        self,
        actor: str,
        action: str,
        outcome: Outcome,
        reason: str,
        *,
        project: str | None = None,
        obj: str | None = None,
        details: Mapping[str, Any] | None = None,
        session: Session | None = None,
    ) -> AuditEntry:
        """One audit entry; inside ``session``'s transaction when given."""
        connection = session.connection() if session is not None else None
        return self.audit.append(
            actor, action, outcome, project, obj, reason, details, connection=connection
        )

    def _fire(self) -> None:
        fired, self._fired = self._fired, []
        for view, previous in fired:
            for hook in self._hooks:
                hook(view, previous)

    # -- the governed call ------------------------------------------------------------
    def _decide(
        self,
        actor: Identity,
        action: Action,
        project: Project | None,
        output_requester: str | None = None,
    ) -> Decision:
        if project is None:
            return decide(actor.roles, action, None)
        members = {m.user.name for m in project.members}
        context = Context(
            project.requester.name == actor.name,
            actor.name in members,
            output_requester is not None and output_requester == actor.name,
        )
        return decide(actor.roles, action, ProjectState(project.state), context)

    def _load_or_record(
        self, session: Session, actor: Identity, action: Action, name: str | None, obj: str | None
    ) -> Project | None:
        if name is None:
            return None
        try:
            return self._load(session, name)
        except NotFound as exc:
            self._record(actor.name, action, Outcome.FAILED, audit_safe_reason(str(exc)), obj=obj)
            raise

    def _run(
        self,
        actor: Identity,
        action: Action,
        project_name: str | None,
        work: Work[T],
        obj: str | None = None,
        about: str | None = None,
    ) -> T:
        """Load the project, decide, do ``work`` and audit it, all or nothing. ``about``
        names the project an action concerns before it exists (a request)."""
        concerned = _project_field(project_name or about)
        with self.store.session() as session:
            project = self._load_or_record(session, actor, action, project_name, obj)
            decision = self._decide(actor, action, project)
            rule = {"rule": decision.rule}
            if not decision.allowed:
                session.rollback()
                self._record(
                    actor.name,
                    action,
                    Outcome.DENIED,
                    decision.reason,
                    project=concerned,
                    obj=obj,
                    details=rule,
                )
                if decision.rule.endswith("/state") and action in TRANSITIONS:
                    raise IllegalTransition(decision.reason)
                raise PermissionDenied(decision.reason, decision.rule)
            try:
                result, details = work(session, project, decision)
                self._record(
                    actor.name,
                    action,
                    Outcome.SUCCEEDED,
                    decision.reason,
                    project=concerned,
                    obj=obj,
                    details=rule | details,
                    session=session,
                )
                session.commit()
            except BastideError as exc:
                session.rollback()
                self._fired.clear()  # nothing of the failed work was committed
                self._record(
                    actor.name,
                    action,
                    Outcome.FAILED,
                    audit_safe_reason(str(exc)),
                    project=concerned,
                    obj=obj,
                    details=rule | {"error": type(exc).__name__},
                )
                raise
        self.audit.sync_head()
        self._fire()
        return result

    def authorize(
        self,
        actor: Identity,
        action: Action | str,
        project: str | None = None,
        obj: str | None = None,
        details: Mapping[str, Any] | None = None,
        *,
        output_requester: str | None = None,
    ) -> Decision:
        """Decide and record (``allowed``/``denied``) an action done elsewhere: extract,
        workspace query, output release, ingestion, key operation. Evaluates expiry first;
        raises PermissionDenied when denied. ``output_requester`` names who asked for the
        release being reviewed (the four-eyes rule of ``review_release``)."""
        action = Action(action)
        with self.store.session() as session:
            row = self._load_or_record(session, actor, action, project, obj)
            decision = self._decide(actor, action, row, output_requester)
        outcome = Outcome.ALLOWED if decision.allowed else Outcome.DENIED
        self._record(
            actor.name,
            action,
            outcome,
            decision.reason,
            project=_project_field(project),
            obj=obj,
            details={"rule": decision.rule, **(details or {})},
        )
        if not decision.allowed:
            raise PermissionDenied(decision.reason, decision.rule)
        return decision

    # -- projects: loading, expiry, moves ---------------------------------------------
    def _load(self, session: Session, name: str) -> Project:
        project = session.scalar(select(Project).where(Project.name == name))
        if project is None:
            raise NotFound(f"unknown project {name!r}")
        self._expire_if_due(session, project)
        return project

    def _expire_if_due(self, session: Session, project: Project) -> None:
        """Expiry is checked every time a project is looked at; it commits at once."""
        if not is_expired(ProjectState(project.state), project.expires_at, self._clock()):
            return
        assert project.expires_at is not None
        previous = project.state
        self._move(session, project, ProjectState.EXPIRED, SYSTEM, "authorisation expired")
        self._record(
            SYSTEM,
            "expire_project",
            Outcome.SUCCEEDED,
            f"the authorisation expired at {project.expires_at.isoformat()}",
            project=project.name,
            details={"from_state": previous, "to_state": "expired"},
            session=session,
        )
        session.commit()
        self.audit.sync_head()
        self._fire()

    def _move(
        self, session: Session, project: Project, target: ProjectState, actor: str, note: str
    ) -> None:
        previous = ProjectState(project.state)
        now = self._clock()
        project.history.append(
            ProjectTransition(
                from_state=previous.value, to_state=target.value, actor=actor, at=now, note=note
            )
        )
        project.state = target.value
        project.updated_at = now
        session.flush()
        self._fired.append((project_view(project), previous))

    def expire_due(self) -> list[str]:
        """Expire every project past its expiry date (for a scheduler); their names."""
        names = []
        with self.store.session() as session:
            for project in session.scalars(select(Project).order_by(Project.name)).all():
                before = project.state
                self._expire_if_due(session, project)
                if project.state != before:
                    names.append(project.name)
        return names

    def _user(self, session: Session, name: str) -> User:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"unknown user {name!r}; an operator adds it with 'bastide user add'")
        return user
