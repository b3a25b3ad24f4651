"""``Releases``: request, check, review and write out outputs.

1. A member of an active project asks for an output to be released, with a
   justification (``release_output``). The automatic checks run at once against the
   hub's rule profile and the project's earlier releases; the output, the table as it
   would be released and the record stay in the project area.
2. A steward who did not ask for it approves or rejects it (``review_release``). Before
   an approval the checks run again (another release may have been approved since): the
   result must be the one recorded. Outputs whose checks failed cannot be approved.
3. Only an approved output is written outside the project area, under
   ``<hub>/releases/<project>/<id>/``, as CSV with its record; the hashes of both go into
   the audit log, in the same transaction as the decision.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastide.audit import Outcome
from bastide.audit.entry import audit_safe_reason
from bastide.disclosure import Fact, Kind, Output, Profiles, Record, Status, assess
from bastide.disclosure.grid import key_from_json, key_json
from bastide.errors import BastideError
from bastide.governance import Governance, Identity, NotFound
from bastide.governance.tables import Project, User
from bastide.governance.terms import Action
from bastide.release import files
from bastide.release.errors import ReleaseError, ReleaseNotFound, ReleaseRefused
from bastide.release.tables import ReleaseCell, ReleaseRequest

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
MAX_TEXT = 4000


@dataclass(frozen=True)
class ReleaseView:
    id: int
    project: str
    output: str
    kind: str
    population: str
    profile: str
    status: Status
    state: str
    requester: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    original_sha256: str
    released_sha256: str
    record_sha256: str | None
    record: Record
    path: Path | None  # the released directory, once approved


def _spec(output: Output) -> dict[str, Any]:
    """The roles of the output's columns, to rebuild it from the stored table."""
    return {
        "dims": list(output.dims),
        "counts": list(output.counts),
        "value": output.value,
        "contributors": output.contributors,
        "largest": output.largest,
        "second_largest": output.second_largest,
        "time": output.time,
        "derived": list(output.derived),
        "total_label": output.total_label,
    }


def _rebuild(row: ReleaseRequest, table: Any) -> Output:
    spec = dict(row.record["columns"])
    output = Output(
        name=row.output,
        kind=Kind(row.kind),
        table=table,
        dims=tuple(spec.pop("dims")),
        counts=tuple(spec.pop("counts")),
        derived=tuple(spec.pop("derived")),
        population=row.population,
        **spec,
    )
    output.validate()
    return output


