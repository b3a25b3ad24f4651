"""Materialise a project's granted perimeter from the current warehouse snapshot.

``extract_project(gov, operator, name)`` is what ``bastide extract`` runs: the policy
allows it to operators, for approved or active projects. It reads the granted scope,
selects the population and the rows and columns of each granted table
(``perimeter``), re-keys every identifier for this project (``rekey``), and writes one
Parquet file per table under ``projects/<name>/extract/``, encrypted under the project's
data key (``encryption_for(hub, "project:<name>")``), with a manifest naming the snapshot
it came from. A new extract replaces the previous one whole. The audit log records the
decision, the intent (with a run id that the new manifest carries), then the outcome with
table names and row counts only. An extract interrupted between its intent and its outcome
(killed, or the metadata database gone) is reconciled at the next start (``bastide gc``,
the next ingest or extract): its outcome is recorded from whether the manifest in place
carries its run id.

``open_extract`` gives the workspace the extract's tables as Arrow datasets.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.audit import Outcome
from bastide.audit.entry import audit_safe_reason, canonical_json
from bastide.cdm.spec import arrow_schema, is_omop_table
from bastide.errors import BastideError
from bastide.governance.errors import MetadataUnreachable
from bastide.governance.governed import SYSTEM
from bastide.governance.store import metadata_errors
from bastide.governance.terms import Action
from bastide.ingest.steps import StepHook, announce
from bastide.projects import perimeter
from bastide.projects.errors import ExtractError, ExtractMissing, ProjectDataError
from bastide.projects.layout import (
    MANIFEST,
    check_name,
    extract_dir,
    key_scope,
    project_dir,
    project_lock,
)
from bastide.projects.rekey import Rekeyer, plan
from bastide.storage import Warehouse, encryption_for
from bastide.storage.fsutil import fsync_dir, sha256_file, write_durably
from bastide.storage.parquet_io import open_dataset, write_parquet

if TYPE_CHECKING:
    import pyarrow.dataset as ds

    from bastide.engines import Engine
    from bastide.governance import Governance, Identity
    from bastide.governance.governed import GovernedService
    from bastide.governance.projects import ProjectView
    from bastide.governance.scope import Scope
    from bastide.hub import Hub
    from bastide.storage import Snapshot
    from bastide.storage.parquet_io import ParquetEncryption

FORMAT = "bastide-project-extract/1"
ACTION = Action.EXTRACT_PROJECT.value


@dataclass(frozen=True)
class TableEntry:
    name: str
    file: str
    columns: tuple[str, ...]
    rows: int
    bytes: int
    sha256: str
    schema: pa.Schema

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "columns": list(self.columns),
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "schema": base64.b64encode(self.schema.serialize().to_pybytes()).decode(),
        }

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> TableEntry:
        return cls(
            name=name,
            file=str(data["file"]),
            columns=tuple(data["columns"]),
            rows=int(data["rows"]),
            bytes=int(data["bytes"]),
            sha256=str(data["sha256"]),
            schema=pa.ipc.read_schema(pa.py_buffer(base64.b64decode(data["schema"]))),
        )


@dataclass(frozen=True)
class ExtractManifest:
    """What an extract holds: no patient-level value, only names, counts and digests."""

    project: str
    snapshot: int
    created: datetime
    persons: int
    scope_sha256: str
    tables: dict[str, TableEntry]
    run: str = ""  # the run that wrote it (pairs its audited intent with its outcome)

    @property
    def row_counts(self) -> dict[str, int]:
        return {name: entry.rows for name, entry in sorted(self.tables.items())}

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "project": self.project,
            "snapshot": self.snapshot,
            "created": self.created.isoformat(),
            "persons": self.persons,
            "scope_sha256": self.scope_sha256,
            "tables": {n: e.to_dict() for n, e in sorted(self.tables.items())},
        }
        if self.run:
            doc["run"] = self.run
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes, where: Path) -> ExtractManifest:
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT:
                raise ValueError(f"unknown format {doc.get('format')!r}")
            return cls(
                project=str(doc["project"]),
                snapshot=int(doc["snapshot"]),
                created=datetime.fromisoformat(doc["created"]),
                persons=int(doc["persons"]),
                scope_sha256=str(doc["scope_sha256"]),
                tables={n: TableEntry.from_dict(n, e) for n, e in doc["tables"].items()},
                run=str(doc.get("run", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError, pa.ArrowException) as exc:
            raise ExtractError(f"{where}: not a readable extract manifest ({exc})") from None


def scope_digest(view: ProjectView) -> str:
    import hashlib

    assert view.granted is not None
    return hashlib.sha256(canonical_json(view.granted.to_dict()).encode()).hexdigest()


# -- reading ------------------------------------------------------------------------------
def read_manifest(hub: Hub, project: str) -> ExtractManifest:
    path = extract_dir(hub, project) / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExtractMissing(
            f"project {project!r} has no extract yet; an operator runs 'bastide extract {project}'"
        ) from None
    manifest = ExtractManifest.from_json(raw, path)
    if manifest.project != project:
        raise ExtractError(f"{path}: is the manifest of project {manifest.project!r}")
    return manifest


def extract_file(hub: Hub, project: str, entry: TableEntry) -> Path:
    """The path of one table's file, checked: a regular file inside the extract directory
    (never a symbolic link), of the size the manifest records."""
    directory = extract_dir(hub, project)
    path = directory / entry.file
    if path.parent != directory or entry.file.startswith("."):
        raise ExtractError(f"extract of {project!r}: {entry.file!r} is not a file of the extract")
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ExtractError(f"extract of {project!r}: {entry.file} is missing") from None
    if not path.is_file() or path.is_symlink():
        raise ExtractError(
            f"extract of {project!r}: {entry.file} is not a regular file (a link or a "
            "directory was put in its place); the workspace reads only what the extract wrote"
        )
    if info.st_size != entry.bytes:
        raise ExtractError(
            f"extract of {project!r}: {entry.file} has {info.st_size} bytes, its manifest "
            f"says {entry.bytes} (altered or replaced)"
        )
    return path


def open_extract(
    hub: Hub, project: str, manifest: ExtractManifest | None = None
) -> dict[str, ds.Dataset]:
    """Every table of the project's extract as a lazy Arrow dataset, decrypted with the
    project's key (``DataShredded`` once that key is destroyed)."""
    manifest = manifest or read_manifest(hub, project)
    encryption = encryption_for(hub, key_scope(project))
    return {
        name: open_dataset([extract_file(hub, project, entry)], entry.schema, encryption=encryption)
        for name, entry in sorted(manifest.tables.items())
    }


