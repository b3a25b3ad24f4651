"""What the steps of one ingest run share."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bastide.ingest.border_run import CodeSets, stage_extract
from bastide.ingest.progress import Progress
from bastide.ingest.staging import Staging
from bastide.sources import Reconciliation, SourceFile, discover
from bastide.sources.plausibility import DateBounds
from bastide.storage import Snapshot, SnapshotWriter


@dataclass
class IngestContext:
    source: str  # "snds" or "omop"
    source_name: str  # e.g. "snds" or a hospital's FINESS
    partition: str  # the warehouse partition this source owns
    pseudonym_key: bytes = field(repr=False)
    staging: Staging
    writer: SnapshotWriter
    parent: Snapshot | None
    fingerprint: dict[str, Any]
    progress: Progress
    hub_root: Path
    staging_scope: str
    encoding: str | None = None
    workers: int = 1
    date_bounds: DateBounds | None = None

    def discovered(self, directory: Path, source: str) -> list[SourceFile]:
        return _discover(directory, source)

    def stage(
        self,
        directory: Path,
        tables: list[str] | None = None,
        code_sets: CodeSets | None = None,
    ) -> Reconciliation:
        """Run the border over ``directory`` (some of its tables) into this run's staging."""
        return stage_extract(
            directory,
            self.source,
            self.staging,
            key=self.pseudonym_key,
            code_sets=code_sets,
            progress=self.progress,
            hub_root=self.hub_root,
            staging_scope=self.staging_scope,
            tables=tables,
            encoding=self.encoding,
            workers=self.workers,
            date_bounds=self.date_bounds,
        )


@cache
def _discover(directory: Path, source: str) -> list[SourceFile]:
    return discover(directory, source)
