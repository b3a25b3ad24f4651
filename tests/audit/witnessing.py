"""Real witnesses for the audit tests: an auditor's Ed25519 key file and an EC key on the
auditor's own SoftHSM2 token, each with its checkpoint file outside the hub; and what an
attacker does to the database and the head."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, insert, text

from bastide.audit import AuditLog
from bastide.audit.entry import GENESIS, AuditEntry, compute_hash
from bastide.audit.head import Head
from bastide.audit.signers import Ed25519KeyFile, Pkcs11Signer
from bastide.audit.table import audit_log
from bastide.audit.witnesses import register_witness

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "keys"))

from key_backends import AUDITOR_PIN, AUDITOR_TOKEN, SOFTHSM_MODULE, softhsm


def key_file_witness(hub_root: Path, auditor: Path, name: str = "audrey") -> None:
    """An auditor's Ed25519 key and checkpoint file, registered with the hub."""
    key = auditor / f"{name}.key"
    Ed25519KeyFile.create(key)
    table = {"kind": "ed25519-file", "key": str(key), "store": str(auditor / f"{name}.jsonl")}
    register_witness(hub_root, name, table)


def token_witness(
    hub_root: Path, auditor: Path, monkeypatch: pytest.MonkeyPatch, name: str = "hsm"
) -> None:
    """An EC P-256 key generated on the auditor's own SoftHSM2 token."""
    softhsm()
    monkeypatch.setenv("AUDITOR_PIN", AUDITOR_PIN)
    table = {
        "kind": "pkcs11",
        "module": str(SOFTHSM_MODULE),
        "token_label": AUDITOR_TOKEN,
        "key_label": f"witness-{uuid.uuid4().hex[:10]}",
        "pin_env": "AUDITOR_PIN",
        "store": str(auditor / f"{name}.jsonl"),
    }
    Pkcs11Signer.from_config(table, "test").generate()
    register_witness(hub_root, name, table)


def append_sample(log: AuditLog, i: int) -> None:
    """The i-th entry of the sample log the attack tests tamper with."""
    log.append(
        "olga" if i % 2 else "rita",
        "ingest" if i % 2 else "query_project",
        "succeeded" if i % 3 else "denied",
        project=None if i % 2 else "diabetes-outcomes",
        obj=f"snapshot:v{i}",
        reason=f"reason {i}",
        details={"table": "person", "row_count": 100 * i},
    )


def untriggered(conn: Connection) -> None:
    """What an attacker with database rights does first."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


def tamper(log: AuditLog, *statements) -> None:
    with log.engine.begin() as conn:
        untriggered(conn)
        for statement in statements:
            conn.execute(statement)


def rows(log: AuditLog) -> list[AuditEntry]:
    return log.entries(newest_first=False)


def restore_rows(log: AuditLog, saved: list[AuditEntry]) -> None:
    """Put back a copy of the table taken earlier (a restored backup)."""
    tamper(log, delete(audit_log), *[insert(audit_log).values(e.__dict__) for e in saved])


def rewrite_as_key_holder(log: AuditLog) -> None:
    """What an operator holding the hub's key file can do after any change: renumber the
    entries, recompute every link and keyed hash, and sign a new head."""
    chain_key = log._chain_key
    assert chain_key is not None and log.head is not None
    rewritten, prev = [], GENESIS
    for seq, entry in enumerate(rows(log), start=1):
        entry = AuditEntry(**{**entry.__dict__, "seq": seq, "prev_hash": prev, "entry_hash": ""})
        entry = AuditEntry(**{**entry.__dict__, "entry_hash": compute_hash(entry, chain_key)})
        rewritten.append(entry)
        prev = entry.entry_hash
    restore_rows(log, rewritten)
    if rewritten:
        log.head.write(Head(rewritten[-1].seq, rewritten[-1].entry_hash))
    else:
        log.head.path.unlink(missing_ok=True)
