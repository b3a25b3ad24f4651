"""Where the tests find the public source files of the reference data (../shared/data, or
$BASTIDE_SHARED_DATA): real layouts for fixtures, and the sources the shipped reference
bundle is built from. Only tests read this folder; bastide itself never does.

Development and CI machines have it. Elsewhere (a bare clone) the tests that need it are
skipped with the reason, and fail instead when ``$CI`` is set: CI must run them all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    configured = os.environ.get("BASTIDE_SHARED_DATA")
    directory = Path(configured) if configured else REPO.parent / "shared" / "data"
    if not directory.is_dir():
        message = f"test reference data not found: {directory} (set $BASTIDE_SHARED_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return directory


def shared_data_path(*parts: str) -> Path:
    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        pytest.fail(f"test reference data not found: {path}")
    return path
