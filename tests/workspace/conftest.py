"""Fixtures of the workspace tests: a session's warehouse tables, a module's lab hub
(``workspace_lab``). The hub-building helpers are those of tests/projects."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hub_world import warehouse_tables
from workspace_lab import Lab, build_lab


@pytest.fixture(scope="session")
def tables() -> dict[str, pa.Table]:
    return warehouse_tables()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, tables: dict[str, pa.Table]) -> Iterator[Lab]:
    made = build_lab(tmp_path_factory.mktemp("lab") / "hub", tables)
    try:
        yield made
    finally:
        made.world.gov.close()
