"""What an ingest leaves in the governance records: audit entries and the catalogue.

Publishing and auditing never come apart. Before a run publishes its snapshot it audits
its *intent* (``ingest``, outcome ``allowed``, with the run id and the version it is about
to publish); then it publishes; then it records the snapshot in the catalogue and audits
the *outcome* (``succeeded`` or ``failed``, with the same run id). A run interrupted in
between (killed, or the metadata database gone) leaves an intent without an outcome;
``reconcile`` finds it at the next start (every ingest, every extract, ``bastide gc``),
looks in the warehouse whether that run's snapshot was published, and records what
happened, "reconciled after an interruption". See docs/audit.md.

Only metadata is recorded — the source name, snapshot version, row counts and the digests
of the source files — never a file name (producers may put identifiers in them) or value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import select

from bastide.audit import AuditLog
from bastide.audit.entry import AuditEntry
from bastide.governance.catalogue import Catalogue
from bastide.governance.store import metadata_errors
from bastide.governance.tables import Snapshot as CatalogueSnapshot
from bastide.hub import Hub
from bastide.ingest import tables as t
from bastide.ingest.result import IngestResult
from bastide.ingest.steps import StepHook, announce
from bastide.storage import Snapshot, Warehouse
from bastide.storage.errors import SnapshotNotFound

ACTOR_ENV = "BASTIDE_USER"
ACTION = "ingest"
RECONCILED = "reconciled after an interruption"


def actor() -> str:
    """Who runs the ingest: ``$BASTIDE_USER``, else the hub's own processes."""
    return os.environ.get(ACTOR_ENV) or "system"


def rows_of(snapshot: Snapshot, partition: str) -> dict[str, int]:
    """The OMOP rows ``partition`` has in ``snapshot``, by table."""
    return {
        table: p.rows
        for table in snapshot.tables()
        if table not in t.OWN_TABLES
        for p in snapshot.partitions(table)
        if p.name == partition
    }


def record_intent(hub: Hub, partition: str, version: int, run: str) -> None:
    """Audit that run ``run`` is about to publish snapshot ``version`` of ``partition``."""
    log = AuditLog(hub)
    try:
        log.append(actor(), ACTION, "allowed", obj=f"partition:{partition}",
                   reason=f"about to publish snapshot {version}",
                   details={"source": partition, "snapshot": str(version), "run": run})  # fmt: skip
    finally:
        log.close()


def _catalogue(hub: Hub, version: int, rows: dict[str, int], partition: str) -> None:
    catalogue = Catalogue(hub, actor=actor())
    try:
        with catalogue.store.session() as session:
            known = session.scalars(
                select(CatalogueSnapshot.id).where(
                    CatalogueSnapshot.version == str(version),
                    CatalogueSnapshot.source == partition,
                )
            ).first()
        if known is None:  # a reconciliation after the catalogue step: not twice
            catalogue.record_snapshot(str(version), dict(rows), partition)
    finally:
        catalogue.close()


def record_ingest(hub: Hub, result: IngestResult, hook: StepHook | None = None) -> None:
    """The catalogue entry (for a new snapshot), then the audited outcome."""
    if result.version is not None:
        _catalogue(hub, result.version, result.rows, result.partition)
        announce("ingest:catalogued", hook)
    rec = result.reconciliation
    details: dict[str, object] = {"source": result.partition}
    if result.version is not None:
        details["snapshot"] = str(result.version)
    if result.run is not None:
        details["run"] = result.run
    if rec is not None:
        details |= {
            "files": len(rec.files),
            "rows_read": rec.rows_read,
            "rows_loaded": rec.rows_loaded,
            "rows_quarantined": rec.rows_quarantined,
            "rows_excluded": rec.rows_excluded,
        }
    if result.rows:
        details["row_counts"] = dict(result.rows)
    reason = "source files unchanged" if result.unchanged else "new snapshot published"
    if result.shrink_accepted:
        details["shrink_accepted"] = {
            f"{what}_{when}": n
            for what, counts in result.shrink_accepted.items()
            for when, n in counts.items()
        }  # persons_before, persons_after, rows_before, rows_after
        reason += "; its shrink was accepted by the operator (--accept-shrink)"
    obj = f"partition:{result.partition}"
    log = AuditLog(hub)
    try:
        log.append(actor(), ACTION, "succeeded", obj=obj, reason=reason, details=details)
    finally:
        log.close()


