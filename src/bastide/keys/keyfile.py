"""The embedded default key provider: a 256-bit master key in a file only its owner reads.

Data keys are wrapped with AES-256-GCM under the master key, with the blob's context (the
scope of the data key) as additional data, so a wrong key, a tampered blob or a blob moved
to another scope is detected on unwrap.

Rotation writes the new master key next to the old one (``master.key.next``); ``retire``
overwrites the old key's bytes, then renames the new file over it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bastide.keys.provider import KeyError_

MASTER_KEY_BYTES = 32
NONCE_BYTES = 12


def create_key_file(path: Path) -> None:
    """Write a fresh random master key, readable by its owner only."""
    if path.exists():
        raise KeyError_(f"{path}: a key file already exists; refusing to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(MASTER_KEY_BYTES))
        f.flush()
        os.fsync(f.fileno())


def gcm_wrap(key: bytes, data: bytes, context: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, context)


def gcm_unwrap(key: bytes, blob: bytes, context: bytes) -> bytes:
    """Raises InvalidTag (or ValueError for a blob too short to be one)."""
    if len(blob) < NONCE_BYTES + 16:
        raise ValueError("blob too short")
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context)


class KeyFileProvider:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._key = self._read(path)
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int]:
        st = self._path.stat()
        return st.st_ino, st.st_mtime_ns

    def _refresh(self) -> None:
        """Re-read the key file if a rotation in another process replaced it."""
        if self._stat() != self._stamp:
            self._key = self._read(self._path)
            self._stamp = self._stat()

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
        self._refresh()
        return "keyfile:" + hashlib.sha256(b"bastide-key-id" + self._key).hexdigest()[:16]

    @property
    def description(self) -> str:
        return f"key file {self._path}"

    @property
    def path(self) -> Path:
        return self._path

    def wrap(self, data_key: bytes, context: bytes = b"") -> bytes:
        self._refresh()
        return gcm_wrap(self._key, data_key, context)

    def unwrap(self, blob: bytes, context: bytes = b"") -> bytes:
        try:
            return gcm_unwrap(self._key, blob, context)
        except (InvalidTag, ValueError) as exc:
            raise KeyError_(
                "a wrapped key does not open with this master key "
                "(wrong key file, or the wrapped key was altered)"
            ) from exc

    # -- rotation ---------------------------------------------------------------------
    @property
    def _next_path(self) -> Path:
        return self._path.with_name(self._path.name + ".next")

    def next_key(self, *, create: bool = False) -> KeyFileProvider | None:
        if not self._next_path.exists():
            if not create:
                return None
            create_key_file(self._next_path)
        return KeyFileProvider(self._next_path)

    def retire(self) -> None:
        nxt = self._next_path
        if not nxt.exists():
            raise KeyError_(f"{nxt}: no new master key to put in place")
        # Overwrite the old key's bytes first: the rename alone would leave them in a free
        # block of the file system (best effort: copy-on-write file systems and SSDs may
        # still keep the old block; see docs/encryption.md).
        with open(self._path, "r+b") as f:
            f.write(secrets.token_bytes(MASTER_KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        os.replace(nxt, self._path)
        fd = os.open(self._path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._key = self._read(self._path)
        self._stamp = self._stat()
