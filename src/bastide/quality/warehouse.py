"""Run the data-quality checks over a warehouse snapshot."""

from __future__ import annotations

from bastide.cdm.spec import is_omop_table
from bastide.hub import Hub
from bastide.quality.report import QualityReport
from bastide.quality.runner import run_checks
from bastide.storage import Warehouse, open_engine_for


def check_snapshot(hub: Hub, version: int | None = None) -> tuple[QualityReport | None, int]:
    """The quality report of snapshot ``version`` (default: current) and its version."""
    warehouse = Warehouse(hub)
    snapshot = warehouse.current() if version is None else warehouse.get(version)
    if snapshot is None:
        return None, 0
    tables = [t for t in snapshot.tables() if is_omop_table(t)]
    engine = open_engine_for(hub)
    try:
        snapshot.register(engine, tables)
        return run_checks(engine, tables), snapshot.version
    finally:
        engine.close()
