"""A PKCS#11 HSM as key provider (python-pkcs11; SoftHSM2 in tests).

The master key is an AES-256 secret key object on the token, generated there as sensitive
and non-extractable: its value never leaves the HSM. Data keys are wrapped by AES-GCM
*inside* the HSM (``C_Encrypt``/``C_Decrypt`` with the blob's context as additional data).

Configuration (``[keys]``): ``module`` (the PKCS#11 library), ``token_label``,
``key_label`` (default ``bastide-master``) and ``pin_env``, the name of the environment
variable that holds the user PIN (default ``BASTIDE_HSM_PIN``). The PIN itself is never
read from ``bastide.toml``.

Rotation generates the new key on the token under ``<key_label>.next``; ``retire``
destroys the old key object and gives the new one the master's label.
"""

from __future__ import annotations

import os
import secrets
import threading
from typing import TYPE_CHECKING, Any

from bastide.keys.provider import KeyError_
from bastide.optional import HSM, require

if TYPE_CHECKING:
    import pkcs11

    from bastide.config import Settings

PIN_ENV = "BASTIDE_HSM_PIN"
DEFAULT_KEY_LABEL = "bastide-master"
NEXT_SUFFIX = ".next"
NONCE_BYTES = 12


def _lib(module: str) -> Any:
    require(HSM)  # python-pkcs11, an optional extra: one line saying how to install it
    import pkcs11

    if not os.path.exists(module):
        raise KeyError_(f"PKCS#11 module {module} not found (is [keys] module right?)")
    try:
        return pkcs11.lib(module)
    except pkcs11.PKCS11Error as exc:
        raise KeyError_(f"PKCS#11 module {module} cannot be loaded: {type(exc).__name__}") from exc


class _Token:
    """One logged-in session on a token, shared by the key objects of a provider."""

    def __init__(self, module: str, token_label: str, pin: str) -> None:
        require(HSM)
        import pkcs11

        self.module, self.label = module, token_label
        self._pin = pin
        self._lock = threading.RLock()
        self._session: pkcs11.Session | None = None
        self._errors = pkcs11.PKCS11Error

    def session(self) -> Any:
        import pkcs11

        if self._session is None:
            lib = _lib(self.module)
            try:
                token = lib.get_token(token_label=self.label)
            except pkcs11.NoSuchToken:
                raise KeyError_(
                    f"no PKCS#11 token labelled {self.label!r} in {self.module} "
                    "(is [keys] token_label right?)"
                ) from None
            try:
                try:
                    self._session = token.open(user_pin=self._pin, rw=True)
                except pkcs11.UserAlreadyLoggedIn:
                    # Login is per process and token in PKCS#11: another session of this
                    # process logged in already, and this one shares it.
                    self._session = token.open(rw=True)
            except pkcs11.PinIncorrect:
                raise KeyError_(
                    f"PKCS#11 token {self.label!r} refused the PIN (check ${PIN_ENV} or the "
                    "variable named by [keys] pin_env)"
                ) from None
            except pkcs11.PKCS11Error as exc:
                raise KeyError_(
                    f"cannot log in to PKCS#11 token {self.label!r}: {type(exc).__name__}"
                ) from exc
        return self._session

    def run(self, fn: Any) -> Any:
        """``fn(session)`` under the lock; a session invalidated under us is reopened once."""
        import pkcs11

        with self._lock:
            try:
                return fn(self.session())
            except (pkcs11.SessionHandleInvalid, pkcs11.SessionClosed):
                self._session = None
                return fn(self.session())

    def find(self, label: str) -> Any | None:
        from pkcs11 import Attribute, ObjectClass

        def look(s: Any) -> Any | None:
            found = list(s.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                        Attribute.LABEL: label}))  # fmt: skip
            if len(found) > 1:
                raise KeyError_(
                    f"PKCS#11 token {self.label!r} holds {len(found)} keys labelled {label!r}; "
                    "expected one"
                )
            return found[0] if found else None

        return self.run(look)

    def generate(self, label: str) -> Any:
        from pkcs11 import Attribute, KeyType

        def gen(s: Any) -> Any:
            return s.generate_key(
                KeyType.AES,
                256,
                label=label,
                id=secrets.token_bytes(8),
                store=True,
                template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                    Attribute.MODIFIABLE: True,  # the label changes when a rotation ends
                },
            )

        return self.run(gen)


