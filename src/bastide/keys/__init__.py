"""Key custody: the controller's master key (key file or PKCS#11 HSM) and the data keys
it wraps. Nothing outside this package ever sees a master key."""

from bastide.keys.provider import KeyError_, KeyProvider, open_provider

__all__ = ["KeyError_", "KeyProvider", "open_provider"]
