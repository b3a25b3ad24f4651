"""Witnesses and their checkpoint stores: what breaks a store is named, each witness
alone catches a key holder's rewrite, the hub checkpoints by itself after sensitive
actions and regularly, and every witness command is governed."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner
from witnessing import key_file_witness, rewrite_as_key_holder, tamper, token_witness

from bastide.audit import AuditLog
from bastide.audit.checkpoint import AuditCheckpointError
from bastide.audit.signers import Ed25519KeyFile
from bastide.audit.table import audit_log
from bastide.audit.witnesses import open_witness, register_witness
from bastide.cli import app
from bastide.governance import Governance, PermissionDenied
from bastide.hub import Hub


def _fill(log: AuditLog, n: int, action: str = "ingest") -> None:
    for i in range(n):
        log.append("olga", action, "succeeded", details={"count": i})


@pytest.fixture
def audited(hub: Hub, tmp_path: Path):
    """A hub with the auditor's key-file witness; 6 entries, checkpointed twice."""
    key_file_witness(hub.root, tmp_path / "auditor")
    log = AuditLog(hub)
    _fill(log, 3)
    log.checkpoint()
    _fill(log, 3)
    log.checkpoint()
    yield log
    log.close()


def _store(tmp_path: Path) -> Path:
    return tmp_path / "auditor" / "audrey.jsonl"


