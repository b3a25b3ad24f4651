"""Run the border over one extract: every recognised file validated into staging.

The files are shared between ``[ingest] workers`` lanes (processes): the border's
validation is single-threaded Arrow work, so a second core roughly halves it. All the
files of one table go to the same lane, which checks their keys for duplicates together.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from bastide.ingest.progress import Progress
from bastide.ingest.staging import Staging, staged_name
from bastide.ingest.steps import BORDER_LANE_STEP, announce
from bastide.pseudonym import Pseudonymiser
from bastide.sources import FileReconciliation, Reconciliation, discover, known_codes, read_extract
from bastide.sources.discovery import delivery_conflicts
from bastide.sources.errors import ExtractFilesError, SourceFileError
from bastide.sources.plausibility import DateBounds

DOMAINS = ("person", "hospital_patient", "stay", "provider")

CodeSets = dict[str, pa.Array]
_NOT_READ = ("unrecognised", "refused")  # listed once, by stage_extract itself


def pseudonymisers(key: bytes) -> dict[str, Callable[[Any], Any]]:
    """One vectorised pseudonymiser per identifier domain, under the hub secret."""
    return {d: Pseudonymiser(key, d).pseudonymise for d in DOMAINS}


@dataclass(frozen=True)
class Lane:
    """One share of an extract's tables, with what a process needs to stage them."""

    directory: Path
    source: str
    tables: tuple[str, ...]
    key: bytes
    code_sets: CodeSets | None
    encoding: str | None
    staging_root: Path
    prefix: str
    hub_root: Path
    staging_scope: str
    date_bounds: DateBounds | None = None


@dataclass(frozen=True)
class LaneResult:
    staged: list[tuple[str, Path, pa.Schema]]
    quarantine: list[Path]
    files: list[dict[str, object]]  # FileReconciliation fields (it holds a mapping proxy)
    errors: list[tuple[str, str, int | None]]  # SourceFileErrors' parts, every file's
    findings: list[Path]


def _run_lane(lane: Lane, staging: Staging, progress: Progress | None) -> LaneResult:
    extract = read_extract(
        lane.directory,
        lane.source,
        pseudonymise=pseudonymisers(lane.key),  # type: ignore[arg-type]
        code_checker=known_codes(lane.code_sets) if lane.code_sets else None,
        tables=list(lane.tables),
        encoding=lane.encoding,
        date_bounds=lane.date_bounds,
    )
    quarantine = staging.quarantine_writer()
    findings = staging.findings_writer()
    errors: list[tuple[str, str, int | None]] = []
    try:
        for reader in extract:
            staged = staging.open(reader.schema, reader.file.relpath)  # type: ignore[arg-type]
            try:
                for batch in reader:
                    staged.write(batch.valid, batch.valid_lines)
                    if batch.quarantine.num_rows:
                        quarantine.write_row_group(pa.Table.from_batches([batch.quarantine]))
                    if batch.findings.num_rows:
                        findings.write_row_group(pa.Table.from_batches([batch.findings]))
            except SourceFileError as exc:
                # the file is discarded; the others are still read, so that one run
                # reports every file that cannot be read
                staged.discard()
                errors.append((exc.file, exc.problem, exc.line))
                continue
            except BaseException:
                staged.discard()
                raise
            staged.close()
            staging.keep(staged)
            if progress is not None:
                progress.advance(reader.file.path.stat().st_size, reader.file.relpath)
    finally:
        quarantine.close()
        findings.close()
    files = [
        {**vars(f), "quarantined_by_reason": dict(f.quarantined_by_reason)}
        for f in extract.reconciliation.files
        if f.status not in _NOT_READ
    ]
    staged_files, quarantine_files = staging.contents()
    return LaneResult(staged_files, quarantine_files, files, errors, staging.findings_files())


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Initializer of a lane process: it ends when the ingest that started it ends, even
    one killed outright (SIGKILL leaves it no chance to stop its pool).

    On Linux the kernel sends SIGKILL to the worker when its parent dies
    (``PR_SET_PDEATHSIG``); everywhere, a thread also checks that the parent is still its
    parent, which covers other systems and a parent that died before the call."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watcher below still ends the worker
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)


