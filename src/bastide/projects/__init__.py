"""Project extracts: the granted perimeter of an approved project, materialised from the
warehouse with person and record identifiers re-keyed for that project alone, encrypted
under the project's own data key; destroyed (crypto-shredded) when the project ends.

- ``extract``: ``extract_project`` (an operator's ``bastide extract``), the manifest, and
  ``open_extract`` (the datasets the workspace registers);
- ``perimeter``: which rows and columns of each table the scope grants (the SQL);
- ``rekey``: the project's keyed pseudonyms for identifiers;
- ``retire``: the hook that destroys a project's key when it ends.

See docs/workspace.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bastide.projects.errors import ExtractError, ExtractMissing, ProjectDataError, ProjectEnded

if TYPE_CHECKING:
    from bastide.projects.extract import (
        ExtractManifest,
        TableEntry,
        extract_project,
        open_extract,
        read_manifest,
    )
    from bastide.projects.retire import ended_message, retire

__all__ = [
    "ExtractError",
    "ExtractManifest",
    "ExtractMissing",
    "ProjectDataError",
    "ProjectEnded",
    "TableEntry",
    "ended_message",
    "extract_project",
    "open_extract",
    "read_manifest",
    "retire",
]

_LAZY = {
    "ExtractManifest": "bastide.projects.extract",
    "TableEntry": "bastide.projects.extract",
    "extract_project": "bastide.projects.extract",
    "open_extract": "bastide.projects.extract",
    "read_manifest": "bastide.projects.extract",
    "ended_message": "bastide.projects.retire",
    "retire": "bastide.projects.retire",
}


def __getattr__(name: str) -> Any:
    # Governance imports bastide.projects.retire whenever a service opens: the extract's
    # heavier modules (Arrow, DuckDB) load only when they are used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bastide.projects' has no attribute {name!r}")
