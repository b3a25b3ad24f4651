"""Where a project's data lives under the hub, and the data-key scope that encrypts it.

::

    <hub>/projects/<name>/
        LOCK                       flock'ed while an extract is written
        extract/                   the current extract (replaced whole by a new one)
            manifest.json          snapshot, tables, columns, row counts, checksums
            <table>.parquet        one file per granted table, encrypted
        workspace/outputs/         results a member saved from the workspace
            <output>.parquet       encrypted under the same project key
            <output>.json          what it is (rows, columns, who, when, query digest)

Every Parquet file here is encrypted under the project's data key (scope
``project:<name>``); destroying that key makes all of them unreadable at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bastide.governance.scope import PROJECT_NAME
from bastide.projects.errors import ProjectDataError

if TYPE_CHECKING:
    from bastide.hub import Hub

PROJECTS_DIR = "projects"
EXTRACT_DIR = "extract"
MANIFEST = "manifest.json"
OUTPUTS_DIR = Path("workspace") / "outputs"


def key_scope(project: str) -> str:
    """The data-key scope of a project's files (``bastide keys shred`` destroys it)."""
    return f"project:{check_name(project)}"


def check_name(project: str) -> str:
    if not isinstance(project, str) or not PROJECT_NAME.match(project):
        raise ProjectDataError(f"{project!r} is not a project name")
    return project


def project_dir(hub: Hub, project: str) -> Path:
    return hub.root / PROJECTS_DIR / check_name(project)


def extract_dir(hub: Hub, project: str) -> Path:
    return project_dir(hub, project) / EXTRACT_DIR


def outputs_dir(hub: Hub, project: str) -> Path:
    return project_dir(hub, project) / OUTPUTS_DIR


@contextlib.contextmanager
def project_lock(hub: Hub, project: str, purpose: str) -> Iterator[None]:
    """One writer of a project's extract at a time (a second one is refused at once)."""
    directory = project_dir(hub, project)
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / "LOCK", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProjectDataError(
                f"another process is writing project {project!r}'s data ({purpose} refused); "
                "wait for it to finish, then retry"
            ) from None
        yield
    finally:
        os.close(fd)
