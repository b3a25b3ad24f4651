"""Durable file-system steps of a commit, and the fault-injection hook used to test them.

``BASTIDE_STORAGE_FAULT=<step>`` makes a process that reaches the named step (see
``FAULT_STEPS``) print ``bastide-storage-fault: paused at <step>`` on stderr and wait there
until it is killed. The crash tests start a writer in a child process with it set, wait for
the line, then SIGKILL the child. Unset (always, outside tests) it costs one dict lookup.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

FAULT_ENV = "BASTIDE_STORAGE_FAULT"
FAULT_STEPS = (
    "write:row-group",  # one row group in a staged file, file still open
    "commit:start",  # every staged file closed, nothing published
    "commit:files-synced",  # staged files fsynced
    "commit:file-published",  # first staged file renamed into data/, others not yet
    "commit:files-published",  # every file in data/, directories fsynced
    "commit:manifest-written",  # manifest temp file written and fsynced, not renamed
    "commit:manifest-published",  # manifest renamed into snapshots/, CURRENT unchanged
    "commit:pointer-written",  # CURRENT.tmp written and fsynced, not renamed
    "commit:done",  # CURRENT replaced and its directory fsynced
)


def fault(step: str) -> None:
    if os.environ.get(FAULT_ENV) == step:
        print(f"bastide-storage-fault: paused at {step}", file=sys.stderr, flush=True)
        while True:  # until killed
            time.sleep(60)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename or creation inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (a temporary name) and fsync it."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
