"""The main job end to end on embedded defaults: synthetic extracts -> ingest -> check.

Used by ``bastide demo``; it is also the quickest way to see every part work together.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from bastide.errors import BastideError
from bastide.hub import Hub
from bastide.ingest import IngestResult, ingest
from bastide.ingest.progress import Progress, Silent
from bastide.linkage.evaluation import LinkageQuality
from bastide.quality.report import QualityReport
from bastide.quality.warehouse import check_snapshot
from bastide.storage import Warehouse

MARKER = ".bastide-demo"


class DemoError(BastideError):
    pass


@dataclass
class DemoResult:
    directory: Path
    hub: Hub
    persons: int
    ingests: list[IngestResult]
    quality: QualityReport
    quality_html: Path
    rows: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    def quarantined_by_reason(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for r in self.ingests:
            for reason, n in r.quarantined_by_reason().items():
                total[reason] = total.get(reason, 0) + n
        return total

    def linkage(self) -> LinkageQuality | None:
        found = [r.linkage_quality for r in self.ingests if r.linkage_quality is not None]
        if not found:
            return None
        return LinkageQuality(
            patients=sum(q.patients for q in found),
            actual=sum(q.actual for q in found),
            predicted=sum(q.predicted for q in found),
            correct=sum(q.correct for q in found),
        )


def prepare_directory(directory: Path) -> None:
    """A fresh demo directory: a previous demo's is replaced, anything else refused."""
    if directory.exists():
        if not (directory / MARKER).exists():
            raise DemoError(
                f"{directory} exists and was not made by 'bastide demo'; choose another --dir"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    (directory / MARKER).write_text("made by bastide demo; removed by the next demo\n")


def _has_rows(extract: Path) -> bool:
    """Whether a generated CSV extract holds any row beyond its files' header lines (an
    empty delivery is refused by ingest, rightly)."""
    for path in extract.iterdir():
        if path.is_file() and path.suffix == ".csv":
            with path.open("rb") as handle:
                handle.readline()
                if handle.readline().strip():
                    return True
    return False


def run_demo(
    directory: Path,
    *,
    persons: int,
    seed: int,
    hospitals: int = 4,
    progress: Progress | None = None,
) -> DemoResult:
    from bastide.synth import SynthOptions, generate

    progress = progress or Silent()
    seconds: dict[str, float] = {}
    prepare_directory(directory)
    extract = directory / "extract"

    mark = time.perf_counter()
    progress.step("synthetic extracts", total=persons)
    opts = SynthOptions(persons=persons, seed=seed, out=extract, hospitals=hospitals)
    opts.check()
    generate(opts, progress=lambda n: progress.advance(n, "persons"))
    seconds["synth"] = time.perf_counter() - mark

    hub = Hub.init(directory / "hub")
    mark = time.perf_counter()
    results = [ingest(hub, extract / "snds", "snds", progress=progress)]
    for hospital in sorted(p for p in (extract / "hospitals").iterdir() if p.is_dir()):
        if not _has_rows(hospital):  # none of a small population went there: nothing to send
            continue
        results.append(
            ingest(hub, hospital, "omop", truth=extract / "ground_truth", progress=progress)
        )
    seconds["ingest"] = time.perf_counter() - mark

    mark = time.perf_counter()
    progress.step("data-quality check", total=1)
    report, version = check_snapshot(hub)
    assert report is not None
    html = report.to_html(hub.paths.reports / f"quality-snapshot-{version}.html")
    progress.advance(1)
    seconds["check"] = time.perf_counter() - mark

    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    rows = {t: snapshot.row_count(t) for t in snapshot.tables()}
    return DemoResult(
        directory=directory,
        hub=hub,
        persons=snapshot.row_count("person"),
        ingests=results,
        quality=report,
        quality_html=html,
        rows=rows,
        seconds=seconds,
    )
