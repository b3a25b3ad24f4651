"""The keyring of a hub: its key provider (the master key) over its key store (the wrapped
data keys), with the unwrapped data keys of this process cached in memory.

Rotation re-wraps every data key under a new master key; no data file changes. It can be
interrupted at any point and run again: each blob records which master key wrapped it, and
until the rotation ends both master keys open what they wrapped.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bastide.keys.provider import KeyError_, KeyMissing, KeyProvider, KeyShredded
from bastide.keys.store import KeyStore, WrappedKey, now

DATA_KEY_BYTES = 32


def describe_scope(scope: str) -> str:
    kind, _, rest = scope.partition(":")
    if kind == "project":
        return f"project {rest!r}"
    if kind == "warehouse":
        table, _, version = rest.partition(":")
        return f"warehouse table {table!r} (snapshot {version})"
    if kind == "staging":
        return f"staging run {rest!r}"
    return f"hub secret {rest!r}"


@dataclass(frozen=True)
class KeyStatus:
    provider: str
    master: str
    rotation_pending: bool
    keys: dict[str, int]  # per kind: how many data keys
    by_master: dict[str, int]  # per master key id: how many blobs it wrapped
    shredded: list[str]


@dataclass(frozen=True)
class RotationReport:
    old_master: str
    new_master: str
    rewrapped: int
    already_done: int


class Keyring:
    def __init__(self, provider: KeyProvider, store: KeyStore) -> None:
        self.provider = provider
        self.store = store
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- data keys ------------------------------------------------------------------------
    def data_key(self, scope: str, *, create: bool = False) -> bytes:
        """The 256-bit data key of ``scope``, unwrapped (created first when ``create``)."""
        with self._lock:
            key = self._cache.get(scope)
            if key is None:
                key = self._load(scope, create)
                self._cache[scope] = key
            return key

    def _load(self, scope: str, create: bool) -> bytes:
        record = self.store.read(scope)
        if record is None:
            stone = self.store.tombstone(scope)
            if stone is not None:
                raise KeyShredded(
                    f"the data key of {describe_scope(scope)} was destroyed (shredded "
                    f"{stone.get('shredded', '')}): its data can never be read again"
                )
            if not create:
                raise KeyMissing(
                    f"no data key for {describe_scope(scope)} in this hub "
                    f"({self.store.path(scope)} is missing)"
                )
            key = secrets.token_bytes(DATA_KEY_BYTES)
            with self.store.locked(exclusive=False):  # not while a rotation runs
                blob = self._wrap(key, scope)  # first: it may reload a rotated master key
                fresh = WrappedKey(scope, self.provider.key_id, blob, now())
                created = self.store.create(fresh)
            if created:
                return key
            record = self.store.read(scope)  # another process created it first
            assert record is not None
        return self._unwrap(record)

    def _wrap(self, key: bytes, scope: str, provider: KeyProvider | None = None) -> bytes:
        return (provider or self.provider).wrap(key, scope.encode())

    def _unwrap(self, record: WrappedKey) -> bytes:
        provider = self._provider_for(record)
        try:
            return provider.unwrap(record.blob, record.scope.encode())
        except KeyError_ as exc:
            raise KeyError_(
                f"the data key of {describe_scope(record.scope)} does not open: {exc} "
                f"({self.store.path(record.scope)})"
            ) from None

    def _provider_for(self, record: WrappedKey) -> KeyProvider:
        if record.master == self.provider.key_id:
            return self.provider
        pending = self.provider.next_key()
        if pending is not None and record.master == pending.key_id:
            return pending
        raise KeyError_(
            f"the data key of {describe_scope(record.scope)} does not open with this master "
            f"key: it was wrapped by {record.master}, but this hub's key provider holds "
            f"{self.provider.key_id} ({self.provider.description}); wrong key file or HSM key?"
        )

    def destroy(self, scope: str, reason: str = "") -> None:
        """Crypto-shred ``scope``: its wrapped key and this process's copy are destroyed."""
        with self._lock:
            self._cache.pop(scope, None)
            self.store.destroy(scope, reason)

    def forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- rotation -------------------------------------------------------------------------
    def rotate(self, progress: Callable[[str], None] | None = None) -> RotationReport:
        """Re-wrap every data key under a new master key, then retire the old master key.

        Resumes an interrupted rotation (the new key already exists): blobs it already
        wrapped are skipped.
        """
        with self.store.locked(exclusive=True):
            return self._rotate(progress)

    def _rotate(self, progress: Callable[[str], None] | None) -> RotationReport:
        old = self.provider
        old_id = old.key_id
        new = old.next_key(create=True)
        assert new is not None
        new_id = new.key_id
        done = rewrapped = 0
        for record in list(self.store.records()):
            if record.master == new_id:
                done += 1
                continue
            if record.master != old_id:
                raise KeyError_(
                    f"{self.store.path(record.scope)}: wrapped by master key {record.master}, "
                    f"neither the current ({old_id}) nor the new one; rotation stopped"
                )
            key = old.unwrap(record.blob, record.scope.encode())
            self.store.replace(
                WrappedKey(
                    record.scope, new_id, new.wrap(key, record.scope.encode()), record.created
                )
            )
            rewrapped += 1
            if progress is not None:
                progress(record.scope)
        old.retire()
        self.forget_cache()
        return RotationReport(old_id, new_id, rewrapped, done)

    # -- status ---------------------------------------------------------------------------
    def status(self) -> KeyStatus:
        kinds: dict[str, int] = {}
        masters: dict[str, int] = {}
        for record in self.store.records():
            kind = record.scope.partition(":")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
            masters[record.master] = masters.get(record.master, 0) + 1
        stones = self.store.root.rglob("*.key.shredded") if self.store.root.is_dir() else []
        shredded = sorted(_scope_from_stone(p) for p in stones)
        return KeyStatus(
            provider=self.provider.description,
            master=self.provider.key_id,
            rotation_pending=self.provider.next_key() is not None,
            keys=dict(sorted(kinds.items())),
            by_master=masters,
            shredded=shredded,
        )


def _scope_from_stone(path: Path) -> str:
    try:
        return str(json.loads(path.read_text())["scope"])
    except (OSError, ValueError, KeyError):
        return path.name
