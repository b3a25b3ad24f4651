"""``Workspace``: a researcher's SQL over their project's extract, in a sandbox.

Four layers, each enough to stop what it covers (docs/workspace.md):

1. **governance**: every call first asks ``Governance.authorize(user, "query_project",
   project)`` (a researcher, member of an active project); a project that has ended
   answers with when it ended and that its key was destroyed;
2. **parser allow-list** (``guard``): one read-only query over the project's own tables;
3. **engine lock-down** (``sandbox``): a fresh DuckDB session that holds only the
   project's tables, with no file system, URL, extension or setting reachable;
4. **resource limits** (``limits``): memory, spill, threads, time, result size.

Every query is audited twice: the decision (``allowed``/``denied``), then the outcome
with the query's SHA-256, the row count and the duration (never the SQL text).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.audit import Outcome
from bastide.errors import BastideError
from bastide.governance import Governance, Identity, PermissionDenied
from bastide.governance.terms import TERMINAL_STATES, Action
from bastide.projects.errors import ProjectEnded
from bastide.projects.extract import open_extract, read_manifest
from bastide.projects.layout import check_name
from bastide.projects.retire import ended_message, retire
from bastide.storage.spill import spill_directory
from bastide.workspace.errors import QueryFailed, QueryRefused, QueryStopped
from bastide.workspace.guard import check_query, render
from bastide.workspace.limits import Limits
from bastide.workspace.outputs import (
    OUTPUT_NAME,
    OutputInfo,
    check_output_name,
    list_outputs,
    output_datasets,
    save_output,
)
from bastide.workspace.sandbox import Sandbox
from bastide.workspace.worker import run_bounded

if TYPE_CHECKING:
    from bastide.hub import Hub

QUERY = Action.QUERY_PROJECT.value
SAVE = "save_output"


def query_digest(sql: str) -> str:
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


class Workspace:
    """``Workspace(hub, project, user)``: ``user`` is a local account name or an
    ``Identity``; ``governance`` an open service to use (else one is opened and closed
    with the workspace); ``limits`` overrides the hub's ``[workspace]`` settings."""

    def __init__(
        self,
        hub: Hub,
        project: str,
        user: str | Identity,
        *,
        governance: Governance | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.hub = hub
        self.project = check_name(project)
        self._owns_governance = governance is None
        self.gov = governance if governance is not None else Governance(hub)
        try:
            self.user = user if isinstance(user, Identity) else self.gov.identity(user)
            self.limits = limits or Limits.from_settings(hub.settings.values.get("workspace"))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._owns_governance:
            self.gov.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace(project={self.project!r}, user={self.user.name!r})"

    # -- what researchers call ------------------------------------------------------------
    def query(self, sql: str) -> pa.Table:
        """Run one read-only query over the project's tables; the result, within the
        workspace's row and byte limits."""
        digest = query_digest(sql)
        self._authorize(obj=None, details={"query_sha256": digest})
        started = time.monotonic()
        try:
            names = self._names()
            tree = check_query(sql, names, self.project)

            def work() -> pa.Table:
                with self._session() as box:
                    return box.collect(render(tree))

            result = run_bounded(work, self.limits)
        except BastideError as exc:
            self._record(QUERY, Outcome.FAILED, exc, None, digest, started)
            raise
        self._record(QUERY, Outcome.SUCCEEDED, None, None, digest, started, result.num_rows)
        return result

    def save(self, name: str, sql: str, *, replace: bool = False) -> OutputInfo:
        """Run a query and keep its whole result as the output ``name`` of the workspace
        (encrypted under the project's key), within ``max_output_rows``."""
        digest = query_digest(sql)
        obj = f"output:{name}" if isinstance(name, str) and OUTPUT_NAME.match(name) else None
        self._authorize(obj=obj, details={"query_sha256": digest})
        started = time.monotonic()
        try:
            tables = set(self._extract_names())
            existing = {o.name for o in list_outputs(self.hub, self.project)}
            check_output_name(name, tables | (set() if replace else existing))
            tree = check_query(sql, sorted(tables | existing), self.project)
            info = OutputInfo(
                name=name,
                rows=0,
                columns=[],
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                created_by=self.user.name,
                query_sha256=digest,
                bytes=0,
            )

            def write(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> OutputInfo:
                return save_output(self.hub, self.project, info, schema, batches)

            def work() -> OutputInfo:
                with self._session() as box:
                    return box.run(
                        render(tree), write, max_rows=self.limits.max_output_rows, max_bytes=None
                    )

            saved = run_bounded(work, self.limits)
        except BastideError as exc:
            self._record(SAVE, Outcome.FAILED, exc, obj, digest, started)
            raise
        self._record(SAVE, Outcome.SUCCEEDED, None, obj, digest, started, saved.rows)
        return saved

    def tables(self) -> dict[str, list[str]]:
        """The workspace's tables (the extract's, then the saved outputs) and their
        columns."""
        self._authorize(obj=f"extract:{self.project}", details=None)
        manifest = read_manifest(self.hub, self.project)
        found = {name: list(entry.columns) for name, entry in sorted(manifest.tables.items())}
        for output in list_outputs(self.hub, self.project):
            found[output.name] = list(output.columns)
        return found

    def outputs(self) -> list[OutputInfo]:
        self._authorize(obj=f"extract:{self.project}", details=None)
        return list_outputs(self.hub, self.project)

    # -- layers ---------------------------------------------------------------------------
    def _authorize(self, obj: str | None, details: dict[str, Any] | None) -> None:
        try:
            self.gov.authorize(self.user, Action.QUERY_PROJECT, self.project, obj, details)
        except PermissionDenied as exc:
            if exc.rule == f"{QUERY}/state":
                self._refuse_if_ended()
            raise

    def _refuse_if_ended(self) -> None:
        """A member asking for a project that has ended learns when, and that its key is
        gone (destroying it now if the process that ended the project could not)."""
        try:
            view = self.gov.project(self.user, self.project)
        except BastideError:
            return
        if view.state in TERMINAL_STATES:
            retire(self.gov, view)
            raise ProjectEnded(ended_message(self.hub, view)) from None

    def _extract_names(self) -> list[str]:
        return sorted(read_manifest(self.hub, self.project).tables)

    def _names(self) -> list[str]:
        outputs = [o.name for o in list_outputs(self.hub, self.project)]
        return sorted(set(self._extract_names()) | set(outputs))

    @contextmanager
    def _session(self) -> Iterator[Sandbox]:
        manifest = read_manifest(self.hub, self.project)
        tables: dict[str, Any] = dict(open_extract(self.hub, self.project, manifest))
        outputs = list_outputs(self.hub, self.project)
        tables.update(output_datasets(self.hub, self.project, outputs))
        box = Sandbox(tables, self.limits, spill_directory(self.hub))
        try:
            yield box
        finally:
            box.close()

    def _record(
        self,
        action: str,
        outcome: Outcome,
        error: BaseException | None,
        obj: str | None,
        digest: str,
        started: float,
        rows: int | None = None,
    ) -> None:
        details: dict[str, Any] = {
            "query_sha256": digest,
            "duration_ms": int((time.monotonic() - started) * 1000),
        }
        if error is not None:
            details["error"] = type(error).__name__
            reason = _audit_reason(error)
        else:
            details["row_count"] = rows or 0
            reason = "the query ran in the workspace sandbox"
        self.gov.audit.append(self.user.name, action, outcome, self.project, obj, reason, details)


def _audit_reason(error: BaseException) -> str:
    """Why a query did not complete, in words that never quote the query or its data
    (an engine's message can quote a value; the error class is in the details)."""
    if isinstance(error, QueryRefused):
        return "refused before it ran (parser allow-list or engine lock-down)"
    if isinstance(error, QueryStopped):
        return "stopped by a resource limit of the workspace"
    if isinstance(error, QueryFailed):
        return "failed in the engine"
    return "could not run"
