"""``Governance``: the one service the CLI, the Python API and the REST API call.

Every method takes the acting ``Identity``, asks the policy, and writes one audit entry:
``denied`` (nothing done, ``PermissionDenied`` or ``IllegalTransition`` raised),
``succeeded`` (the change and its entry commit in the same transaction) or ``failed``
(allowed, but the change was invalid and rolled back). ``authorize`` (in
``GovernedService``) records ``allowed``/``denied`` for work done elsewhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastide.audit import AuditEntry, Outcome, VerifyResult
from bastide.audit.entry import audit_safe_reason, canonical_json
from bastide.audit.log import CheckpointReport
from bastide.audit.witnesses import WITNESS_NAME, WitnessTable, register_witness
from bastide.governance import catalogue
from bastide.governance.errors import AuthenticationFailed, InvalidRequest, PermissionDenied
from bastide.governance.governed import Details, GovernedService
from bastide.governance.identity import Account, Identity, LocalAccounts
from bastide.governance.lifecycle import next_state
from bastide.governance.policy import Decision
from bastide.governance.projects import ProjectView, project_view
from bastide.governance.reference_docs import omop_tables
from bastide.governance.scope import ProjectRequest, Scope
from bastide.governance.tables import Project, ProjectMember, ProjectTransition
from bastide.governance.terms import Action, ProjectState, Role


def _scope_digest(scope: Scope) -> str:
    return hashlib.sha256(canonical_json(scope.to_dict()).encode()).hexdigest()


def _scope_details(scope: Scope) -> Details:
    return {"tables": [t for t, _ in scope.tables], "scope_sha256": _scope_digest(scope)}


def _check_warehouse_scope(scope: Scope) -> None:
    """Requested tables and columns must exist in the OMOP CDM v5.4 warehouse."""
    spec = omop_tables()
    for table, columns in scope.tables:
        if table not in spec:
            raise InvalidRequest(f"tables: {table!r} is not an OMOP CDM v5.4 table")
        unknown = sorted(set(columns) - {v.name for v in spec[table].variables})
        if unknown:
            raise InvalidRequest(f"tables.{table}: no column {', '.join(unknown)} in {table}")


def _expiry(value: datetime | date) -> datetime:
    """A date means: valid through that day (UTC), so expiry at the next midnight."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidRequest("expiry: give a timezone-aware time or a date")
        return value.astimezone(UTC)
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=UTC)


