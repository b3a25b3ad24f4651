"""What an audit entry's ``details`` may hold: named, shaped, non-patient metadata only.

Every key must be in ``ALLOWED`` and its value must have that key's shape (a table name,
a count, a hash, a version...). Anything else, such as a free-text value or an unknown
key that could carry a patient's identifier, date or code, is refused with
``AuditDetailsError``. SQL text is not allowed either (it can quote values): log its
SHA-256 as ``query_sha256``. File names are not allowed (producers may put identifiers in
them): log the file's SHA-256 as ``file_sha256``.

As a second net, text values (and the entry's object and reason) may not hold a run of
ten or more digits, the shape of a NIR or a hospital patient number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from bastide.errors import BastideError

MAX_LIST = 500
MAX_BYTES = 16_384


class AuditDetailsError(BastideError):
    """Details that are not allow-listed, non-patient metadata."""


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_QUALIFIED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}\.[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,79}$")  # versions, rules, sources
_HEX = re.compile(r"^[0-9a-f]{16,128}$")
_USER = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_STATE = re.compile(r"^[a-z_]{1,16}$")

Check = Callable[[Any], bool]


_IDENTIFIER_LIKE = re.compile(r"\d{10,}")


def looks_like_identifier(text: str) -> bool:
    """True for text holding a long run of digits (a NIR has 13, plus a 2-digit key)."""
    return _IDENTIFIER_LIKE.search(text) is not None


def _matches(pattern: re.Pattern[str]) -> Check:
    return lambda v: isinstance(v, str) and bool(pattern.match(v)) and not looks_like_identifier(v)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _iso_date(v: Any) -> bool:
    if not isinstance(v, str) or len(v) > 32:
        return False
    try:
        date.fromisoformat(v[:10])
    except ValueError:
        return False
    return True


def _list_of(check: Check) -> Check:
    return lambda v: isinstance(v, list) and len(v) <= MAX_LIST and all(check(i) for i in v)


def _counts_by_table(v: Any) -> bool:
    return (
        isinstance(v, dict)
        and len(v) <= MAX_LIST
        and all(_IDENT.match(k) and _count(n) for k, n in v.items())
    )


_ident, _token, _user = _matches(_IDENT), _matches(_TOKEN), _matches(_USER)
_state = _matches(_STATE)


def _hex(v: Any) -> bool:  # digests are random hex, runs of digits are expected there
    return isinstance(v, str) and bool(_HEX.match(v))


# key -> (shape check, what the shape is, for the error message)
ALLOWED: dict[str, tuple[Check, str]] = {
    "table": (_ident, "a table name"),
    "dataset": (_ident, "a table name"),
    "tables": (_list_of(_ident), "a list of table names"),
    "columns": (_list_of(_matches(_QUALIFIED)), "a list of table.column names"),
    "row_count": (_count, "a row count"),
    "row_counts": (_counts_by_table, "a mapping of table name to row count"),
    "shrink_accepted": (_counts_by_table, "persons and rows before and after, as counts"),
    "rows_read": (_count, "a row count"),
    "rows_loaded": (_count, "a row count"),
    "rows_quarantined": (_count, "a row count"),
    "rows_excluded": (_count, "a row count"),
    "files": (_count, "a count"),
    "count": (_count, "a count"),
    "bytes": (_count, "a byte count"),
    "duration_ms": (_count, "a duration in milliseconds"),
    "entries": (_count, "a count"),
    "snapshot": (_token, "a snapshot version"),
    "version": (_token, "a version"),
    "source": (_token, "a source name"),
    "engine": (_token, "an engine name"),
    "rule": (_token, "a policy rule name"),
    "error": (_ident, "an error class name"),
    "key_name": (_token, "a key name"),
    "file_sha256": (_hex, "a hex digest"),
    "query_sha256": (_hex, "a hex digest"),
    "scope_sha256": (_hex, "a hex digest"),
    "user": (_user, "a user name"),
    "member": (_user, "a user name"),
    "roles": (_list_of(_token), "a list of role names"),
    "from_state": (_state, "a project state"),
    "to_state": (_state, "a project state"),
    "expires_at": (_iso_date, "an ISO date"),
    "first_bad_seq": (_count, "a sequence number"),
    "checkpoint_seq": (_count, "a sequence number"),
    "witnesses": (_list_of(_token), "a list of witness names"),
    "release_id": (_count, "a release request number"),
    "output_sha256": (_hex, "a hex digest"),
    "released_sha256": (_hex, "a hex digest"),
    "record_sha256": (_hex, "a hex digest"),
    "profile": (_token, "a disclosure profile name"),
    "check_status": (_matches(re.compile(r"^(pass|review|fail)$")), "pass, review or fail"),
    "ok": (lambda v: isinstance(v, bool), "true or false"),
    "run": (_hex, "a run id (hex)"),  # pairs an action's intent with its outcome
}


def validate_details(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The details as a plain dict, or AuditDetailsError naming the first bad key."""
    if details is None:
        return {}
    if not isinstance(details, Mapping):
        raise AuditDetailsError("audit details must be a mapping of allow-listed keys")
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key not in ALLOWED:
            raise AuditDetailsError(
                f"audit details key {key!r} is not allow-listed non-patient metadata "
                f"(allowed: {', '.join(sorted(ALLOWED))})"
            )
        check, shape = ALLOWED[key]
        if not check(value):
            raise AuditDetailsError(f"audit details {key!r} must be {shape}")
        out[key] = value
    if len(json.dumps(out)) > MAX_BYTES:
        raise AuditDetailsError(f"audit details larger than {MAX_BYTES} bytes")
    return out
