"""The pseudonymisation scheme, as plain Python: the definition every route must match.

For a hub secret ``K`` and a domain ``D``::

    K_D       = HMAC-SHA256(K, b"bastide/pseudonym/v1/" + D)
    digest(v) = HMAC-SHA256(K_D, normalise(v))
    pseudonym = hex(digest[:16])                         32 lower-case hex chars, 128 bits
    person_id = int.from_bytes(digest[:8], "big") & (2**63 - 1)

``normalise`` strips ASCII whitespace and upper-cases ASCII letters of the UTF-8 bytes
(other characters are kept as they are); a value that is null or blank after normalisation
has no pseudonym. This module is pure: no files, no Arrow, no engines.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bastide.errors import BastideError

SCHEME = "bastide/pseudonym/v1"
PSEUDONYM_CHARS = 32
ID_MASK = (1 << 63) - 1
MIN_KEY_BYTES = 16

# Well-known domains. A pseudonym links only within its domain.
PERSON = "person"  # NIR, BEN_NIR_PSA, NIR_ANO_17, hospital chaining ids: one shared space
HOSPITAL_PATIENT = "hospital_patient"  # a hospital's own patient number, as "<FINESS>:<IPP>"
STAY = "stay"  # stay and visit numbers, as "<FINESS>:<number>"
PROVIDER = "provider"  # health professionals (RPPS, ADELI, PFS_EXE_NUM)

_DOMAIN = re.compile(r"[a-z][a-z0-9_]{0,62}")


class PseudonymError(BastideError):
    """A key, domain or column that cannot be pseudonymised, with the reason."""


def check_domain(domain: str) -> str:
    if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
        raise PseudonymError(
            f"invalid pseudonym domain {domain!r}: use lower-case letters, digits and '_' "
            f"(e.g. {PERSON!r})"
        )
    return domain


def domain_key(key: bytes, domain: str) -> bytes:
    """The key of one domain, derived from the hub secret (domain separation)."""
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise PseudonymError(
            f"a pseudonymisation key must be at least {MIN_KEY_BYTES} random bytes "
            "(use hub.data_key('pseudonym'))"
        )
    label = f"{SCHEME}/{check_domain(domain)}".encode()
    return hmac.new(bytes(key), label, hashlib.sha256).digest()


def normalise(value: str | bytes | None) -> bytes | None:
    """The bytes that are pseudonymised, or None for a null or blank value."""
    if value is None:
        return None
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    # bytes.strip() and bytes.upper() touch ASCII only, as the native routine does.
    norm = raw.strip().upper()
    return norm or None


def digest(key_d: bytes, value: str | bytes | None) -> bytes | None:
    """HMAC-SHA256 of the normalised value under a domain key."""
    norm = normalise(value)
    return None if norm is None else hmac.new(key_d, norm, hashlib.sha256).digest()


def pseudonym_of(d: bytes) -> str:
    return d[: PSEUDONYM_CHARS // 2].hex()


def person_id_of(d: bytes) -> int:
    return int.from_bytes(d[:8], "big") & ID_MASK
