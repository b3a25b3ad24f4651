"""The signed head: the latest sequence number and hash of the audit log, kept in a small
file under the hub and MACed with the audit key. The hub's identity is inside the MAC, so
a head taken from another hub is refused by name.

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
    def __init__(self, path: Path, key: bytes, hub_id: str) -> None:
        self.path = path
        self._key = key
        self.hub_id = hub_id

    def _mac(self, hub: str | None, seq: int, entry_hash: str) -> str:
        # hub None: a head written before heads named their hub (read, then rewritten)
        bound = "" if hub is None else f"{hub}\x00"
        message = f"bastide-audit-head\x00{bound}{seq}\x00{entry_hash}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def read(self) -> Head | None:
        """The head, None when there is no file, AuditHeadError when it is not genuine."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            seq, entry_hash, mac = int(data["seq"]), str(data["entry_hash"]), str(data["mac"])
            hub = None if data.get("hub") is None else str(data["hub"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuditHeadError(f"audit head {self.path} is unreadable: {exc}") from None
        if hub is not None and hub != self.hub_id:
            raise AuditHeadError(
                f"audit head {self.path} belongs to hub {hub}, not to this hub {self.hub_id} "
                "(copied from another hub)"
            )
        if not hmac.compare_digest(mac, self._mac(hub, seq, entry_hash)):
            raise AuditHeadError(f"audit head {self.path} has a bad MAC (altered or replaced)")
        return Head(seq, entry_hash)

    def write(self, head: Head) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body: dict[str, object] = {"hub": self.hub_id, "seq": head.seq}
        body["entry_hash"] = head.entry_hash
        body["mac"] = self._mac(self.hub_id, head.seq, head.entry_hash)
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
