"""Where bastide finds the public reference data it reads (OMOP specification, French
nomenclatures, example databases): ``$BASTIDE_SHARED_DATA``, else ``../shared/data``
next to the repository."""

from __future__ import annotations

import os
from pathlib import Path

from bastide.errors import BastideError

ENV_VAR = "BASTIDE_SHARED_DATA"
# src/bastide/reference.py -> the repository root is three levels up.
_REPO_ROOT = Path(__file__).resolve().parents[2]


class ReferenceDataMissing(BastideError):
    """A reference file bastide needs is not where it looked."""


def shared_data_dir() -> Path:
    """The reference data directory (it is only read, never written)."""
    configured = os.environ.get(ENV_VAR)
    candidate = Path(configured) if configured else _REPO_ROOT.parent / "shared" / "data"
    if not candidate.is_dir():
        how = (
            f"${ENV_VAR}={configured}" if configured else f"set ${ENV_VAR} (looked in {candidate})"
        )
        raise ReferenceDataMissing(f"reference data directory not found: {how}")
    return candidate


def shared_data_path(*parts: str) -> Path:
    """A file or folder under the reference data directory, checked to exist."""
    path = shared_data_dir().joinpath(*parts)
    if not path.exists():
        raise ReferenceDataMissing(f"reference data not found: {path}")
    return path
