"""Key custody: the controller's master key (key file or PKCS#11 HSM) and the data keys
it wraps. Nothing outside this package ever sees a master key."""

from bastide.keys.keyring import Keyring, KeyStatus, RotationReport, describe_scope
from bastide.keys.provider import KeyError_, KeyMissing, KeyProvider, KeyShredded, open_provider
from bastide.keys.store import KeyStore

__all__ = [
    "KeyError_",
    "KeyMissing",
    "KeyProvider",
    "KeyShredded",
    "KeyStatus",
    "KeyStore",
    "Keyring",
    "RotationReport",
    "describe_scope",
    "open_provider",
]