def _text(value: str, what: str, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ReleaseError(f"a release request needs a {what}")
    if len(value) > MAX_TEXT:
        raise ReleaseError(f"the {what} is longer than {MAX_TEXT} characters")
    return value


class Releases:
    """The release workflow over a ``Governance`` service (its store, audit log, clock)."""

    def __init__(self, gov: Governance, profiles: Profiles | None = None) -> None:
        self.gov = gov
        self.hub = gov.hub
        self.profiles = profiles or Profiles.from_config(self.hub.settings.values.get("disclosure"))

    # -- requests ------------------------------------------------------------------------
    def request(
        self,
        actor: Identity,
        project: str,
        output: Output,
        justification: str,
        *,
        exception: str = "",
        profile: str | None = None,
    ) -> ReleaseView:
        """Ask for ``output`` to be released; the checks run now. Raises PermissionDenied
        unless the actor is a member of the active project."""
        self.gov.authorize(actor, Action.RELEASE_OUTPUT, project, obj=f"output:{output.name}")
        try:
            justification = _text(justification, "justification", required=True)
            exception = _text(exception, "exception request", required=False)
            rules = self.profiles.get(profile)
            with self.gov.store.session() as session:
                project_row = self._project(session, project)
                history = self._history(session, project_row.id)
                assessment = assess(output, rules, history)
                now = self.gov.now()
                record = assessment.record.with_(
                    justification=justification,
                    exception=exception,
                    original_sha256=files.table_sha256(output.table),
                    released_sha256=files.table_sha256(assessment.released),
                )
                row = ReleaseRequest(
                    project=project_row,
                    output=output.name,
                    kind=output.kind.value,
                    population=output.population,
                    profile=rules.name,
                    status=record.status.value,
                    state=PENDING,
                    requester=self._user(session, actor.name),
                    justification=justification,
                    exception=exception,
                    record={},
                    original_sha256=record.original_sha256,
                    released_sha256=record.released_sha256,
                    record_sha256=None,
                    requested_at=now,
                    note="",
                )
                session.add(row)
                session.flush()
                record = record.with_(
                    extra={
                        "release_id": row.id,
                        "project": project,
                        "requested_by": actor.name,
                        "requested_at": now.isoformat(),
                        "columns": _spec(output),
                    }
                )
                row.record = record.to_dict()
                session.add_all(
                    ReleaseCell(
                        release_id=row.id,
                        population=f.population,
                        column_name=f.column,
                        cell_key=key_json(f.key),
                        value=f.value,
                        published=f.published,
                        is_count=f.count,
                    )
                    for f in assessment.facts
                )
                # The id is not committed yet: anything under it is left from a crash.
                files.remove_pending(self.hub, project, row.id)
                files.write_pending(
                    self.hub, project, row.id, output.table, assessment.released, row.record
                )
                try:
                    self.gov.audit.append(
                        actor.name,
                        Action.RELEASE_OUTPUT,
                        Outcome.SUCCEEDED,
                        project,
                        f"release:{row.id}",
                        f"release {row.id} requested; automatic checks: {record.status}",
                        {
                            "release_id": row.id,
                            "output_sha256": record.original_sha256,
                            "released_sha256": record.released_sha256,
                            "profile": rules.name,
                            "check_status": record.status.value,
                        },
                        connection=session.connection(),
                    )
                    session.commit()
                except BaseException:
                    files.remove_pending(self.hub, project, row.id)
                    raise
                view = self._view(row)
        except BastideError as exc:
            self._failed(actor, Action.RELEASE_OUTPUT, project, f"output:{output.name}", exc)
            raise
        self.gov.audit.sync_head()
        return view

    # -- decisions -----------------------------------------------------------------------
    def review(
        self, actor: Identity, release_id: int, *, approve: bool, note: str = ""
    ) -> ReleaseView:
        """Approve (and write out) or reject a pending request; stewards only, never the
        requester."""
        obj = f"release:{release_id}"
        with self.gov.store.session() as session:
            row = session.get(ReleaseRequest, release_id)
            if row is None:
                exc = ReleaseNotFound(f"no release request {release_id}")
                self._failed(actor, Action.REVIEW_RELEASE, None, obj, exc)
                raise exc
            project, requester = row.project.name, row.requester.name
        self.gov.authorize(
            actor, Action.REVIEW_RELEASE, project, obj=obj, output_requester=requester
        )
        written: Path | None = None
        try:
            note = _text(note, "note", required=False)
            with self.gov.store.session() as session:
                row = session.get(ReleaseRequest, release_id)
                assert row is not None
                if row.state != PENDING:
                    raise ReleaseRefused(f"release {release_id} is already {row.state}")
                now = self.gov.now()
                record = Record.from_dict(row.record)
                decision = {
                    "state": APPROVED if approve else REJECTED,
                    "decided_by": actor.name,
                    "decided_at": now.isoformat(),
                    "note": note,
                }
                details: dict[str, Any] = {"release_id": release_id}
                if approve:
                    csv = self._recheck(session, row, record)
                    final = record.with_(extra=dict(record.extra) | decision)
                    record_bytes = files.record_json(final.to_dict())
                    # Still pending: a directory there is left from an attempt that did not
                    # commit.
                    files.remove_released(self.hub, project, release_id)
                    written = files.write_released(
                        self.hub, project, release_id, row.output, csv, record_bytes
                    )
                    row.record = final.to_dict()
                    row.record_sha256 = files.sha256(record_bytes)
                    details |= {
                        "released_sha256": row.released_sha256,
                        "record_sha256": row.record_sha256,
                    }
                else:
                    row.record = record.with_(extra=dict(record.extra) | decision).to_dict()
                row.state = decision["state"]
                row.decided_by = self._user(session, actor.name)
                row.decided_at = now
                row.note = note
                session.flush()
                self.gov.audit.append(
                    actor.name,
                    Action.REVIEW_RELEASE,
                    Outcome.SUCCEEDED,
                    project,
                    obj,
                    f"release {release_id} {row.state}",
                    details | {"to_state": row.state},
                    connection=session.connection(),
                )
                session.commit()
                view = self._view(row)
        except BaseException as exc:
            if written is not None:
                files.remove_released(self.hub, project, release_id)
            if isinstance(exc, BastideError):
                self._failed(actor, Action.REVIEW_RELEASE, project, obj, exc)
            raise
        self.gov.audit.sync_head()
        return view

    def _recheck(self, session: Session, row: ReleaseRequest, record: Record) -> bytes:
        """Run the checks again on the stored output; they must give the recorded result.
        Returns the released CSV."""
        if row.status == Status.FAIL.value:
            failed = [c.check for c in record.checks if c.result is Status.FAIL]
            raise ReleaseRefused(
                f"release {row.id} failed its automatic checks ({', '.join(failed)}) and cannot "
                "be approved; the researcher may request a corrected output"
            )
        project = row.project.name
        original = files.read_pending(self.hub, project, row.id, "original")
        if files.table_sha256(original) != row.original_sha256:
            raise ReleaseError(f"release {row.id}: the stored output does not match its hash")
        rules = self.profiles.get(row.profile)
        assessment = assess(_rebuild(row, original), rules, self._history(session, row.project_id))
        csv = files.table_csv(assessment.released)
        if files.sha256(csv) != row.released_sha256 or assessment.record.status.value != row.status:
            raise ReleaseRefused(
                f"release {row.id}: the checks give another result now that more outputs of "
                f"{project!r} were released; reject it and ask for a new request"
            )
        return csv

    # -- reading -------------------------------------------------------------------------
    def list(self, actor: Identity, project: str) -> list[ReleaseView]:
        """The project's release requests (anyone who may view the project)."""
        self.gov.authorize(actor, Action.VIEW_PROJECT, project, obj="releases:list")
        with self.gov.store.session() as session:
            project_row = self._project(session, project)
            rows = session.scalars(
                select(ReleaseRequest)
                .where(ReleaseRequest.project_id == project_row.id)
                .order_by(ReleaseRequest.id)
            ).all()
            return [self._view(r) for r in rows]

    def show(self, actor: Identity, release_id: int) -> ReleaseView:
        with self.gov.store.session() as session:
            row = session.get(ReleaseRequest, release_id)
            if row is None:
                raise ReleaseNotFound(f"no release request {release_id}")
            project = row.project.name
        self.gov.authorize(actor, Action.VIEW_PROJECT, project, obj=f"release:{release_id}")
        with self.gov.store.session() as session:
            row = session.get(ReleaseRequest, release_id)
            assert row is not None
            return self._view(row)

    # -- helpers -------------------------------------------------------------------------
    def _history(self, session: Session, project_id: int) -> builtins.list[Fact]:
        """The cells of the project's approved releases."""
        rows = session.execute(
            select(ReleaseCell, ReleaseRequest.output)
            .join(ReleaseRequest, ReleaseCell.release_id == ReleaseRequest.id)
            .where(ReleaseRequest.project_id == project_id, ReleaseRequest.state == APPROVED)
            .order_by(ReleaseCell.id)
        ).all()
        return [
            Fact(
                cell.release_id,
                output,
                cell.population,
                cell.column_name,
                key_from_json(cell.cell_key),
                cell.value,
                cell.published,
                cell.is_count,
            )
            for cell, output in rows
        ]

    @staticmethod
    def _project(session: Session, name: str) -> Project:
        project = session.scalar(select(Project).where(Project.name == name))
        if project is None:
            raise NotFound(f"unknown project {name!r}")
        return project

    @staticmethod
    def _user(session: Session, name: str) -> User:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise NotFound(f"unknown user {name!r}")
        return user

    def _view(self, row: ReleaseRequest) -> ReleaseView:
        path = (
            files.released_dir(self.hub, row.project.name, row.id)
            if row.state == APPROVED
            else None
        )
        return ReleaseView(
            id=row.id,
            project=row.project.name,
            output=row.output,
            kind=row.kind,
            population=row.population,
            profile=row.profile,
            status=Status(row.status),
            state=row.state,
            requester=row.requester.name,
            requested_at=row.requested_at,
            decided_by=row.decided_by.name if row.decided_by else None,
            decided_at=row.decided_at,
            original_sha256=row.original_sha256,
            released_sha256=row.released_sha256,
            record_sha256=row.record_sha256,
            record=Record.from_dict(row.record),
            path=path,
        )

    def _failed(
        self,
        actor: Identity,
        action: Action,
        project: str | None,
        obj: str | None,
        exc: BaseException,
    ) -> None:
        self.gov.audit.append(
            actor.name,
            action,
            Outcome.FAILED,
            project,
            obj,
            audit_safe_reason(str(exc)),
            {"error": type(exc).__name__},
        )


def released_files(view: ReleaseView) -> Sequence[Path]:
    """The files an approved release wrote (CSV, then record)."""
    if view.path is None:
        return ()
    return (view.path / f"{view.output}.csv", view.path / "record.json")
