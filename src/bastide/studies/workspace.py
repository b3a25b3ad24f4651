"""Running a study inside a project's workspace: the project's extract only, in the
workspace's locked-down engine session, with its resource limits; outputs written to the
project area; the run audited.

1. ``Workspace(hub, project, user)`` checks first that the user is a member of the active
   project (an ended project answers with when it ended), then the study itself is
   authorised (``query_project`` on ``study:<name>``, with the study's digest);
2. the study's cohorts and analyses must find every table and column they read in the
   extract (the granted perimeter), else nothing runs and the error lists what is missing;
3. the extract's tables are registered in a `bastide.workspace.Sandbox` (no file, URL,
   extension or setting reachable); every query of the study runs under the workspace's
   time limit and row bound;
4. outputs go to ``<hub>/projects/<project>/workspace/studies/<study>/<run>/``: aggregate
   tables, figures, the report, the manifest. They leave only through a release request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.studies.errors import StudyError
from bastide.studies.files import RunFiles
from bastide.studies.runner import StudyRun, required_columns, run_study
from bastide.studies.study import Study

if TYPE_CHECKING:
    import sqlglot.expressions as exp

    from bastide.hub import Hub
    from bastide.workspace import Sandbox

RUN_STUDY = "run_study"
EXPORT_STUDY = "export_study"
STUDIES_DIR = Path("workspace") / "studies"
EXPORTS_DIR = Path("workspace") / "exports"


def studies_dir(hub: Hub, project: str) -> Path:
    from bastide.projects.layout import project_dir

    return project_dir(hub, project) / STUDIES_DIR


class SandboxEngine:
    """The `Engine` interface over a workspace sandbox: every query runs under the
    sandbox's watchdog and is bounded by the workspace's ``max_output_rows``."""

    name = "duckdb"

    def __init__(self, box: Sandbox) -> None:
        self.box = box

    @property
    def tables(self) -> frozenset[str]:
        return frozenset(self.box.engine.tables)

    def register(self, name: str, data: Any) -> None:
        self.box.engine.register(name, data)

    def unregister(self, name: str) -> None:
        self.box.engine.unregister(name)

    def query(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> pa.Table:
        if params:
            raise StudyError("studies do not bind parameters")

        def gather(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> pa.Table:
            return pa.Table.from_batches(list(batches), schema)

        return self.box.run(
            sql,  # type: ignore[arg-type]  # the engine renders expression trees itself
            gather,
            max_rows=self.box.limits.max_output_rows,
            max_bytes=None,
        )

    def stream(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> Any:
        return pa.RecordBatchReader.from_batches(
            (table := self.query(sql, params)).schema, table.to_batches()
        )

    def execute(self, sql: str | exp.Expression, params: dict[str, Any] | None = None) -> None:
        raise StudyError("studies only read in the workspace")

    def register_parquet(self, name: str, source: Any) -> None:
        raise StudyError("studies read only the project's extract: no files in the workspace")

    def encrypt_spill(self, directory: Path) -> None:
        """The sandbox already spills only encrypted blocks, into its own directory."""

    def restrict(self) -> None:
        """Already locked down by the sandbox."""

    def close(self) -> None:
        self.box.close()


def _missing(study: Study, available: dict[str, list[str]]) -> list[str]:
    missing = []
    for table, columns in sorted(required_columns(study).items()):
        if table not in available:
            missing.append(f"{table} (table)")
            continue
        missing += [f"{table}.{c}" for c in sorted(columns) if c not in available[table]]
    return missing


def run_in_workspace(
    hub: Hub,
    project: str,
    user: str,
    study: Study,
    *,
    directory: Path | None = None,
    progress: Callable[[str], None] | None = None,
    governance: Any = None,
    limits: Any = None,
) -> StudyRun:
    """Run ``study`` on ``project``'s extract as ``user`` (see the module's docstring)."""
    from bastide.audit import Outcome
    from bastide.governance.terms import Action
    from bastide.projects.extract import open_extract, read_manifest
    from bastide.projects.layout import key_scope
    from bastide.storage import encryption_for
    from bastide.storage.spill import spill_directory
    from bastide.workspace import Sandbox, Workspace

    with Workspace(hub, project, user, governance=governance, limits=limits) as ws:
        available = ws.tables()  # governance first: member of an active project
        obj = f"study:{study.name}"
        # Audit details are allow-listed metadata: the study's digest is what was run.
        details = {"version": str(study.version), "query_sha256": study.digest}
        ws.gov.authorize(ws.user, Action.QUERY_PROJECT, project, obj, details)
        started = time.monotonic()
        try:
            missing = _missing(study, available)
            if missing:
                raise StudyError(
                    f"study {study.name!r} reads what the extract of {project!r} does not "
                    f"hold: {', '.join(missing)}"
                )
            manifest = read_manifest(hub, project)
            if directory is None:
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                directory = studies_dir(hub, project) / study.name / stamp
            box = Sandbox(
                dict(open_extract(hub, project, manifest)), ws.limits, spill_directory(hub)
            )
            try:
                run = run_study(
                    study,
                    SandboxEngine(box),
                    directory,
                    source={"project": project, "snapshot": manifest.snapshot},
                    progress=progress,
                    encryption=encryption_for(hub, key_scope(project)),
                )
            finally:
                box.close()
        except Exception as exc:
            ws.gov.audit.append(
                ws.user.name,
                RUN_STUDY,
                Outcome.FAILED,
                project,
                obj,
                "the study did not complete in the workspace",
                {**details, "error": type(exc).__name__, "duration_ms": _ms(started)},
            )
            raise
        ws.gov.audit.append(
            ws.user.name,
            RUN_STUDY,
            Outcome.SUCCEEDED,
            project,
            obj,
            "the study ran in the workspace sandbox; outputs kept in the project area",
            {
                **details,
                "count": len(run.manifest["outputs"]),
                "output_sha256": _sha256(run.directory / "manifest.json"),
                "duration_ms": _ms(started),
            },
        )
        return run


def open_run(hub: Hub, project: str, user: str, directory: Path) -> RunFiles:
    """A study run of ``project``'s area, read (decrypted) by one of its members."""
    from bastide.projects.layout import key_scope
    from bastide.storage import encryption_for
    from bastide.workspace import Workspace

    area = studies_dir(hub, project).resolve()
    directory = Path(directory).resolve()
    if not directory.is_relative_to(area):
        raise StudyError(f"{directory} is not a study run of project {project!r}")
    with Workspace(hub, project, user) as ws:
        ws.tables()  # a member of the active project, or refused (and audited)
        return RunFiles.open(directory, encryption_for(hub, key_scope(project)))


