"""Witnesses configured for a hub: ``[audit.witness.<name>]`` tables of ``bastide.toml``.

Each witness is a signer the operator does not hold (an auditor's Ed25519 key file, or a
key on the auditor's PKCS#11 token) and an append-only checkpoint file outside the hub
directory (the auditor's own file, a file set append-only with ``chattr +a``, a WORM
mount). Verification reads the file and checks every record with the registered public
key only. ``kind = "rfc3161"`` and ``kind = "transparency-log"`` are reserved for the
optional network adapters, which are not implemented.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bastide.audit.checkpoint import (
    FIRST_PREV,
    AuditCheckpointError,
    Checkpoint,
    EntriesAfter,
    fingerprint,
)
from bastide.audit.signers import (
    Ed25519KeyFile,
    Pkcs11Signer,
    Signer,
    algorithm_of,
    verify_signature,
)

WitnessTable = dict[str, str]  # one [audit.witness.<name>] table
KINDS = ("ed25519-file", "pkcs11")
NOT_IMPLEMENTED = ("rfc3161", "transparency-log")
WITNESS_NAME = re.compile(r"^[a-z][a-z0-9_-]{1,31}$")


def outside_hub(path: Path, hub_root: Path, what: str) -> Path:
    """``path``, absolute, refused when it lies under the hub directory (the operator
    could then rewrite it along with the hub)."""
    if not path.is_absolute():
        raise AuditCheckpointError(f"{what} must be an absolute path outside the hub: {path}")
    resolved, root = path.resolve(), hub_root.resolve()
    if resolved == root or root in resolved.parents:
        raise AuditCheckpointError(
            f"{what} {path} is inside the hub directory {root}; keep it where the hub "
            "operator cannot rewrite it"
        )
    return path


class SignedFileWitness:
    """Checkpoints signed by ``signer`` and appended, one JSON line each, to ``store``."""

    def __init__(
        self,
        name: str,
        store: Path,
        public_key_der: bytes,
        signer: Callable[[], Signer],
        kind: str,
    ) -> None:
        self._name = name
        self.store = store
        self.public_key_der = public_key_der
        self.algorithm = algorithm_of(public_key_der)
        self.key_fingerprint = fingerprint(public_key_der)
        self._signer_factory = signer
        self.kind = kind

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return f"{self.kind} witness {self._name!r} ({self.key_fingerprint}, store {self.store})"

    # -- reading ----------------------------------------------------------------------
    def checkpoints(self) -> list[Checkpoint]:
        try:
            lines = self.store.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise AuditCheckpointError(
                f"witness {self._name!r}: checkpoint store {self.store} is missing"
            ) from None
        records: list[Checkpoint] = []
        for number, line in enumerate(lines, start=1):
            records.append(self._check(number, line, records[-1] if records else None))
        return records

    def _check(self, number: int, line: str, before: Checkpoint | None) -> Checkpoint:
        where = f"checkpoint {number} of witness {self._name!r}"
        try:
            record = Checkpoint.from_line(line)
            signature = record.signature()
        except (ValueError, TypeError, KeyError, binascii.Error):
            raise AuditCheckpointError(f"{where} is unreadable (store {self.store})") from None
        if not verify_signature(self.algorithm, self.public_key_der, record.message(), signature):
            raise AuditCheckpointError(
                f"{where} has a bad signature (altered, forged or signed by another key)"
            )
        expected_from = 1 if before is None else before.seq + 1
        problem = None
        if record.n != number or record.prev != (FIRST_PREV if before is None else before.digest()):
            problem = "does not follow the checkpoint before it (a checkpoint was removed)"
        elif record.witness != self._name:
            problem = f"was made by witness {record.witness!r}"
        elif record.from_seq != expected_from or len(record.hashes) != (
            record.seq - record.from_seq + 1
        ):
            problem = "does not cover the entries after the checkpoint before it"
        if problem:
            raise AuditCheckpointError(f"{where} {problem}")
        return record

    # -- writing ----------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.store.parent.mkdir(parents=True, exist_ok=True)
        with open(self.store.with_name(self.store.name + ".lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def countersign(self, hub: str, ts: str, entries_after: EntriesAfter) -> Checkpoint | None:
        with self._locked():
            records = self.checkpoints() if self.store.exists() else []
            last = records[-1] if records else None
            entries = entries_after(last.seq if last else 0)
            if not entries:
                return None
            signer = self._signer_factory()
            if signer.public_key_der() != self.public_key_der:
                raise AuditCheckpointError(
                    f"witness {self._name!r}: its signing key is not the registered public "
                    f"key {self.key_fingerprint}"
                )
            record = Checkpoint(
                hub=hub,
                witness=self._name,
                n=len(records) + 1,
                from_seq=entries[0][0],
                seq=entries[-1][0],
                hashes=tuple(h for _, h in entries),
                ts=ts,
                prev=last.digest() if last else FIRST_PREV,
                key=self.key_fingerprint,
            )
            sig = base64.b64encode(signer.sign(record.message())).decode("ascii")
            signed = Checkpoint(**{**record.__dict__, "sig": sig})
            self._append(signed.to_line())
            return signed

    def _append(self, line: str) -> None:
        # O_APPEND: a store set append-only (chattr +a, a WORM mount) accepts this write
        fd = os.open(self.store, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


def _public_key(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise AuditCheckpointError(f"{what} public_key is not base64") from None


def open_witness(name: str, config: Mapping[str, Any], hub_root: Path) -> SignedFileWitness:
    """The witness ``[audit.witness.<name>]`` describes; AuditCheckpointError when the
    table is incomplete or points inside the hub."""
    what = f"[audit.witness.{name}]"
    if not WITNESS_NAME.match(name):
        raise AuditCheckpointError(
            f"{what}: a witness name is 2 to 32 lower-case letters, digits, - or _"
        )
    kind = str(config.get("kind", ""))
    if kind in NOT_IMPLEMENTED:
        raise AuditCheckpointError(
            f"{what} kind = {kind!r}: this adapter is specified (docs/audit.md) but not "
            f"implemented; use one of {', '.join(KINDS)}"
        )
    if kind not in KINDS:
        raise AuditCheckpointError(f"{what} kind must be one of {', '.join(KINDS)}, not {kind!r}")
    for key in ("store", "public_key"):
        if not config.get(key):
            raise AuditCheckpointError(f"{what} needs {key}")
    store = outside_hub(Path(str(config["store"])), hub_root, f"{what} store")
    public = _public_key(config["public_key"], what)
    if kind == "ed25519-file":
        key_path = config.get("key")

        def signer() -> Signer:
            if not key_path:
                raise AuditCheckpointError(
                    f"{what} has no key: this hub can verify its checkpoints but not make them"
                )
            return Ed25519KeyFile(outside_hub(Path(str(key_path)), hub_root, f"{what} key"))

        return SignedFileWitness(name, store, public, signer, kind)
    settings = dict(config)
    return SignedFileWitness(
        name, store, public, lambda: Pkcs11Signer.from_config(settings, what), kind
    )


def configured_witnesses(
    audit_settings: Mapping[str, Any], hub_root: Path
) -> list[SignedFileWitness]:
    tables = audit_settings.get("witness", {}) or {}
    if not isinstance(tables, Mapping):
        raise AuditCheckpointError("[audit] witness must be tables [audit.witness.<name>]")
    return [open_witness(name, config, hub_root) for name, config in tables.items()]


def _signer_for(name: str, table: WitnessTable, hub_root: Path) -> Signer:
    what = f"[audit.witness.{name}]"
    if table.get("kind") == "ed25519-file":
        if not table.get("key"):
            raise AuditCheckpointError(f"{what} needs key (or public_key, to verify only)")
        return Ed25519KeyFile(outside_hub(Path(table["key"]), hub_root, f"{what} key"))
    return Pkcs11Signer.from_config(dict(table), what)


def register_witness(hub_root: Path, name: str, table: WitnessTable) -> SignedFileWitness:
    """Check a witness table and append it to the hub's bastide.toml. Without
    ``public_key`` it is read from the signer, which must then be usable now."""
    from bastide.config import CONFIG_FILE, load_settings

    audit = load_settings(hub_root).values.get("audit", {})
    if name in (audit.get("witness") or {}):
        raise AuditCheckpointError(f"a witness named {name!r} is already configured")
    table = {k: str(v) for k, v in table.items() if v not in (None, "")}
    if "public_key" not in table and table.get("kind") in KINDS:
        signer = _signer_for(name, table, hub_root)
        table["public_key"] = base64.b64encode(signer.public_key_der()).decode("ascii")
    witness = open_witness(name, table, hub_root)
    if witness.store.exists():
        witness.checkpoints()  # an existing store must verify with this key
    else:  # created now, so that its later disappearance is reported
        witness.store.parent.mkdir(parents=True, exist_ok=True)
        witness.store.touch(mode=0o644)
    # JSON strings are valid TOML strings
    lines = [f"\n[audit.witness.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    with open(hub_root / CONFIG_FILE, "a", encoding="utf-8") as config:
        config.write("\n".join(lines) + "\n")
    return witness
