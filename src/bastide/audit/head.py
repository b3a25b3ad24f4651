"""The signed head: the latest sequence number and hash of the audit log, kept in a small
file under the hub and MACed with the audit key.

A chain alone cannot show that its tail was cut off; the head can. It lives outside the
database, so someone who can rewrite the database but not the hub directory (or who
lacks the audit key) cannot hide a truncation. The head only moves forward, and only
when the log still holds the entry it names.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bastide.errors import BastideError


class AuditHeadError(BastideError):
    """A head file that is unreadable or whose MAC does not match."""


@dataclass(frozen=True)
class Head:
    seq: int
    entry_hash: str


class HeadFile:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key

    def _mac(self, seq: int, entry_hash: str) -> str:
        message = f"bastide-audit-head\x00{seq}\x00{entry_hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def read(self) -> Head | None:
        """The head, None when there is no file, AuditHeadError when it is not genuine."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            seq, entry_hash, mac = int(data["seq"]), str(data["entry_hash"]), str(data["mac"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditHeadError(f"audit head {self.path} is unreadable: {exc}") from None
        if not hmac.compare_digest(mac, self._mac(seq, entry_hash)):
            raise AuditHeadError(f"audit head {self.path} has a bad MAC (altered or replaced)")
        return Head(seq, entry_hash)

    def write(self, head: Head) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"seq": head.seq, "entry_hash": head.entry_hash}
        body["mac"] = self._mac(head.seq, head.entry_hash)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise head updates between processes of this host."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
