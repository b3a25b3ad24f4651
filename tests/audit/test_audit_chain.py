"""The keyed hash chain and the signed head detect every kind of tampering, and name the
first bad entry. Tampering is done the way an attacker with database access would: plain
SQL, after switching off the append-only triggers."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import delete, insert, select, update
from witnessing import append_sample, tamper

from bastide.audit import AuditLog
from bastide.audit.entry import AuditEntry, compute_hash
from bastide.audit.table import audit_log
from bastide.hub import Hub

N = 8


@pytest.fixture
def log(hub: Hub):
    audit = AuditLog(hub)
    for i in range(1, N + 1):
        append_sample(audit, i)
    assert audit.verify().ok
    yield audit
    audit.close()


def _row(log: AuditLog, seq: int) -> AuditEntry:
    with log.engine.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.seq == seq)).one()
    return AuditEntry(**row._mapping)


def test_intact_log_verifies(log: AuditLog) -> None:
    result = log.verify()
    assert (result.ok, result.entries, result.head_seq, result.keyed) == (True, N, N, True)
    assert str(result) == f"OK: {N} entries, chain intact, signed head at {N}"


def test_the_database_refuses_update_and_delete(log: AuditLog) -> None:
    for statement in (update(audit_log).values(reason="x"), delete(audit_log)):
        with pytest.raises(Exception, match="append-only"), log.engine.begin() as conn:
            conn.execute(statement)
    assert log.verify().ok


CHANGES = {
    "ts": "2020-01-01T00:00:00.000000Z",
    "actor": "mallory",
    "action": "read_audit",
    "project": "other-project",
    "object": "table:death",
    "outcome": "allowed",
    "reason": "nothing to see",
    "details": '{"row_count":1,"table":"person"}',
    "prev_hash": "0" * 64,
    "entry_hash": "f" * 64,
}


@pytest.mark.parametrize("field", sorted(CHANGES))
def test_modifying_any_field_is_detected(log: AuditLog, field: str) -> None:
    tamper(log, update(audit_log).where(audit_log.c.seq == 5).values({field: CHANGES[field]}))
    result = log.verify()
    assert not result.ok and result.first_bad_seq == 5
    expected = "does not link" if field == "prev_hash" else "does not match its hash"
    assert expected in result.problem
    assert str(result).startswith("TAMPERED: entry 5: ")


def test_changing_the_sequence_number_is_detected(log: AuditLog) -> None:
    tamper(log, update(audit_log).where(audit_log.c.seq == N).values(seq=N + 5))
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, N)
    assert "jumps from entry 7 to 13" in result.problem


def test_deletion_is_detected(log: AuditLog) -> None:
    tamper(log, delete(audit_log).where(audit_log.c.seq == 4))
    result = log.verify()
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 4, 3)
    assert result.problem == "missing: the log jumps from entry 3 to 5 (deleted)"


def test_deletion_with_renumbering_is_detected(log: AuditLog) -> None:
    statements = [delete(audit_log).where(audit_log.c.seq == 4)]
    statements += [
        update(audit_log).where(audit_log.c.seq == s).values(seq=s - 1) for s in range(5, N + 1)
    ]
    tamper(log, *statements)
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "does not link" in result.problem


def test_insertion_is_detected_even_when_rehashed(log: AuditLog) -> None:
    """A forged entry linked properly and hashed with SHA-256 (the attacker lacks the key)."""
    previous = _row(log, 3)
    forged = replace(
        previous, seq=4, actor="mallory", reason="approved", prev_hash=previous.entry_hash
    )
    forged = replace(forged, entry_hash=compute_hash(forged, key=None))
    statements = [
        update(audit_log).where(audit_log.c.seq == s).values(seq=s + 100) for s in range(N, 3, -1)
    ]
    statements += [
        update(audit_log).where(audit_log.c.seq == s + 100).values(seq=s + 1)
        for s in range(N, 3, -1)
    ]
    statements.append(insert(audit_log).values(forged.__dict__))
    tamper(log, *statements)
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert result.problem == "its content does not match its hash (modified or forged)"


def test_appending_a_forged_entry_is_detected(log: AuditLog) -> None:
    last = _row(log, N)
    forged = replace(last, seq=N + 1, prev_hash=last.entry_hash, reason="forged")
    forged = replace(forged, entry_hash=compute_hash(forged, key=None))
    tamper(log, insert(audit_log).values(forged.__dict__))
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, N + 1)


def test_reordering_is_detected(log: AuditLog) -> None:
    tamper(
        log,
        update(audit_log).where(audit_log.c.seq == 3).values(seq=-3),
        update(audit_log).where(audit_log.c.seq == 6).values(seq=3),
        update(audit_log).where(audit_log.c.seq == -3).values(seq=6),
    )
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "does not link" in result.problem


def test_truncation_is_detected(log: AuditLog) -> None:
    tamper(log, delete(audit_log).where(audit_log.c.seq > 5))
    result = log.verify()
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 6, 5)
    assert result.problem == (
        f"missing: the log ends at entry 5 but the signed head records entry {N} (truncated)"
    )


def test_truncation_then_new_entries_is_detected(log: AuditLog) -> None:
    tamper(log, delete(audit_log).where(audit_log.c.seq > 5))
    for _ in range(N):  # the hub keeps working; the head must not follow the new chain
        log.append("olga", "ingest", "succeeded")
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, N)
    assert result.problem == "differs from the signed head (the log was rewritten)"


def test_emptying_the_log_is_detected(log: AuditLog) -> None:
    tamper(log, delete(audit_log))
    result = log.verify()
    assert (result.ok, result.first_bad_seq, result.entries) == (False, 1, 0)


def test_a_forged_head_is_detected(log: AuditLog) -> None:
    assert log.head is not None
    data = json.loads(log.head.path.read_text())
    data["seq"] = 3  # hide a later truncation
    log.head.path.write_text(json.dumps(data))
    result = log.verify()
    assert not result.ok and "bad MAC" in result.problem


def test_a_deleted_head_is_reported_and_can_be_reanchored(log: AuditLog) -> None:
    assert log.head is not None
    log.head.path.unlink()
    log.append("olga", "ingest", "succeeded")  # does not recreate the lost head
    result = log.verify()
    assert (
        not result.ok
        and result.problem == f"the log holds {N + 1} entries but its signed head is missing"
    )
    assert log.reanchor().ok
    assert log.verify().ok


def test_another_hub_key_does_not_verify(log: AuditLog, tmp_path) -> None:
    other = Hub.init(tmp_path / "other")
    foreign = AuditLog(log.engine, key=other.data_key("audit", create=True))
    result = foreign.verify()
    assert (result.ok, result.first_bad_seq) == (False, 1)


def test_appenders_share_one_chain(hub: Hub, log: AuditLog) -> None:
    second = AuditLog(hub)
    try:
        for i in range(6):
            (log if i % 2 else second).append("olga", "ingest", "succeeded", details={"count": i})
        assert [e.seq for e in second.entries(3)] == [N + 6, N + 5, N + 4]
        assert second.verify().ok and log.verify().ok
    finally:
        second.close()