# -- extracting ---------------------------------------------------------------------------
def extract_project(
    gov: Governance, actor: Identity, project: str, *, on_step: StepHook | None = None
) -> ExtractManifest:
    """Extract a project's granted perimeter (operators; approved or active projects).

    ``on_step`` is called with each step's name as it is reached (``ingest.steps``)."""
    check_name(project)
    obj = f"extract:{project}"
    announce("extract:start", on_step)
    with metadata_errors("nothing was extracted"):
        reconcile_extracts(gov.hub)
        gov.authorize(actor, Action.EXTRACT_PROJECT, project, obj=obj)
        view = gov.project(actor, project)
    return _audited(gov, actor.name, view, on_step)


def extract_approved(service: GovernedService, view: ProjectView) -> ExtractManifest:
    """The extract the hub makes by itself when a steward approves (``[projects]
    extract_on_approval``): the approval was the decision; the actor is ``system``."""
    return _audited(service, SYSTEM, view)


def _audited(
    service: GovernedService, actor: str, view: ProjectView, on_step: StepHook | None = None
) -> ExtractManifest:
    obj = f"extract:{view.name}"
    run = secrets.token_hex(16)
    announce("extract:intent", on_step)
    with metadata_errors("nothing was extracted"):
        service.audit.append(
            actor, ACTION, Outcome.ALLOWED, view.name, obj,
            "about to write the extract of the granted perimeter", {"run": run},
        )  # fmt: skip
    try:
        manifest = materialise(service.hub, view, today=service.now().date(), run=run)
    except MetadataUnreachable:
        raise
    except BastideError as exc:
        # Our own errors name tables and columns; an engine's could quote a value.
        reason = (
            audit_safe_reason(str(exc))
            if isinstance(exc, ProjectDataError)
            else f"the extract failed ({type(exc).__name__})"
        )
        with metadata_errors("nothing was extracted; the next start records the failure"):
            service.audit.append(
                actor, ACTION, Outcome.FAILED, view.name, obj, reason,
                {"error": type(exc).__name__, "run": run},
            )  # fmt: skip
        raise
    announce("extract:written", on_step)
    with metadata_errors(
        f"the extract of {view.name!r} was written; its outcome is recorded in the audit log "
        "at the next start (extract, ingest or 'bastide gc')"
    ):
        service.audit.append(
            actor,
            ACTION,
            Outcome.SUCCEEDED,
            view.name,
            obj,
            f"extracted the granted perimeter from snapshot {manifest.snapshot}",
            _succeeded(manifest, run),
        )
    return manifest