@pytest.mark.parametrize("kind", ["ed25519-file", pytest.param("pkcs11", marks=pytest.mark.pkcs11)])
def test_each_witness_alone_catches_a_key_holder_rewrite(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "pkcs11":
        token_witness(hub.root, tmp_path / "auditor", monkeypatch, name="hsm")
    else:
        key_file_witness(hub.root, tmp_path / "auditor", name="hsm")
    log = AuditLog(hub)
    _fill(log, 5)
    log.checkpoint()
    tamper(log, update(audit_log).where(audit_log.c.seq == 2).values(actor="rita"))
    rewrite_as_key_holder(log)
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "differs from checkpoint 1 of witness 'hsm'" in result.problem
    log.close()


def _rewrite_line(store: Path, index: int, edit) -> None:
    lines = store.read_text().splitlines()
    record = json.loads(lines[index])
    edit(record)
    lines[index] = json.dumps(record)
    store.write_text("\n".join(lines) + "\n")


def test_an_edited_checkpoint_is_named(audited: AuditLog, tmp_path: Path) -> None:
    _rewrite_line(_store(tmp_path), 0, lambda r: r.update(seq=2, hashes=r["hashes"][:2]))
    result = audited.verify()
    assert not result.ok
    assert result.problem == (
        "checkpoint 1 of witness 'audrey' has a bad signature (altered, forged or signed by "
        "another key)"
    )


def test_a_checkpoint_removed_from_the_store_is_named(audited: AuditLog, tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.write_text(store.read_text().splitlines()[1] + "\n")
    result = audited.verify()
    assert not result.ok
    assert "checkpoint 1 of witness 'audrey' does not follow the checkpoint before it" in str(
        result
    )


def test_a_deleted_store_is_reported(audited: AuditLog, tmp_path: Path) -> None:
    _store(tmp_path).unlink()
    result = audited.verify()
    assert not result.ok and "checkpoint store" in result.problem and "is missing" in result.problem


def test_a_store_signed_with_another_key_is_refused(audited: AuditLog, tmp_path: Path) -> None:
    """The operator makes a key of their own and re-signs a store of the rewritten log."""
    forger = tmp_path / "forger"
    Ed25519KeyFile.create(forger / "mine.key")
    store = _store(tmp_path)
    store.rename(store.with_suffix(".orig"))
    mine = Ed25519KeyFile(forger / "mine.key")
    impostor = open_witness(
        "audrey",
        {
            "kind": "ed25519-file",
            "key": str(forger / "mine.key"),
            "store": str(store),
            "public_key": base64.b64encode(mine.public_key_der()).decode(),
        },
        tmp_path / "hub",
    )
    assert audited.hub_id is not None
    impostor.countersign(audited.hub_id, "2025-01-01T00:00:00.000000Z", lambda s: [(1, "0" * 64)])
    result = audited.verify()
    assert not result.ok and "checkpoint 1 of witness 'audrey' has a bad signature" in str(result)


def test_checkpoints_of_another_hub_are_refused(
    audited: AuditLog, hub: Hub, tmp_path: Path
) -> None:
    """The same auditor witnesses two hubs; one hub's store copied over the other's."""
    other = Hub.init(tmp_path / "other")
    config = hub.root / "bastide.toml"
    witness_table = config.read_text().split("[audit.witness.audrey]")[1]
    other_store = tmp_path / "auditor" / "other.jsonl"
    (other.root / "bastide.toml").write_text(
        (other.root / "bastide.toml").read_text()
        + "\n[audit.witness.audrey]"
        + witness_table.replace(str(_store(tmp_path)), str(other_store))
    )
    other_store.touch()
    other_log = AuditLog(other)
    _fill(other_log, 2)
    other_log.checkpoint()
    other_log.close()
    shutil.copy(other_store, _store(tmp_path))
    result = audited.verify()
    assert not result.ok
    assert "checkpoint 1 of witness 'audrey' is for hub " in result.problem
    assert f"not this hub {audited.hub_id}" in result.problem


def test_the_hub_checkpoints_after_a_sensitive_action_and_regularly(
    hub: Hub, tmp_path: Path
) -> None:
    config = hub.root / "bastide.toml"
    config.write_text(config.read_text().replace("checkpoint_every = 1000", "checkpoint_every = 4"))
    key_file_witness(hub.root, tmp_path / "auditor")
    log = AuditLog(Hub(hub.root))
    _fill(log, 2)
    assert log.verify().witnesses[0].checkpoints == 0
    log.append("olga", "manage_keys", "allowed", obj="key:projects")  # entry 3: sensitive
    log.append("olga", "ingest", "succeeded")  # entry 5, after the checkpoint's own entry 4
    recorded = log.entries(2)[1]
    assert (recorded.seq, recorded.actor, recorded.action, recorded.outcome) == (
        4,
        "system",
        "checkpoint_audit",
        "succeeded",
    )
    assert recorded.details_dict == {"checkpoint_seq": 3, "witnesses": ["audrey"]}
    _fill(log, 3)  # entry 8 crosses checkpoint_every = 4
    result = log.verify()
    assert result.ok and result.witnesses[0].checkpoints == 2, str(result)
    assert result.witnesses[0].latest_seq == 8
    log.close()


def test_a_failed_automatic_checkpoint_is_recorded(hub: Hub, tmp_path: Path) -> None:
    key_file_witness(hub.root, tmp_path / "auditor")
    (tmp_path / "auditor" / "audrey.key").unlink()  # the auditor took the key away
    log = AuditLog(hub)
    log.append("olga", "manage_keys", "allowed")
    last = log.entries(1)[0]
    assert (last.action, last.outcome) == ("checkpoint_audit", "failed")
    assert "witness key file not found" in last.reason
    assert last.details_dict == {"error": "AuditCheckpointError"}
    log.close()


def test_bad_witness_configuration_is_one_clear_error(hub: Hub, tmp_path: Path) -> None:
    key = tmp_path / "auditor" / "a.key"
    Ed25519KeyFile.create(key)
    cases = {
        "inside the hub directory": {"kind": "ed25519-file", "key": str(key),
                                     "store": str(hub.root / "audit" / "cp.jsonl")},
        "kind = 'rfc3161'": {"kind": "rfc3161", "store": str(tmp_path / "s")},
        "kind must be one of": {"kind": "notary", "store": str(tmp_path / "s")},
        "absolute path": {"kind": "ed25519-file", "key": str(key), "store": "cp.jsonl"},
    }  # fmt: skip
    for message, table in cases.items():
        with pytest.raises(AuditCheckpointError, match=message):
            register_witness(hub.root, "audrey", table)
    key.chmod(0o644)
    with pytest.raises(AuditCheckpointError, match="let others read the witness key"):
        register_witness(
            hub.root, "audrey", {"kind": "ed25519-file", "key": str(key), "store": "/tmp/x"}
        )
    key.chmod(0o600)
    register_witness(
        hub.root,
        "audrey",
        {"kind": "ed25519-file", "key": str(key), "store": str(tmp_path / "s.jsonl")},
    )
    with pytest.raises(AuditCheckpointError, match="already configured"):
        register_witness(
            hub.root, "audrey", {"kind": "ed25519-file", "key": str(key), "store": "/tmp/y"}
        )


def test_witness_commands_are_governed(hub: Hub, tmp_path: Path) -> None:
    with Governance(hub) as gov:
        olga = gov.add_user(None, "olga", ["operator"])
        gov.add_user(olga, "audrey", ["auditor"])
    runner = CliRunner()
    env = {"BASTIDE_HUB": str(hub.root), "BASTIDE_USER": "audrey"}
    key, store = tmp_path / "auditor" / "w.key", tmp_path / "auditor" / "w.jsonl"

    made = runner.invoke(app, ["audit", "witness", "init", "--key", str(key)], env=env)
    assert made.exit_code == 0 and "witness key created: sha256:" in made.output
    add = ["audit", "witness", "add", "audrey", "--key", str(key), "--store", str(store)]
    denied = runner.invoke(app, [*add, "--as", "olga"], env=env)
    assert isinstance(denied.exception, PermissionDenied)
    assert "manage_witnesses needs the role auditor" in str(denied.exception)
    added = runner.invoke(app, add, env=env)
    assert added.exit_code == 0, added.output
    checkpoint = runner.invoke(app, ["audit", "checkpoint", "--as", "olga"], env=env)
    assert (
        checkpoint.exit_code == 0 and "witness audrey: checkpoint 2 at entry" in checkpoint.output
    )
    verified = runner.invoke(app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert "checkpoints audrey: 2 checkpoint(s)" in " ".join(verified.output.split())

    with Governance(hub) as gov:
        actions = [(e.actor, e.action, e.outcome) for e in gov.audit.entries(newest_first=False)]
    assert ("olga", "manage_witnesses", "denied") in actions
    assert ("audrey", "manage_witnesses", "succeeded") in actions
    assert ("system", "checkpoint_audit", "succeeded") in actions  # made by the add
    assert ("olga", "checkpoint_audit", "succeeded") in actions
    assert actions[-1] == ("audrey", "read_audit", "succeeded")
