"""What the steps of one ingest run share."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from bastide.ingest.progress import Progress
from bastide.ingest.staging import Staging
from bastide.sources import SourceFile, discover
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
    encoding: str | None = None

    def discovered(self, directory: Path, source: str) -> list[SourceFile]:
        return _discover(directory, source)


@cache
def _discover(directory: Path, source: str) -> list[SourceFile]:
    return discover(directory, source)
