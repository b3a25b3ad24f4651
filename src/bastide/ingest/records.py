"""What an ingest leaves in the governance records: an audit entry and the catalogue.

Only metadata is recorded — the source name, snapshot version, row counts and the digests
of the source files — never a file name (producers may put identifiers in them) or value.
"""

from __future__ import annotations

import os

from bastide.audit import AuditLog
from bastide.governance.catalogue import Catalogue
from bastide.hub import Hub
from bastide.ingest.result import IngestResult

ACTOR_ENV = "BASTIDE_USER"


def actor() -> str:
    """Who runs the ingest: ``$BASTIDE_USER``, else the hub's own processes."""
    return os.environ.get(ACTOR_ENV) or "system"


def record_ingest(hub: Hub, result: IngestResult) -> None:
    rec = result.reconciliation
    details: dict[str, object] = {"source": result.partition}
    if result.version is not None:
        details["snapshot"] = str(result.version)
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
    obj = f"partition:{result.partition}"
    AuditLog(hub).append(actor(), "ingest", "succeeded", obj=obj, reason=reason, details=details)
    if result.version is not None:
        catalogue = Catalogue(hub, actor=actor())
        try:
            catalogue.record_snapshot(str(result.version), dict(result.rows), result.partition)
        finally:
            catalogue.close()


def record_failure(hub: Hub, partition: str, error: BaseException) -> None:
    AuditLog(hub).append(actor(), "ingest", "failed", obj=f"partition:{partition}",
                         reason="the run was abandoned; the previous snapshot stays current",
                         details={"source": partition, "error": type(error).__name__})  # fmt: skip
