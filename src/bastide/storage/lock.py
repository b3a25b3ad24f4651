"""The warehouse's single-writer lock: an exclusive ``flock`` on ``LOCK``.

The kernel drops the lock when its holder exits or is killed, so a crash never leaves the
warehouse locked. The holder writes who it is into the file for the error message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from bastide.storage.errors import WarehouseBusy


class WriterLock:
    def __init__(self, path: Path, purpose: str) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise WarehouseBusy(
                f"another process is writing to the warehouse {path.parent} "
                f"({_holder(path)}); wait for it to finish, then retry"
            ) from None
        self._fd: int | None = fd
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "purpose": purpose,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _holder(path: Path) -> str:
    try:
        h = json.loads(path.read_text())
        return f"pid {h['pid']} on {h['host']} since {h['since']}: {h['purpose']!r}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