def _succeeded(manifest: ExtractManifest, run: str) -> dict[str, Any]:
    return {
        "snapshot": str(manifest.snapshot),
        "tables": sorted(manifest.tables),
        "row_counts": manifest.row_counts,
        "run": run,
    }


def reconcile_extracts(hub: Hub) -> list[str]:
    """Record the outcome of every extract interrupted between its audited intent and its
    outcome: succeeded if the extract in place is the one that run wrote, else failed."""
    from bastide.audit import AuditLog
    from bastide.ingest.records import RECONCILED, pending_intents

    lines: list[str] = []
    with metadata_errors():
        log = AuditLog(hub)
        try:
            for p in pending_intents(log, ACTION):
                project = p.entry.project or ""
                try:
                    manifest: ExtractManifest | None = read_manifest(hub, project)
                except (ExtractError, ExtractMissing):
                    manifest = None
                obj = f"extract:{project}"
                if manifest is not None and manifest.run == p.run:
                    log.append(
                        p.entry.actor, ACTION, Outcome.SUCCEEDED, project, obj,
                        f"{RECONCILED}: the extract from snapshot {manifest.snapshot} was "
                        "written", _succeeded(manifest, p.run),
                    )  # fmt: skip
                    lines.append(f"extract of {project}: written by an interrupted run; recorded")
                else:
                    log.append(
                        p.entry.actor, ACTION, Outcome.FAILED, project, obj,
                        f"{RECONCILED}: the extract was not written; the previous one stays",
                        {"error": "Interrupted", "run": p.run},
                    )  # fmt: skip
                    lines.append(f"extract of {project}: an interrupted run wrote nothing")
        finally:
            log.close()
    return lines


