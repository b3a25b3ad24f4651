"""The key-provider interface and how a hub chooses its provider."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bastide.errors import BastideError

if TYPE_CHECKING:
    from bastide.config import Settings

PROVIDERS = ("keyfile", "pkcs11")


class KeyError_(BastideError, RuntimeError):
    """A key that is missing, unusable or wrong, with what to do about it."""


class KeyMissing(KeyError_):
    """A data key that the hub's key store does not hold."""


class KeyShredded(KeyError_):
    """A data key that was destroyed on purpose: what it protected can never be read again."""


class KeyProvider(Protocol):
    """Holds a master key-encryption key and wraps/unwraps data keys with it.

    The master key never leaves the provider: callers only ever handle wrapped blobs and
    the data keys they unwrap for the time of one operation. ``context`` is bound to the
    blob (AES-GCM additional data): a blob only opens under the context it was wrapped for.
    """

    @property
    def key_id(self) -> str:
        """A stable, non-secret name of this master key (recorded with each blob)."""
        ...

    @property
    def description(self) -> str:
        """Where the master key lives, for people (no secret)."""
        ...

    def wrap(self, data_key: bytes, context: bytes = b"") -> bytes:
        """Encrypt a data key under the master key."""
        ...

    def unwrap(self, blob: bytes, context: bytes = b"") -> bytes:
        """Decrypt a wrapped data key; raise KeyError_ if it was not wrapped by this key."""
        ...

    # -- rotation: a second master key exists while every blob is re-wrapped ---------------
    def next_key(self, *, create: bool = False) -> KeyProvider | None:
        """The new master key of a rotation in progress (created when ``create``)."""
        ...

    def retire(self) -> None:
        """End a rotation: the next key becomes the master and the old one is destroyed."""
        ...


def open_provider(settings: Settings) -> KeyProvider:
    """The provider named by ``[keys] provider`` in the hub's settings."""
    name = settings.get("keys", "provider")
    if name == "keyfile":
        from bastide.keys.keyfile import KeyFileProvider

        return KeyFileProvider(settings.path("keys", "keyfile"))
    if name == "pkcs11":
        from bastide.keys.pkcs11 import Pkcs11Provider

        return Pkcs11Provider.from_settings(settings)
    raise KeyError_(
        f"unknown key provider {name!r} in [keys] provider (expected one of {PROVIDERS})"
    )