def _lane_process(lane: Lane) -> LaneResult:
    """A lane in its own process: it opens the hub's staging key itself."""
    from bastide.hub import Hub
    from bastide.storage import encryption_for

    announce(BORDER_LANE_STEP)

    encryption = encryption_for(Hub(lane.hub_root), lane.staging_scope)
    return _run_lane(lane, Staging(lane.staging_root, encryption, prefix=lane.prefix), None)


def _share(files: dict[str, int], lanes: int) -> list[list[str]]:
    """Tables to lanes, largest first onto the least loaded lane."""
    shares: list[list[str]] = [[] for _ in range(lanes)]
    loads = [0] * lanes
    for table, size in sorted(files.items(), key=lambda kv: -kv[1]):
        i = loads.index(min(loads))
        shares[i].append(table)
        loads[i] += size
    return [s for s in shares if s]


def stage_extract(
    directory: Path,
    source: str,
    staging: Staging,
    *,
    key: bytes,
    code_sets: CodeSets | None,
    progress: Progress,
    hub_root: Path,
    staging_scope: str,
    tables: list[str] | None = None,
    encoding: str | None = None,
    workers: int = 1,
    date_bounds: DateBounds | None = None,
) -> Reconciliation:
    """Validate ``directory``'s files into ``staging``; return their reconciliation.

    A file that cannot be parsed is discarded and the other files are still read; then
    ``SourceFileError`` (file, line, problem) is raised for it, or ``ExtractFilesError``
    naming every such file; the caller abandons the whole run.
    """
    found = discover(directory, source)
    wanted = {t.upper() for t in tables} if tables is not None else None
    conflicts = delivery_conflicts(
        [f for f in found if f.table and (wanted is None or f.table.upper() in wanted)]
    )
    if conflicts:  # before any file is read: the whole delivery is refused
        raise SourceFileError(
            directory.name,
            conflicts[0] + (f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""),
        )
    groups: dict[str, list[str]] = {}  # staged table -> the extract's tables (PMSI years)
    weights: dict[str, int] = {}
    for f in found:
        if (
            not f.recognised
            or f.schema is None
            or not f.table
            or (wanted is not None and f.table.upper() not in wanted)
        ):
            continue
        group = staged_name(f.schema)
        groups.setdefault(group, []).append(f.table)
        weights[group] = weights.get(group, 0) + f.path.stat().st_size
    progress.step(f"border: {directory.name}", total=sum(weights.values()) or None)

    shares = _share(weights, max(1, workers))
    call = uuid.uuid4().hex[:8]  # file names of this call stay apart from earlier calls
    lanes = [
        Lane(directory, source, tuple(t for g in share for t in groups[g]), key, code_sets,
             encoding, staging.root, f"{call}-lane{i}-", hub_root, staging_scope, date_bounds)
        for i, share in enumerate(shares)
    ]  # fmt: skip
    results: list[LaneResult] = []
    if len(lanes) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            len(lanes) - 1,
            mp_context=context,
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            others = [pool.submit(_lane_process, lane) for lane in lanes[1:]]
            here = Staging(staging.root, staging.encryption, prefix=lanes[0].prefix)
            results.append(_run_lane(lanes[0], here, progress))
            for future, share in zip(others, shares[1:], strict=True):
                results.append(future.result())
                progress.advance(sum(weights[g] for g in share), ", ".join(share))
    elif lanes:
        here = Staging(staging.root, staging.encryption, prefix=lanes[0].prefix)
        results.append(_run_lane(lanes[0], here, progress))

    for result in results:
        for name, path, schema in result.staged:
            staging.adopt(name, path, schema)
        for path in result.quarantine:
            staging.adopt_quarantine(path)
        for path in result.findings:
            staging.adopt_findings(path)
    errors = [SourceFileError(*e) for r in results for e in r.errors]
    if errors:
        raise errors[0] if len(errors) == 1 else ExtractFilesError(errors)
    unrecognised = read_extract(directory, source, pseudonymise=pseudonymisers(key), tables=[])
    order = {f.relpath: i for i, f in enumerate(found)}
    files = [FileReconciliation(**f) for r in results for f in r.files]  # type: ignore[arg-type]
    files += [f for f in unrecognised.reconciliation.files if f.status in _NOT_READ]
    return Reconciliation.of(sorted(files, key=lambda f: order.get(f.source_file, 0)))
