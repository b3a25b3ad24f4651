"""A hub whose metadata store is the parametrised database (SQLite, then PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastide.hub import Hub


@pytest.fixture
def hub(tmp_path: Path, metadata_url: str) -> Hub:
    root = tmp_path / "hub"
    Hub.init(root)
    config = root / "bastide.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('url = "sqlite:///{hub}/metadata.db"', f'url = "{metadata_url}"'),
        encoding="utf-8",
    )
    return Hub(root)
