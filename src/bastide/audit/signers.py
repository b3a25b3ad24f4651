"""The keys that countersign audit checkpoints, held by an auditor, not by the hub.

Two real signers: an Ed25519 private key in a file the auditor keeps (``Ed25519KeyFile``)
and an EC P-256 key generated non-extractable on a PKCS#11 token of the auditor's own
(``Pkcs11Signer``; python-pkcs11, the ``hsm`` extra). Verifying a signature needs only the
public key (``verify_signature``), never the signer.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, utils

from bastide.audit.checkpoint import AuditCheckpointError
from bastide.optional import HSM, require

ED25519 = "ed25519"
ECDSA_P256 = "ecdsa-p256-sha256"  # signature: r || s, 32 bytes each (PKCS#11 CKM_ECDSA)
DEFAULT_PIN_ENV = "BASTIDE_WITNESS_PIN"


class Signer(Protocol):
    @property
    def algorithm(self) -> str: ...

    def public_key_der(self) -> bytes:
        """The public key, DER SubjectPublicKeyInfo."""
        ...

    def sign(self, message: bytes) -> bytes: ...


def verify_signature(algorithm: str, public_key_der: bytes, message: bytes, sig: bytes) -> bool:
    try:
        key = serialization.load_der_public_key(public_key_der)
        if algorithm == ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(sig, message)
            return True
        if algorithm == ECDSA_P256 and isinstance(key, ec.EllipticCurvePublicKey):
            if len(sig) != 64:
                return False
            der = utils.encode_dss_signature(
                int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            )
            key.verify(der, message, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def algorithm_of(public_key_der: bytes) -> str:
    try:
        key = serialization.load_der_public_key(public_key_der)
    except ValueError:
        raise AuditCheckpointError("the witness public key is not a DER public key") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ED25519
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return ECDSA_P256
    raise AuditCheckpointError("a witness public key must be Ed25519 or EC P-256")


class Ed25519KeyFile:
    """An auditor's Ed25519 private key in a PEM file readable by its owner only."""

    algorithm = ED25519

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise AuditCheckpointError(f"{path}: witness key file not found")
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise AuditCheckpointError(
                f"{path}: permissions {mode:o} let others read the witness key; "
                f"run 'chmod 600 {path}'"
            )
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError):
            raise AuditCheckpointError(f"{path}: not an unencrypted PEM private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise AuditCheckpointError(f"{path}: not an Ed25519 private key")
        self._key = key

    @classmethod
    def create(cls, path: Path) -> Ed25519KeyFile:
        if path.exists():
            raise AuditCheckpointError(f"{path}: a file exists already; refusing to overwrite it")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return cls(path)

    def public_key_der(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class Pkcs11Signer:
    """An EC P-256 key pair on a PKCS#11 token (the auditor's own token or slot); the
    private key is generated there, sensitive and non-extractable, and only signs."""

    algorithm = ECDSA_P256

    def __init__(self, module: str, token_label: str, key_label: str, pin: str) -> None:
        require(HSM)
        self.module, self.token_label, self.key_label = module, token_label, key_label
        self._pin = pin
        self._session: Any = None

    @classmethod
    def from_config(cls, config: dict[str, Any], what: str) -> Pkcs11Signer:
        missing = [k for k in ("module", "token_label", "key_label") if not config.get(k)]
        if missing:
            raise AuditCheckpointError(f"{what} needs {', '.join(missing)}")
        if "pin" in config:
            raise AuditCheckpointError(
                f"{what} pin: a PIN never goes into bastide.toml; set pin_env instead"
            )
        pin_env = str(config.get("pin_env") or DEFAULT_PIN_ENV)
        pin = os.environ.get(pin_env)
        if not pin:
            raise AuditCheckpointError(
                f"the PIN of witness token {config['token_label']!r} is not set: export {pin_env}"
            )
        return cls(str(config["module"]), str(config["token_label"]), str(config["key_label"]), pin)

    def _open(self) -> Any:
        import pkcs11

        if self._session is not None:
            return self._session
        if not os.path.exists(self.module):
            raise AuditCheckpointError(f"PKCS#11 module {self.module} not found")
        try:
            token = pkcs11.lib(self.module).get_token(token_label=self.token_label)
        except pkcs11.NoSuchToken:
            raise AuditCheckpointError(
                f"no PKCS#11 token labelled {self.token_label!r} in {self.module}"
            ) from None
        try:
            try:
                self._session = token.open(user_pin=self._pin, rw=True)
            except pkcs11.UserAlreadyLoggedIn:  # login is per process and token
                self._session = token.open(rw=True)
        except pkcs11.PinIncorrect:
            raise AuditCheckpointError(
                f"PKCS#11 token {self.token_label!r} refused the witness PIN"
            ) from None
        except pkcs11.PKCS11Error as exc:
            raise AuditCheckpointError(
                f"cannot log in to PKCS#11 token {self.token_label!r}: {type(exc).__name__}"
            ) from None
        return self._session

    def _object(self, cls: Any) -> Any:
        from pkcs11 import Attribute

        found = list(
            self._open().get_objects({Attribute.CLASS: cls, Attribute.LABEL: self.key_label})
        )
        if len(found) != 1:
            raise AuditCheckpointError(
                f"PKCS#11 token {self.token_label!r} holds {len(found)} keys labelled "
                f"{self.key_label!r} of class {cls.name}; expected one"
            )
        return found[0]

    def generate(self) -> None:
        """Create the key pair on the token (refused if the label is taken)."""
        from pkcs11 import Attribute, KeyType, ObjectClass
        from pkcs11.util.ec import encode_named_curve_parameters

        session = self._open()
        taken = list(session.get_objects({Attribute.LABEL: self.key_label}))
        if taken:
            raise AuditCheckpointError(
                f"PKCS#11 token {self.token_label!r} already holds {self.key_label!r}"
            )
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        params.generate_keypair(
            store=True,
            label=self.key_label,
            public_template={Attribute.VERIFY: True},
            private_template={
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.PRIVATE: True,
            },
        )
        self._object(ObjectClass.PRIVATE_KEY)  # the pair is there

    def public_key_der(self) -> bytes:
        from pkcs11 import ObjectClass
        from pkcs11.util.ec import encode_ec_public_key

        return bytes(encode_ec_public_key(self._object(ObjectClass.PUBLIC_KEY)))

    def sign(self, message: bytes) -> bytes:
        import pkcs11
        from pkcs11 import Mechanism, ObjectClass

        key = self._object(ObjectClass.PRIVATE_KEY)
        try:  # CKM_ECDSA signs a digest: hash here, verify with ECDSA(SHA256)
            return bytes(key.sign(hashlib.sha256(message).digest(), mechanism=Mechanism.ECDSA))
        except pkcs11.PKCS11Error as exc:
            raise AuditCheckpointError(
                f"the witness key {self.key_label!r} could not sign: {type(exc).__name__}"
            ) from None
