"""One ingest: border -> staging -> ETL -> one new warehouse snapshot, or nothing.

Everything a run writes goes into a snapshot that is published atomically at the end;
any error (an unparseable file included) abandons the run, and the previous snapshot
stays current and intact. Re-running an ingest whose source files did not change is
a no-op: each partition remembers the fingerprint of the files it came from.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from bastide import __version__
from bastide.errors import BastideError
from bastide.governance.errors import MetadataUnreachable
from bastide.governance.store import metadata_errors
from bastide.hub import Hub
from bastide.ingest import tables as t
from bastide.ingest.context import IngestContext
from bastide.ingest.delivery import check_delivery, date_bounds
from bastide.ingest.hospital import findings_summary, stage_hospital, transform_hospital
from bastide.ingest.national import stage_national, transform_national
from bastide.ingest.progress import Progress, Silent
from bastide.ingest.records import (
    reconcile_ingests,
    record_failure,
    record_ingest,
    record_intent,
    rows_of,
)
from bastide.ingest.result import IngestResult
from bastide.ingest.staging import Staging, StagingClaim, clean_orphans
from bastide.ingest.steps import StepHook, announce
from bastide.linkage.evaluation import evaluate_linkage
from bastide.sources import QUARANTINE_SCHEMA, RECONCILIATION_SCHEMA
from bastide.storage import Warehouse, encryption_for, open_engine_for
from bastide.vocab.merge import vocabulary_fingerprint

SOURCES = ("snds", "omop")
# Bumped when a change to the border or the ETL changes what a source file becomes, so
# that re-ingesting unchanged files after an upgrade is not skipped.
# 2: ties between same-day rows broken by value, not arrival order; 3: SNDS row rules,
# exact copies and every row accounted for; OMOP repeated ids loaded, 0 foreign keys null,
# rows of unknown persons quarantined, CDM v5.3 names mapped
ETL_VERSION = "3"


class IngestError(BastideError):
    """An ingest that cannot start (bad directory, unknown source type, …)."""


def extract_fingerprint(directory: Path, source: str, name: str) -> dict[str, object]:
    """What the source files are: their names, sizes and content hashes."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        files[path.relative_to(directory).as_posix()] = digest.hexdigest()
    return {"source": source, "name": name, "etl": ETL_VERSION, "files": files}


def partition_name(source: str, name: str) -> str:
    return name if source == "snds" else f"hospital-{name}"


class _Run:
    """What the recorder needs to know of a run that failed: its id once its intent is
    audited, and whether its snapshot was published."""

    def __init__(self) -> None:
        self.run: str | None = None
        self.published: int | None = None


def _recorded(run: Callable[..., IngestResult]) -> Callable[..., IngestResult]:
    """Record every run, succeeded or failed, in the audit log (and the catalogue)."""

    @functools.wraps(run)
    def recorded(hub: Hub, directory: Path, source: str, **options: Any) -> IngestResult:
        state = _Run()
        hook = options.get("on_step")
        try:
            result = run(hub, directory, source, _state=state, **options)
        except (IngestError, MetadataUnreachable):
            raise  # refused before anything ran, or nothing can be recorded now
        except BastideError as exc:
            name = options.get("name") or ("snds" if source == "snds" else Path(directory).name)
            with metadata_errors(_after(state, record=True)):
                record_failure(hub, partition_name(source, name), exc, state.run)
            raise
        with metadata_errors(_after(state, record=False)):
            record_ingest(hub, result, hook)
        return result

    return recorded


def _after(state: _Run, *, record: bool) -> str:
    """What an operator is told happened, when the outcome cannot be recorded."""
    if state.published is not None:
        return (
            f"snapshot {state.published} was published; it is recorded in the audit log and "
            "the catalogue at the next start (ingest, extract or 'bastide gc')"
        )
    if state.run is not None:
        return "nothing was published; the next start records the run as failed"
    return "nothing was published" if record else ""


