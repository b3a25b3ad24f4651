"""The ``bastide`` command. Each sub-command lives in its own module and registers on
``app``; they all call the same services as the Python API."""

from __future__ import annotations

from bastide.cli.app import app, run

# Sub-command modules register themselves on import.
from bastide.cli import hub_cmd  # noqa: F401  isort: skip
from bastide.cli import synth_cmd  # noqa: F401  isort: skip
from bastide.cli import check_cmd, demo_cmd, ingest_cmd  # noqa: F401  isort: skip
from bastide.cli import sql_cmd, storage_cmd  # noqa: F401  isort: skip
from bastide.cli import keys_cmd  # noqa: F401  isort: skip
from bastide.cli import audit_cmd, governance_cmd  # noqa: F401  isort: skip
from bastide.cli import release_cmd  # noqa: F401  isort: skip
from bastide.cli import extract_cmd, query_cmd  # noqa: F401  isort: skip
from bastide.cli import study_cmd  # noqa: F401  isort: skip
from bastide.cli import vocab_cmd  # noqa: F401  isort: skip


def main() -> None:
    run()


__all__ = ["app", "main"]
