"""Shared types of the ingest tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bastide.engines import open_engine
from bastide.hub import Hub
from bastide.ingest import IngestResult
from bastide.storage import Warehouse


@dataclass
class Ingested:
    extract: Path
    hub: Hub
    results: list[IngestResult]


def warehouse_query(hub: Hub, sql: str) -> list[dict]:
    """Rows of a query over the hub's current snapshot."""
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    engine = open_engine()
    try:
        snapshot.register(engine)
        return engine.query(sql).to_pylist()
    finally:
        engine.close()
