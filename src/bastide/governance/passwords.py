"""Password hashing for local accounts: scrypt, a memory-hard KDF (hashlib/OpenSSL).

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>``; the parameters travel
with it, so raising the cost later keeps old hashes verifiable. Passwords are never
stored or logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from bastide.governance.errors import InvalidRequest

N, R, P = 2**15, 8, 1  # 32 MiB and ~0.1 s per hash on one core
MIN_LENGTH = 12
_DUMMY = "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def _kdf(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=32
    )


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidRequest(f"password: at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    salt = secrets.token_bytes(16)
    digest = _kdf(password, salt, N, R, P)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-time check; with no stored hash the same work is done and False returned."""
    encoded = stored or _DUMMY
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        actual = _kdf(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return stored is not None and hmac.compare_digest(actual, base64.b64decode(digest))
