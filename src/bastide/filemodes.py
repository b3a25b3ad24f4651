"""Owner-only permissions for everything bastide writes (docs/security.md).

A hub holds password hashes, the audit log, wrapped keys and encrypted data: none of it
is for other accounts of the machine. Every entry point (the CLI, ``Hub(...)`` and
``Hub.init``) narrows the process's umask with ``owner_only_umask()``, so that files are
created ``0600`` and directories ``0700`` whichever library creates them (SQLite,
Parquet, matplotlib...); the few files that matter most are also created with an
explicit mode (``private_file``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
GROUP_AND_OTHERS = 0o077


def owner_only_umask() -> None:
    """Add group and other bits to the process umask (a stricter umask is kept)."""
    current = os.umask(GROUP_AND_OTHERS)
    os.umask(current | GROUP_AND_OTHERS)


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist; an existing file this
    account owns loses any group or other permission."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        tighten(path)
    else:
        os.close(fd)


def private_directory(path: Path) -> None:
    """``mkdir -p`` with mode 0700 for what it creates; ``path`` itself is tightened."""
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    tighten(path)


def tighten(path: Path) -> None:
    """Remove group and other permissions from ``path`` if this account owns it."""
    info = path.stat()
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) & GROUP_AND_OTHERS:
        path.chmod(stat.S_IMODE(info.st_mode) & ~GROUP_AND_OTHERS)