class Pkcs11Provider:
    def __init__(
        self,
        module: str,
        token_label: str,
        key_label: str,
        pin: str,
        *,
        _token: _Token | None = None,
    ) -> None:
        self._token = _token or _Token(module, token_label, pin)
        self.key_label = key_label
        self._cached: tuple[Any, str] | None = None  # (key object, key id)

    @classmethod
    def from_settings(cls, settings: Settings) -> Pkcs11Provider:
        require(HSM)  # first: without python-pkcs11, nothing else here matters
        keys = dict(settings.values.get("keys", {}))
        if "pin" in keys:
            raise KeyError_(
                "[keys] pin: the HSM PIN must not be written in bastide.toml; put it in the "
                f"environment variable named by [keys] pin_env (default {PIN_ENV})"
            )
        missing = [k for k in ("module", "token_label") if not keys.get(k)]
        if missing:
            raise KeyError_(f"[keys] provider = 'pkcs11' needs {', '.join(missing)}")
        pin_env = str(keys.get("pin_env") or PIN_ENV)
        pin = os.environ.get(pin_env)
        if not pin:
            raise KeyError_(
                f"the PIN of PKCS#11 token {keys['token_label']!r} is not set: export {pin_env}"
            )
        return cls(
            str(keys["module"]),
            str(keys["token_label"]),
            str(keys.get("key_label") or DEFAULT_KEY_LABEL),
            pin,
        )

    # -- the master key object ---------------------------------------------------------
    def _key(self) -> Any:
        return self._master()[0]

    def _master(self) -> tuple[Any, str]:
        from pkcs11 import Attribute

        if self._cached is None:
            key = self._find_master()
            key_id = self._token.run(lambda s: key[Attribute.ID]).hex()
            self._cached = (key, f"pkcs11:{self._token.label}:{key_id}")
        return self._cached

    def _find_master(self) -> Any:
        key = self._token.find(self.key_label)
        if key is None:
            nxt = self._token.find(self.key_label + NEXT_SUFFIX)
            if nxt is None:
                raise KeyError_(
                    f"no master key labelled {self.key_label!r} on PKCS#11 token "
                    f"{self._token.label!r} (create it with Hub.init, or check [keys] key_label)"
                )
            # A rotation destroyed the old key but stopped before relabelling the new one:
            # every blob is already wrapped under it, so finishing the relabel is safe.
            self._relabel(nxt, self.key_label)
            key = nxt
        return key

    def create(self) -> None:
        """Generate the master key on the token (refused if one exists)."""
        if self._token.find(self.key_label) is not None:
            raise KeyError_(
                f"PKCS#11 token {self._token.label!r} already holds a key {self.key_label!r}"
            )
        self._token.generate(self.key_label)

    def exists(self) -> bool:
        return self._token.find(self.key_label) is not None

    @property
    def key_id(self) -> str:
        return self._master()[1]

    @property
    def description(self) -> str:
        return (
            f"PKCS#11 token {self._token.label!r} ({self._token.module}), "
            f"non-extractable AES-256 key {self.key_label!r}"
        )

    # -- wrapping -----------------------------------------------------------------------
    def wrap(self, data_key: bytes, context: bytes = b"") -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        self._cached = None  # look the master up again: another process may have rotated it
        key = self._key()
        nonce = secrets.token_bytes(NONCE_BYTES)
        param = GCMParams(nonce, context or None)
        ct = self._token.run(
            lambda s: key.encrypt(data_key, mechanism=Mechanism.AES_GCM, mechanism_param=param)
        )
        return nonce + bytes(ct)

    def unwrap(self, blob: bytes, context: bytes = b"") -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        key = self._key()
        if len(blob) <= NONCE_BYTES + 16:
            raise KeyError_("a wrapped key is too short to be one (altered?)")
        param = GCMParams(blob[:NONCE_BYTES], context or None)
        try:
            return bytes(
                self._token.run(
                    lambda s: key.decrypt(
                        blob[NONCE_BYTES:], mechanism=Mechanism.AES_GCM, mechanism_param=param
                    )
                )
            )
        except self._token._errors as exc:
            raise KeyError_(
                f"a wrapped key does not open with the HSM key {self.key_label!r} "
                "(wrapped by another master key, or altered)"
            ) from exc

    # -- rotation -----------------------------------------------------------------------
    def next_key(self, *, create: bool = False) -> Pkcs11Provider | None:
        label = self.key_label + NEXT_SUFFIX
        if self._token.find(label) is None:
            if not create:
                return None
            self._token.generate(label)
        return Pkcs11Provider("", "", label, "", _token=self._token)

    def retire(self) -> None:
        nxt = self._token.find(self.key_label + NEXT_SUFFIX)
        if nxt is None:
            raise KeyError_(f"no new master key {self.key_label + NEXT_SUFFIX!r} on the token")
        old = self._token.find(self.key_label)
        if old is not None:
            self._token.run(lambda s: old.destroy())
        self._relabel(nxt, self.key_label)
        self._cached = None

    def _relabel(self, key: Any, label: str) -> None:
        from pkcs11 import Attribute

        def set_label(s: Any) -> None:
            key[Attribute.LABEL] = label

        self._token.run(set_label)