def materialise(hub: Hub, view: ProjectView, *, today: date, run: str = "") -> ExtractManifest:
    """Write the extract of ``view``'s granted scope from the current snapshot (no policy
    check, no audit: ``extract_project`` does both)."""
    scope = view.granted
    if scope is None:
        raise ExtractError(f"project {view.name!r} has no granted scope (it was not approved)")
    for table, _ in scope.tables:
        perimeter.check_restrictable(table)
        if not is_omop_table(table):
            raise ExtractError(f"table {table} is not an OMOP CDM table")
    snapshot = Warehouse(hub).current()
    if snapshot is None:
        raise ExtractError("the warehouse has no snapshot yet: nothing to extract")
    name = view.name
    with project_lock(hub, name, "extract"):
        staging = project_dir(hub, name) / f".extract-{secrets.token_hex(6)}"
        staging.mkdir(parents=True)
        try:
            manifest = _write(hub, view, snapshot, staging, today, run)
            _publish(hub, name, staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return manifest


def _write(
    hub: Hub, view: ProjectView, snapshot: Snapshot, staging: Path, today: date, run: str = ""
) -> ExtractManifest:
    from bastide.storage import open_engine_for

    scope = view.granted
    assert scope is not None
    present = set(snapshot.tables())
    person_level = [t for t, _ in scope.tables if "person_id" in arrow_schema(t).names]
    needed = {t for t, _ in scope.tables if t in present}
    if person_level:
        if "person" not in present:
            raise ExtractError(
                f"snapshot {snapshot.version} has no person table: the population of "
                f"{view.name!r} cannot be selected"
            )
        needed.add("person")
        if scope.population.conditions:
            needed |= {"condition_occurrence", "concept_ancestor"} & present
    tables = sorted(needed)
    encryption = encryption_for(hub, key_scope(view.name))
    rekeyer = Rekeyer(hub.keyring.data_key(key_scope(view.name), create=True))
    entries: dict[str, TableEntry] = {}
    engine = open_engine_for(hub)
    try:
        with snapshot.reading(tables):
            snapshot.register(engine, tables)
            persons = 0
            if person_level:
                for statement in perimeter.population_statements(
                    scope,
                    scope.period_start or today,
                    with_conditions="condition_occurrence" in present,
                    with_ancestors="concept_ancestor" in present,
                ):
                    engine.execute(statement)
                counted = engine.query(f"SELECT count(*) AS n FROM {perimeter.POPULATION}")
                persons = int(counted.column("n")[0].as_py())
            for table, columns in scope.tables:
                entries[table] = _write_table(
                    engine, snapshot, table, columns, scope, staging, rekeyer, encryption
                )
    finally:
        engine.close()
    manifest = ExtractManifest(
        project=view.name,
        snapshot=snapshot.version,
        created=datetime.now(UTC),
        persons=persons,
        scope_sha256=scope_digest(view),
        tables=entries,
        run=run,
    )
    write_durably(staging / MANIFEST, manifest.to_json())
    return manifest


def _target_schema(snapshot: Snapshot, table: str, columns: tuple[str, ...]) -> pa.Schema:
    """The granted columns, in the table's own order, with the warehouse's types."""
    source = snapshot.schema(table) if table in snapshot.tables() else arrow_schema(table)
    missing = sorted(set(columns) - set(source.names))
    if missing:
        raise ExtractError(f"the warehouse's {table} table has no column {', '.join(missing)}")
    return pa.schema([source.field(c).with_nullable(True) for c in source.names if c in columns])


def _write_table(
    engine: Engine,
    snapshot: Snapshot,
    table: str,
    columns: tuple[str, ...],
    scope: Scope,
    staging: Path,
    rekeyer: Rekeyer,
    encryption: ParquetEncryption,
) -> TableEntry:
    schema = _target_schema(snapshot, table, columns)
    columns_in_order = tuple(schema.names)
    path = staging / f"{table}.parquet"
    if table in snapshot.tables():
        sql = perimeter.table_query(table, columns_in_order, snapshot.schema(table).names, scope)
        reader = engine.stream(sql)
        batches: Iterator[pa.RecordBatch] = _rekeyed(reader, schema, rekeyer)
    else:
        batches = iter(())  # a granted table the warehouse does not hold: empty
    rows = write_parquet(path, batches, schema, encryption=encryption)
    return TableEntry(
        name=table,
        file=path.name,
        columns=columns_in_order,
        rows=rows,
        bytes=path.stat().st_size,
        sha256=sha256_file(path),
        schema=schema,
    )


def _rekeyed(
    reader: pa.RecordBatchReader, schema: pa.Schema, rekeyer: Rekeyer
) -> Iterator[pa.RecordBatch]:
    columns = plan(schema)
    for batch in reader:
        if batch.num_rows == 0:
            continue
        cast = pa.RecordBatch.from_arrays(
            [batch.column(f.name).cast(f.type) for f in schema], schema=schema
        )
        yield rekeyer.batch(cast, columns)


def _publish(hub: Hub, project: str, staging: Path) -> None:
    """Put the staged extract in place of the current one."""
    current = extract_dir(hub, project)
    old = current.with_name(f".extract-old-{secrets.token_hex(6)}")
    if current.exists():
        os.rename(current, old)
    os.rename(staging, current)
    fsync_dir(current.parent)
    shutil.rmtree(old, ignore_errors=True)
