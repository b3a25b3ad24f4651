"""Shared types of the ingest tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bastide.hub import Hub
from bastide.ingest import IngestResult


@dataclass
class Ingested:
    extract: Path
    hub: Hub
    results: list[IngestResult]
