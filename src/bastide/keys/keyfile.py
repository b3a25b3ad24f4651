"""The embedded default key provider: a 256-bit master key in a file only its owner reads.

Data keys are wrapped with AES key wrap (RFC 3394, via ``cryptography``), which detects a
wrong key or a tampered blob on unwrap.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from bastide.keys.provider import KeyError_

MASTER_KEY_BYTES = 32


def create_key_file(path: Path) -> None:
    """Write a fresh random master key, readable by its owner only."""
    if path.exists():
        raise KeyError_(f"{path}: a key file already exists; refusing to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(MASTER_KEY_BYTES))


class KeyFileProvider:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._key = self._read(path)

    @staticmethod
    def _read(path: Path) -> bytes:
        if not path.exists():
            raise KeyError_(f"{path}: master key file not found (is [keys] keyfile right?)")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise KeyError_(
                f"{path}: permissions {mode:o} let others read the master key; "
                f"run 'chmod 600 {path}'"
            )
        key = path.read_bytes()
        if len(key) != MASTER_KEY_BYTES:
            raise KeyError_(f"{path}: a master key is {MASTER_KEY_BYTES} bytes, found {len(key)}")
        return key

    @property
    def key_id(self) -> str:
        return "keyfile:" + hashlib.sha256(b"bastide-key-id" + self._key).hexdigest()[:16]

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self._key, data_key)

    def unwrap(self, blob: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._key, blob)
        except InvalidUnwrap as exc:
            raise KeyError_(
                "a wrapped key does not open with this master key "
                "(wrong key file, or the wrapped key was altered)"
            ) from exc
