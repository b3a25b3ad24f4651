"""The warehouse tables are built once per session; each test gets its own hub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hub_world import World, make_world, warehouse_tables


@pytest.fixture(scope="session")
def tables() -> dict[str, pa.Table]:
    return warehouse_tables()


@pytest.fixture
def world(tmp_path: Path, tables: dict[str, pa.Table]) -> Iterator[World]:
    made = make_world(tmp_path / "hub", tables)
    try:
        yield made
    finally:
        made.gov.close()
