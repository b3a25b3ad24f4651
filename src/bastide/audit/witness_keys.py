"""An auditor's witness key and the ``[audit.witness.<name>]`` table that registers it,
from the options of ``bastide audit witness init | add``."""

from __future__ import annotations

import base64
from pathlib import Path

from bastide.audit.checkpoint import AuditCheckpointError, fingerprint
from bastide.audit.signers import Ed25519KeyFile, Pkcs11Signer, Signer
from bastide.audit.witnesses import WitnessTable


def _one_kind(key: Path | None, module: str | None, token: str | None) -> str:
    if key is not None and (module or token):
        raise AuditCheckpointError("give either --key or --pkcs11-module/--token, not both")
    if key is not None:
        return "ed25519-file"
    if module and token:
        return "pkcs11"
    raise AuditCheckpointError("give --key FILE, or --pkcs11-module and --token")


def create_witness_key(
    key: Path | None, module: str | None, token: str | None, label: str, pin_env: str
) -> str:
    """Create the key; its public key's fingerprint, for the auditor to note."""
    signer: Signer
    if _one_kind(key, module, token) == "ed25519-file":
        assert key is not None
        signer = Ed25519KeyFile.create(key.absolute())
    else:
        config = {"module": module, "token_label": token, "key_label": label, "pin_env": pin_env}
        hsm = Pkcs11Signer.from_config(config, "the witness token")
        hsm.generate()
        signer = hsm
    der = signer.public_key_der()
    return f"{fingerprint(der)} (public key {base64.b64encode(der).decode('ascii')})"


def witness_table(
    store: Path,
    key: Path | None,
    public_key: str | None,
    module: str | None,
    token: str | None,
    label: str,
    pin_env: str,
) -> WitnessTable:
    if key is None and not (module or token) and public_key:
        kind = "ed25519-file"  # verify only: the auditor signs elsewhere
    else:
        kind = _one_kind(key, module, token)
    table: WitnessTable = {"kind": kind, "store": str(store.absolute())}
    if kind == "ed25519-file" and key is not None:
        table["key"] = str(key.absolute())
    if kind == "pkcs11":
        assert module and token
        table |= {"module": module, "token_label": token, "key_label": label, "pin_env": pin_env}
    if public_key:
        table["public_key"] = public_key
    return table
