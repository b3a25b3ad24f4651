"""One audit entry, its canonical encoding and its chained hash (pure).

``entry_hash = HMAC-SHA256(audit key, canonical JSON of the entry including prev_hash)``;
without a key (an ``AuditLog`` over a bare engine) it is plain SHA-256 of the same bytes.
The canonical JSON has sorted keys, no spaces, UTF-8, and ``details`` embedded as its
own canonical text, exactly as stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bastide.audit.details import AuditDetailsError, looks_like_identifier

FORMAT_VERSION = 1
GENESIS = "0" * 64  # prev_hash of entry 1

_ACTOR = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_ACTION = re.compile(r"^[a-z][a-z_]{1,63}$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{2,62}$")
_OBJECT = re.compile(r"^[a-z_]+:[A-Za-z0-9_.:/-]{1,180}$")
MAX_REASON = 1000


class Outcome(StrEnum):
    ALLOWED = "allowed"  # a policy decision; the caller then does the work
    DENIED = "denied"  # a policy decision; nothing was done
    SUCCEEDED = "succeeded"  # an action done (its policy decision was "allowed")
    FAILED = "failed"  # an allowed action that could not be completed


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    actor: str
    action: str
    project: str | None
    object: str | None
    outcome: str
    reason: str
    details: str  # canonical JSON text
    prev_hash: str
    entry_hash: str

    @property
    def details_dict(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.details)
        return parsed

    @property
    def time(self) -> datetime:
        return datetime.strptime(self.ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def format_ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _payload(entry: AuditEntry) -> bytes:
    fields = asdict(entry)
    fields.pop("entry_hash")
    fields["v"] = FORMAT_VERSION
    return canonical_json(fields).encode("utf-8")


def compute_hash(entry: AuditEntry, key: bytes | None) -> str:
    payload = _payload(entry)
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def audit_safe_reason(message: str) -> str:
    """An error message fit for the log, or a placeholder when it may quote a value."""
    if len(message) > MAX_REASON or looks_like_identifier(message):
        return "message withheld from the audit log (it may quote an identifier)"
    return message


def check_fields(
    actor: str, action: str, outcome: str, project: str | None, obj: str | None, reason: str
) -> None:
    """Shape checks on the fixed fields (they are metadata too, never patient values)."""
    problems = [
        ("actor", actor, _ACTOR.match(actor) is not None),
        ("action", action, _ACTION.match(action) is not None),
        ("outcome", outcome, outcome in Outcome._value2member_map_),
        ("project", project, project is None or _PROJECT.match(project) is not None),
        ("object", obj, obj is None or _OBJECT.match(obj) is not None),
        ("reason", "...", isinstance(reason, str) and len(reason) <= MAX_REASON),
    ]
    for name, value in (
        ("actor", actor),
        ("project", project),
        ("object", obj),
        ("reason", reason),
    ):
        if value and looks_like_identifier(value):
            raise AuditDetailsError(f"audit entry {name} holds a long number (an identifier?)")
    for name, value, ok in problems:
        if not ok:
            raise AuditDetailsError(f"audit entry {name} {value!r} is not well-formed")
