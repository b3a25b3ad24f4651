"""The key store: every data key of a hub, wrapped by the master key, one small file each.

A data key belongs to a *scope*, which is also the additional data of its wrapping (a blob
copied under another scope's name does not open):

    hub:<name>                      keys/wrapped/<name>.key         hub secrets (pseudonym, audit)
    warehouse:<table>:<version>     keys/wrapped/warehouse/<table>/v<version>.key
    staging:<run id>                keys/wrapped/staging/<run id>.key
    project:<name>                  keys/wrapped/project/<name>.key

A file holds JSON: the scope, the id of the master key that wrapped it, the blob (base64)
and when it was created. Nothing in it is secret without the master key. A destroyed
(shredded) key leaves a tombstone ``<file>.shredded`` so that readers can say why.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bastide.keys.provider import KeyError_

FORMAT = "bastide-wrapped-key/1"
KINDS = ("hub", "warehouse", "staging", "project")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _name(value: str, what: str, scope: str) -> str:
    if not _NAME.fullmatch(value) or ".." in value:
        raise KeyError_(
            f"invalid key scope {scope!r}: {what} {value!r} must be letters, digits, '_', '-', '.'"
        )
    return value


def scope_path(root: Path, scope: str) -> Path:
    """Where the wrapped key of ``scope`` lives under the store ``root`` (validates it)."""
    kind, _, rest = scope.partition(":")
    if kind == "hub":
        return root / f"{_name(rest, 'name', scope)}.key"
    if kind in ("staging", "project"):
        return root / kind / f"{_name(rest, 'name', scope)}.key"
    if kind == "warehouse":
        table, _, version = rest.partition(":")
        if not _TABLE.fullmatch(table) or not version.isdigit():
            raise KeyError_(
                f"invalid key scope {scope!r}: expected warehouse:<table>:<version number>"
            )
        return root / "warehouse" / table / f"v{int(version):08d}.key"
    raise KeyError_(f"invalid key scope {scope!r}: expected one of {', '.join(KINDS)}:<name>")


def _scope_of(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("").parts
    if len(rel) == 1:
        return f"hub:{rel[0]}"
    if rel[0] == "warehouse" and len(rel) == 3:
        return f"warehouse:{rel[1]}:{int(rel[2].lstrip('v'))}"
    return f"{rel[0]}:{rel[1]}"


@dataclass(frozen=True)
class WrappedKey:
    scope: str
    master: str  # key id of the master key that wrapped it
    blob: bytes
    created: str

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "scope": self.scope,
            "master": self.master,
            "wrapped": base64.b64encode(self.blob).decode(),
            "created": self.created,
        }
        return (json.dumps(doc, indent=1) + "\n").encode()


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, scope: str) -> Path:
        return scope_path(self.root, scope)

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool) -> Iterator[None]:
        """Creating a key holds this shared; a rotation holds it exclusively, so no key is
        wrapped under a master key that the rotation is about to retire."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def read(self, scope: str) -> WrappedKey | None:
        path = self.path(scope)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT:
                raise ValueError(f"unknown format {doc.get('format')!r}")
            record = WrappedKey(
                scope=doc["scope"],
                master=doc["master"],
                blob=base64.b64decode(doc["wrapped"], validate=True),
                created=doc["created"],
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyError_(f"{path}: not a readable wrapped key ({exc})") from None
        if record.scope != scope:
            raise KeyError_(f"{path}: holds the key of {record.scope!r}, not {scope!r}")
        return record

    def create(self, record: WrappedKey) -> bool:
        """Store a new wrapped key; False if the scope already has one (another writer won)."""
        path = self.path(record.scope)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        self._write(tmp, record.to_json())
        try:
            os.link(tmp, path)  # fails if it exists: never replaces another writer's key
        except FileExistsError:
            return False
        finally:
            tmp.unlink()
        _fsync_dir(path.parent)
        return True

    def replace(self, record: WrappedKey) -> None:
        """Atomically replace a wrapped key by the same key wrapped anew (rotation)."""
        path = self.path(record.scope)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        self._write(tmp, record.to_json())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> Iterator[WrappedKey]:
        """Every wrapped key of the store."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*.key")):
            record = self.read(_scope_of(self.root, path))
            if record is not None:
                yield record

    # -- shredding ------------------------------------------------------------------------
    def tombstone(self, scope: str) -> dict[str, str] | None:
        path = self.path(scope)
        try:
            return dict(json.loads(path.with_name(path.name + ".shredded").read_text()))
        except FileNotFoundError:
            return None
        except ValueError:
            return {"scope": scope, "shredded": "unknown date"}

    def destroy(self, scope: str, reason: str = "") -> None:
        """Destroy a wrapped key for good and leave a tombstone saying so.

        The file's bytes are overwritten with random bytes and fsynced before it is
        unlinked; on copy-on-write file systems or SSDs the old block may survive, which is
        why the blob is also useless without the master key (see docs/encryption.md).
        """
        path = self.path(scope)
        stone = path.with_name(path.name + ".shredded")
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"scope": scope, "shredded": now(), "reason": reason}
        stone_tmp = stone.with_name(f".{stone.name}.tmp")
        stone_tmp.unlink(missing_ok=True)
        self._write(stone_tmp, (json.dumps(doc, indent=1) + "\n").encode())
        os.replace(stone_tmp, stone)
        if path.exists():
            size = path.stat().st_size
            with open(path, "r+b") as f:
                f.write(secrets.token_bytes(size))
                f.flush()
                os.fsync(f.fileno())
            path.unlink()
        _fsync_dir(path.parent)