class Governance(GovernedService):
    """Accounts, projects, catalogue and audit, each call policy-checked and audited."""

    def __enter__(self) -> Governance:
        return self

    # -- projects -------------------------------------------------------------------------
    def _transition(
        self,
        actor: Identity,
        action: Action,
        name: str,
        note: str = "",
        extra: Callable[[Session, Project], Details] | None = None,
    ) -> ProjectView:
        def work(s: Session, project: Project | None, _: Decision) -> tuple[ProjectView, Details]:
            assert project is not None
            previous = ProjectState(project.state)
            target = next_state(previous, action)
            details = extra(s, project) if extra else {}
            self._move(s, project, target, actor.name, note)
            details |= {"from_state": previous.value, "to_state": target.value}
            return project_view(project), details

        return self._run(actor, action, name, work)

    def request_project(self, actor: Identity, request: ProjectRequest) -> ProjectView:
        """Ask for a project (researchers); the requester becomes its first member."""

        def work(s: Session, _p: Project | None, _d: Decision) -> tuple[ProjectView, Details]:
            _check_warehouse_scope(request.scope)
            if s.scalar(select(Project.id).where(Project.name == request.name)):
                raise InvalidRequest(f"a project named {request.name!r} already exists")
            requester, now = self._user(s, actor.name), self._clock()
            project = Project(
                name=request.name,
                title=request.title,
                purpose=request.purpose,
                legal_basis=request.legal_basis,
                authorisation=request.authorisation,
                requester=requester,
                state=ProjectState.REQUESTED.value,
                requested_scope=request.scope.to_dict(),
                created_at=now,
                updated_at=now,
            )
            project.members.append(ProjectMember(user=requester, added_at=now))
            project.history.append(
                ProjectTransition(
                    from_state=None, to_state="requested", actor=actor.name, at=now, note=""
                )
            )
            s.add(project)
            s.flush()
            return project_view(project), _scope_details(request.scope) | {"to_state": "requested"}

        return self._run(actor, Action.REQUEST_PROJECT, None, work, about=request.name)

    def review_project(self, actor: Identity, name: str, note: str = "") -> ProjectView:
        return self._transition(actor, Action.REVIEW_PROJECT, name, note)

    def approve_project(
        self,
        actor: Identity,
        name: str,
        *,
        expires: datetime | date,
        granted: Scope | None = None,
        note: str = "",
    ) -> ProjectView:
        """Approve with the granted scope (default: as requested; it may only narrow the
        request) until ``expires`` (a date: valid through that day, UTC)."""
        expires_at = _expiry(expires)

        def grant(s: Session, project: Project) -> Details:
            requested = Scope.from_dict(project.requested_scope)
            scope = granted or requested
            problems = scope.narrowing_problems(requested)
            if problems:
                raise InvalidRequest(
                    "granted scope is wider than requested: " + "; ".join(problems)
                )
            if expires_at <= self._clock():
                raise InvalidRequest(f"expiry {expires_at.isoformat()} is not in the future")
            project.granted_scope = scope.to_dict()
            project.expires_at = expires_at
            project.decided_by = self._user(s, actor.name)
            return _scope_details(scope) | {"expires_at": expires_at.isoformat()}

        return self._transition(actor, Action.APPROVE_PROJECT, name, note, grant)

    def reject_project(self, actor: Identity, name: str, note: str = "") -> ProjectView:
        def decided(s: Session, project: Project) -> Details:
            project.decided_by = self._user(s, actor.name)
            return {}

        return self._transition(actor, Action.REJECT_PROJECT, name, note, decided)

    def activate_project(self, actor: Identity, name: str, note: str = "") -> ProjectView:
        return self._transition(actor, Action.ACTIVATE_PROJECT, name, note)

    def revoke_project(self, actor: Identity, name: str, note: str = "") -> ProjectView:
        return self._transition(actor, Action.REVOKE_PROJECT, name, note)

    def close_project(self, actor: Identity, name: str, note: str = "") -> ProjectView:
        return self._transition(actor, Action.CLOSE_PROJECT, name, note)

    def add_member(self, actor: Identity, name: str, user: str) -> ProjectView:
        def work(s: Session, project: Project | None, _: Decision) -> tuple[ProjectView, Details]:
            assert project is not None
            member = self._user(s, user)
            if Role.RESEARCHER.value not in {r.role for r in member.roles}:
                raise InvalidRequest(f"{user!r} is not a researcher; only researchers are members")
            if any(m.user_id == member.id for m in project.members):
                raise InvalidRequest(f"{user!r} is already a member of {name!r}")
            project.members.append(ProjectMember(user=member, added_at=self._clock()))
            s.flush()
            return project_view(project), {"member": user}

        obj = f"user:{user}" if LocalAccounts.valid_name(user) else None
        return self._run(actor, Action.MANAGE_MEMBERS, name, work, obj=obj)

    def project(self, actor: Identity, name: str) -> ProjectView:
        def work(_s: Session, project: Project | None, _d: Decision) -> tuple[ProjectView, Details]:
            assert project is not None
            return project_view(project), {}

        return self._run(actor, Action.VIEW_PROJECT, name, work)

    def projects(self, actor: Identity) -> list[ProjectView]:
        """The projects the actor may view (one audit entry for the listing)."""
        with self.store.session() as session:
            rows = session.scalars(select(Project).order_by(Project.name)).all()
            for row in rows:
                self._expire_if_due(session, row)
            visible = [
                project_view(r) for r in rows if self._decide(actor, Action.VIEW_PROJECT, r).allowed
            ]
            self._record(
                actor.name,
                "list_projects",
                Outcome.SUCCEEDED,
                "listed the projects the actor may view",
                details={"count": len(visible)},
                session=session,
            )
            session.commit()
        self.audit.sync_head()
        return visible

    # -- accounts ---------------------------------------------------------------------------
    def identity(self, name: str) -> Identity:
        """The local account ``name`` (embedded mode: the CLI's ``--as``)."""
        with self.store.session() as session:
            return LocalAccounts(session).lookup(name)

    def login(self, name: str, password: str) -> Identity:
        """Check a local password; the attempt is audited either way."""
        actor = name if LocalAccounts.valid_name(name) else "anonymous"
        with self.store.session() as session:
            try:
                identity = LocalAccounts(session).authenticate(name, password)
            except AuthenticationFailed as exc:
                self._record(actor, "login", Outcome.FAILED, audit_safe_reason(str(exc)))
                raise
        self._record(actor, "login", Outcome.SUCCEEDED, "password accepted")
        return identity

    def add_user(
        self,
        actor: Identity | None,
        name: str,
        roles: Iterable[Role | str],
        password: str | None = None,
    ) -> Identity:
        """Add a local account (``password=None``: no password login, e.g. an account
        provisioned for an external identity). ``actor=None`` is allowed only for the
        hub's first account, which must be an operator."""
        roles = list(roles)
        obj = f"user:{name}" if LocalAccounts.valid_name(name) else None

        def work(s: Session, _p: Project | None, _d: Decision) -> tuple[Identity, Details]:
            created = LocalAccounts(s).add(name, roles, password, self._clock())
            return created, {"user": name, "roles": sorted(r.value for r in created.roles)}

        if actor is not None:
            return self._run(actor, Action.MANAGE_USERS, None, work, obj=obj)
        with self.store.session() as session:
            if LocalAccounts(session).count() > 0:
                raise PermissionDenied(
                    "the hub has accounts: act as an operator (--as)", "manage_users/bootstrap"
                )
            if Role.OPERATOR.value not in {str(r) for r in roles}:
                raise InvalidRequest("the first account of a hub must be an operator")
            created, details = work(session, None, Decision(True, "", "bootstrap"))
            self._record(
                name,
                Action.MANAGE_USERS,
                Outcome.SUCCEEDED,
                "first account of the hub (bootstrap)",
                obj=obj,
                details=details,
                session=session,
            )
            session.commit()
        self.audit.sync_head()
        return created

    def users(self, actor: Identity) -> list[Account]:
        def work(s: Session, _p: Project | None, _d: Decision) -> tuple[list[Account], Details]:
            accounts = LocalAccounts(s).accounts()
            return accounts, {"count": len(accounts)}

        return self._run(actor, Action.LIST_USERS, None, work)

    # -- catalogue --------------------------------------------------------------------------
    def datasets(self, actor: Identity) -> list[catalogue.DatasetInfo]:
        def work(
            s: Session, _p: Project | None, _d: Decision
        ) -> tuple[list[catalogue.DatasetInfo], Details]:
            return catalogue.list_datasets(s), {}

        return self._run(actor, Action.CATALOG_READ, None, work, obj="catalog:datasets")

    def describe(
        self, actor: Identity, table: str
    ) -> tuple[catalogue.DatasetInfo, list[catalogue.VariableInfo]]:
        Described = tuple[catalogue.DatasetInfo, list[catalogue.VariableInfo]]

        def work(s: Session, _p: Project | None, _d: Decision) -> tuple[Described, Details]:
            return catalogue.describe(s, table), {}

        obj = f"table:{table}" if catalogue.TABLE_NAME.match(table) else None
        return self._run(actor, Action.CATALOG_READ, None, work, obj=obj)

    def record_snapshot(
        self, actor: Identity, version: str, tables: dict[str, int], source: str
    ) -> None:
        """Record a load in the catalogue (operators: the ``ingest`` action)."""

        def work(s: Session, _p: Project | None, _d: Decision) -> tuple[None, Details]:
            catalogue.record_snapshot(s, version, tables, source, self._clock())
            return None, {"snapshot": version, "source": source, "row_counts": dict(tables)}

        obj = f"snapshot:{version}" if catalogue.TOKEN.match(version) else None
        self._run(actor, Action.INGEST, None, work, obj=obj)

    def document_variables(self, actor: Identity, tables: Iterable[str] | None = None) -> int:
        def work(s: Session, _p: Project | None, _d: Decision) -> tuple[int, Details]:
            written = catalogue.document_variables(s, tables)
            return written, {"count": written}

        return self._run(actor, Action.CATALOG_WRITE, None, work, obj="catalog:variables")

    # -- audit ------------------------------------------------------------------------------
    def audit_entries(self, actor: Identity, limit: int | None = 50) -> list[AuditEntry]:
        self.authorize(actor, Action.READ_AUDIT, obj="audit:entries")
        return self.audit.entries(limit)

    def verify_audit(self, actor: Identity) -> VerifyResult:
        """Verify the log before anything is appended (an appended entry would move a
        replaced head forward before it was seen); the outcome is then recorded."""

        def work(_s: Session, _p: Project | None, _d: Decision) -> tuple[VerifyResult, Details]:
            result = self.audit.verify()
            details: Details = {"ok": result.ok, "entries": result.entries}
            if result.first_bad_seq is not None:
                details["first_bad_seq"] = result.first_bad_seq
            return result, details

        return self._run(actor, Action.READ_AUDIT, None, work, obj="audit:verify")

    def checkpoint_audit(self, actor: Identity) -> CheckpointReport:
        """Have every witness countersign the log now (refused if it does not verify)."""

        def work(_s: Session, _p: Project | None, _d: Decision) -> tuple[CheckpointReport, Details]:
            report = self.audit.checkpoint()
            return report, {"checkpoint_seq": report.seq, "witnesses": list(report.witnesses)}

        return self._run(actor, Action.CHECKPOINT_AUDIT, None, work, obj="audit:checkpoint")

    def add_witness(self, actor: Identity, name: str, table: WitnessTable) -> str:
        """Register a witness in bastide.toml (auditors); the hub's next checkpoint, made
        at once, has it countersign the whole log. Returns its description."""

        def work(_s: Session, _p: Project | None, _d: Decision) -> tuple[str, Details]:
            witness = register_witness(self.hub.root, name, table)
            return witness.description, {"witnesses": [name]}

        obj = f"witness:{name}" if WITNESS_NAME.match(name) else None
        return self._run(actor, Action.MANAGE_WITNESSES, None, work, obj=obj)