def record_failure(
    hub: Hub, partition: str, error: BaseException | str, run: str | None = None, reason: str = ""
) -> None:
    name = error if isinstance(error, str) else type(error).__name__
    details: dict[str, object] = {"source": partition, "error": name}
    if run is not None:
        details["run"] = run
    log = AuditLog(hub)
    try:
        log.append(actor(), ACTION, "failed", obj=f"partition:{partition}",
                   reason=reason or "the run was abandoned; the previous snapshot stays current",
                   details=details)  # fmt: skip
    finally:
        log.close()


# -- reconciliation -----------------------------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """An audited intent with no audited outcome."""

    action: str
    run: str
    entry: AuditEntry


def pending_intents(log: AuditLog, action: str) -> list[Pending]:
    """Intents of ``action`` (outcome ``allowed`` with a run id) that have no outcome."""
    intents: dict[str, AuditEntry] = {}
    ended: set[str] = set()
    for entry in log.entries(newest_first=False):
        if entry.action != action:
            continue
        run = entry.details_dict.get("run")
        if not isinstance(run, str):
            continue
        if entry.outcome == "allowed":
            intents[run] = entry
        else:
            ended.add(run)
    return [Pending(action, run, e) for run, e in intents.items() if run not in ended]


def _published(warehouse: Warehouse, version: int, run: str) -> Snapshot | None:
    """Snapshot ``version`` if run ``run`` published it (and it is still kept)."""
    current = warehouse.current_version()
    if current is None or version > current:
        return None
    try:
        snapshot = warehouse.get(version)
    except SnapshotNotFound:
        return None
    return snapshot if snapshot.manifest.metadata.get("run") == run else None


def reconcile_ingests(hub: Hub) -> list[str]:
    """Record the outcome of every ingest that was interrupted between its intent and its
    outcome; returns one line per run reconciled, for the operator."""
    with metadata_errors():
        log = AuditLog(hub)
        try:
            pending = pending_intents(log, ACTION)
        finally:
            log.close()
        if not pending:
            return []
        warehouse = Warehouse(hub)
        lines = []
        for p in pending:
            details = p.entry.details_dict
            partition = str(details.get("source", ""))
            version = int(str(details.get("snapshot", "0")))
            snapshot = _published(warehouse, version, p.run)
            if snapshot is None:
                record_failure(hub, partition, "Interrupted", p.run,
                               f"{RECONCILED}: snapshot {version} was never published; "
                               "the previous snapshot stayed current")  # fmt: skip
                lines.append(
                    f"{partition}: an interrupted ingest did not publish snapshot {version}; "
                    "recorded as failed"
                )
                continue
            result = IngestResult(str(snapshot.manifest.metadata.get("source", "")), partition,
                                  version, unchanged=False, rows=rows_of(snapshot, partition),
                                  run=p.run)  # fmt: skip
            metadata = snapshot.manifest.metadata
            counts = ("rows_read", "rows_quarantined")
            details_out = {k: metadata[k] for k in counts if k in metadata}
            _catalogue(hub, version, result.rows, partition)
            log = AuditLog(hub)
            try:
                log.append(actor(), ACTION, "succeeded", obj=f"partition:{partition}",
                           reason=f"{RECONCILED}: snapshot {version} was published",
                           details={"source": partition, "snapshot": str(version), "run": p.run,
                                    "row_counts": result.rows, **details_out})  # fmt: skip
            finally:
                log.close()
            lines.append(
                f"{partition}: snapshot {version}, published by an interrupted ingest, is now "
                "recorded in the audit log and the catalogue"
            )
        return lines