@_recorded
def ingest(
    hub: Hub,
    directory: Path,
    source: str,
    *,
    name: str | None = None,
    truth: Path | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    on_step: StepHook | None = None,
    accept_shrink: bool = False,
    _state: _Run | None = None,
) -> IngestResult:
    """Ingest ``directory`` (an SNDS extract, or one hospital's OMOP extract).

    ``on_step`` is called with each step's name as it is reached (see ``ingest.steps``).
    An empty delivery is an error; one that shrinks the source by more than ``[ingest]
    max_shrink`` is refused unless ``accept_shrink`` (see `bastide.ingest.delivery`)."""
    directory = Path(directory)
    if source not in SOURCES:
        raise IngestError(f"unknown source type {source!r}: expected one of {', '.join(SOURCES)}")
    if not directory.is_dir():
        raise IngestError(f"{directory}: no such directory")
    name = name or ("snds" if source == "snds" else directory.name)
    partition = partition_name(source, name)
    progress = progress or Silent()
    state = _state or _Run()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    announce("ingest:start", on_step)
    # Earlier runs first: their staging goes, their unrecorded outcomes are recorded.
    clean_orphans(hub)
    reconciled = reconcile_ingests(hub)
    fingerprint = extract_fingerprint(directory, source, name)
    warehouse = Warehouse(hub)
    current = warehouse.current()
    # codes are mapped through the imported vocabulary: a new import re-runs the ingest
    vocabulary = vocabulary_fingerprint(current)
    if vocabulary is not None:
        fingerprint["vocabulary"] = vocabulary
    if (
        current is not None
        and t.RECONCILIATION in current.tables()
        and current.fingerprint(t.RECONCILIATION, partition) == fingerprint
    ):
        return IngestResult(source, partition, None, unchanged=True, reconciled=reconciled)

    run_id = uuid.uuid4().hex
    staging_scope = f"staging:{run_id}"
    # The engine first: one that cannot open (e.g. Spark without pyspark) leaves no staging.
    engine = open_engine_for(hub)
    try:
        # claimed before the folder and the key exist, so a clean-up never takes them
        claim = StagingClaim(hub.paths.tmp, run_id)
    except BaseException:
        engine.close()
        raise
    try:
        staging = Staging(claim.root, encryption_for(hub, staging_scope))
    except BaseException:
        engine.close()
        claim.release()
        raise
    try:
        with warehouse.begin(f"ingest {partition} from {directory.name}") as writer:
            ctx = IngestContext(
                source=source,
                source_name=name,
                partition=partition,
                pseudonym_key=hub.data_key("pseudonym"),
                staging=staging,
                writer=writer,
                parent=current,
                fingerprint=fingerprint,
                progress=progress,
                hub_root=hub.root,
                staging_scope=staging_scope,
                encoding=encoding,
                workers=int(hub.settings.get("ingest", "workers")),
                date_bounds=date_bounds(hub.settings),
            )
            result = IngestResult(
                source, partition, None, unchanged=False, run=run_id, reconciled=reconciled
            )
            timings["fingerprint"] = time.perf_counter() - started
            mark = time.perf_counter()
            if source == "snds":
                reconciliation, vocabulary = stage_national(ctx, directory)
                timings["border"] = time.perf_counter() - mark
                announce("ingest:staged", on_step)
                mark = time.perf_counter()
                accounting = transform_national(ctx, engine, vocabulary)
                result.exclusions = accounting.exclusions
                result.excluded_rows = accounting.excluded_rows
                # read = loaded + quarantined + excluded, per file, or nothing is published
                reconciliation = reconciliation.settle(accounting.loaded, accounting.excluded)
            else:
                reconciliation, result.cdm_version = stage_hospital(ctx, directory)
                timings["border"] = time.perf_counter() - mark
                announce("ingest:staged", on_step)
                mark = time.perf_counter()
                result.exclusions, person_map = transform_hospital(ctx, engine)
                result.findings = findings_summary(ctx.staging)
                methods = pa.compute.value_counts(person_map["method"]).to_pylist()
                result.linkage_methods = {m["values"]: int(m["counts"]) for m in methods}
                if truth is not None:
                    result.linkage_quality = evaluate_linkage(
                        engine, truth, name, ctx.pseudonym_key
                    )
            timings["etl"] = time.perf_counter() - mark
            result.reconciliation = reconciliation
            result.shrink_accepted = check_delivery(
                hub.settings, writer.written_rows(partition), reconciliation, current,
                partition, accept_shrink=accept_shrink,
            )  # fmt: skip
            _write_records(ctx, result)
            # Audit the intent, then publish: a run stopped in between is reconciled.
            announce("ingest:intent", on_step)
            with metadata_errors("nothing was published"):
                record_intent(hub, partition, writer.version, run_id)
            state.run = run_id
            announce("ingest:publish", on_step)
            snapshot = writer.commit(
                {
                    "source": source,
                    "partition": partition,
                    "bastide": __version__,
                    "run": run_id,
                    "rows_read": reconciliation.rows_read,
                    "rows_quarantined": reconciliation.rows_quarantined,
                }
            )
            state.published = snapshot.version
    finally:
        engine.close()
        staging.remove()
        # staged files are gone; their key goes too, so no copy of them could ever be read
        hub.keyring.destroy(staging_scope, "ingest run finished")
        claim.release()
    announce("ingest:published", on_step)
    result.version = snapshot.version
    result.rows = rows_of(snapshot, partition)
    timings["total"] = time.perf_counter() - started
    result.seconds = timings
    return result


def _write_records(ctx: IngestContext, result: IngestResult) -> None:
    """The run's own records: quarantine, reconciliation and rule exclusions."""
    assert result.reconciliation is not None
    w, p, fp = ctx.writer, ctx.partition, ctx.fingerprint
    w.write(
        t.QUARANTINE, p, ctx.staging.quarantine().to_batches(), QUARANTINE_SCHEMA, fingerprint=fp
    )
    w.write(
        t.RECONCILIATION, p, result.reconciliation.to_arrow(), RECONCILIATION_SCHEMA, fingerprint=fp
    )
    exclusions = pa.Table.from_pylist(
        [vars(e) for e in result.exclusions], schema=t.EXCLUSIONS_SCHEMA
    )
    w.write(t.EXCLUSIONS, p, exclusions, t.EXCLUSIONS_SCHEMA, fingerprint=fp)
    rows = result.excluded_rows
    rows = t.EXCLUDED_ROWS_SCHEMA.empty_table() if rows is None else rows
    w.write(t.EXCLUDED_ROWS, p, rows, t.EXCLUDED_ROWS_SCHEMA, fingerprint=fp)