def exports_dir(hub: Hub, project: str) -> Path:
    """Where ``export_run`` writes a run's report and figures by default."""
    from bastide.projects.layout import project_dir

    return project_dir(hub, project) / EXPORTS_DIR


def export_run(
    hub: Hub, project: str, user: str, directory: Path, out: Path | None = None
) -> list[Path]:
    """Write a run's report (``report.html``, figures embedded) and its figures
    (``figures/<name>.png``) as plain files for a member of the project to open, inside
    the project's workspace area (default ``workspace/exports/<study>/<run>/``). Nothing
    leaves the hub: the files are the owner's only (0600) and go when the project ends;
    taking anything out is a release. Audited (``export_study``, with the file count)."""
    from bastide.audit import Outcome
    from bastide.filemodes import private_directory
    from bastide.governance import Governance
    from bastide.projects.layout import project_dir

    files = open_run(hub, project, user, directory)  # a member of the active project
    workspace_area = (project_dir(hub, project) / "workspace").resolve()
    target = (
        exports_dir(hub, project) / files.manifest["study"] / files.directory.name
        if out is None
        else Path(out)
    ).resolve()
    if not target.is_relative_to(workspace_area) or target.is_relative_to(
        studies_dir(hub, project).resolve()
    ):
        raise StudyError(
            f"{target}: exports stay in the workspace of project {project!r} "
            f"(under {workspace_area}, outside its studies/ area); "
            "taking outputs out of the hub is a release (bastide study release)"
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StudyError(f"{target}: exists and is not an empty directory")
    wanted = [e for e in files.entries() if e["kind"] in ("figure", "report")]
    written: list[Path] = []
    private_directory(target)
    for entry in wanted:
        name = entry["file"].split("#", 1)[-1]
        path = (target / name).resolve()
        if not path.is_relative_to(target):
            raise StudyError(f"the run's manifest names a file outside the run: {name!r}")
        private_directory(path.parent)
        with open(path, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as handle:
            handle.write(files.file(entry["name"]))
        written.append(path)
    with Governance(hub) as gov:
        gov.audit.append(
            user,
            EXPORT_STUDY,
            Outcome.SUCCEEDED,
            project,
            f"study:{files.manifest['study']}",
            "the run's report and figures were written in the project's workspace",
            {"count": len(written), "output_sha256": _sha256(files.directory / "manifest.json")},
        )
    return written


def list_runs(hub: Hub, project: str) -> list[Path]:
    """The study runs kept in a project's area, oldest first."""
    area = studies_dir(hub, project)
    if not area.is_dir():
        return []
    return sorted(p.parent for p in area.glob("*/*/manifest.json"))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def request_release(
    hub: Hub,
    project: str,
    user: str,
    directory: Path,
    output: str,
    justification: str,
    *,
    exception: str = "",
    profile: str | None = None,
) -> Any:
    """Ask for one table of a study run to be released, with the roles of its columns
    taken from the run's manifest; the disclosure checks run at once
    (`bastide.release.Releases.request`). Returns the release's view."""
    from bastide.disclosure import Output
    from bastide.governance import Governance
    from bastide.release import Releases

    files = open_run(hub, project, user, directory)
    entry = next((o for o in files.entries("table") if o["name"] == output), None)
    if entry is None:
        names = ", ".join(o["name"] for o in files.entries("table"))
        raise StudyError(f"the run has no table {output!r} (tables: {names})")
    roles = entry["disclosure"]
    if roles["kind"] == "summary":
        raise StudyError(
            f"{output!r} holds estimates, not counts: the checks cannot assess it; "
            "release the tables it is computed from"
        )
    table = files.table(output)
    disclosure = Output.of(
        output,
        table,
        roles["kind"],
        dims=roles["dims"],
        counts=roles["counts"],
        time=roles["time"] or "time",
        population=roles["population"],
    )
    with Governance(hub) as gov:
        return Releases(gov).request(
            gov.identity(user),
            project,
            disclosure,
            justification,
            exception=exception,
            profile=profile,
        )
