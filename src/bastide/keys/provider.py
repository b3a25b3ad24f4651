"""The key-provider interface and how a hub chooses its provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bastide.config import Settings


class KeyError_(RuntimeError):  # noqa: N801 - the builtin KeyError means something else
    """A key that is missing, unusable or wrong, with what to do about it."""


class KeyProvider(Protocol):
    """Holds a master key-encryption key and wraps/unwraps data keys with it.

    The master key never leaves the provider: callers only ever handle wrapped blobs and
    the data keys they unwrap for the time of one operation.
    """

    @property
    def key_id(self) -> str:
        """A stable, non-secret name of the current master key (recorded with each blob)."""
        ...

    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt a data key under the master key."""
        ...

    def unwrap(self, blob: bytes) -> bytes:
        """Decrypt a wrapped data key; raise KeyError_ if it was not wrapped by this key."""
        ...


def open_provider(settings: Settings) -> KeyProvider:
    """The provider named by ``[keys] provider`` in the hub's settings."""
    name = settings.get("keys", "provider")
    if name == "keyfile":
        from bastide.keys.keyfile import KeyFileProvider

        return KeyFileProvider(settings.path("keys", "keyfile"))
    raise KeyError_(f"unknown key provider {name!r} in [keys] provider (expected 'keyfile')")
