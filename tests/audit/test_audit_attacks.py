"""Every known attack on the audit trail, done for real (SQL after dropping the triggers,
files replaced, backups restored), first by someone without the hub's key, then by an
operator who holds the key file and recomputes the chain and the head afterwards.

The hub has two witnesses (an auditor's Ed25519 key file, an EC key on the auditor's own
SoftHSM2 token); entries 1-8 are checkpointed, 9-10 are not yet. Each attack must be
detected, naming the first entry or the checkpoint, except what a key holder can do after
the last checkpoint, which the last tests pin down as the documented limit."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update
from witnessing import (
    append_sample,
    key_file_witness,
    restore_rows,
    rewrite_as_key_holder,
    rows,
    tamper,
    token_witness,
)

from bastide.audit import AuditLog
from bastide.audit.entry import compute_hash
from bastide.audit.table import audit_log
from bastide.hub import Hub

N, CHECKPOINTED, OLD = 10, 8, 5
T = audit_log.c


@dataclass
class World:
    hub: Hub
    log: AuditLog
    tmp: Path
    head_at_old: str  # head.json as it was at entry OLD (a copy anyone could keep)
    rows_at_old: list  # the audit table at entry OLD (a database backup)


@pytest.fixture
def world(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    auditor = tmp_path / "auditor"
    key_file_witness(hub.root, auditor)
    token_witness(hub.root, auditor, monkeypatch)
    log = AuditLog(hub)
    assert log.head is not None
    head_at_old, rows_at_old = "", []
    for i in range(1, N + 1):
        append_sample(log, i)
        if i == OLD:
            head_at_old, rows_at_old = log.head.path.read_text(), rows(log)
        if i == CHECKPOINTED:
            assert len(log.checkpoint().made) == 2
    result = log.verify()
    assert result.ok and [(w.name, w.latest_seq) for w in result.witnesses] == [
        ("audrey", CHECKPOINTED),
        ("hsm", CHECKPOINTED),
    ]
    yield World(hub, log, tmp_path, head_at_old, rows_at_old)
    log.close()


def _edit(field: str, value: object) -> Callable[[World], None]:
    return lambda w: tamper(w.log, update(audit_log).where(T.seq == 5).values({field: value}))


def _delete(seq: int, renumber: bool = False) -> Callable[[World], None]:
    def attack(w: World) -> None:
        statements = [delete(audit_log).where(T.seq == seq)]
        if renumber:
            statements += [
                update(audit_log).where(T.seq == s).values(seq=s - 1) for s in range(seq + 1, N + 1)
            ]
        tamper(w.log, *statements)

    return attack


def _insert_at_4(w: World) -> None:
    """A forged entry linked properly and hashed with SHA-256 (no key)."""
    previous = rows(w.log)[2]
    forged = replace(previous, seq=4, actor="mallory", prev_hash=previous.entry_hash)
    forged = replace(forged, entry_hash=compute_hash(forged, key=None))
    shift = [update(audit_log).where(T.seq == s).values(seq=s + 100) for s in range(N, 3, -1)]
    shift += [update(audit_log).where(T.seq == s + 100).values(seq=s + 1) for s in range(N, 3, -1)]
    tamper(w.log, *shift, insert(audit_log).values(forged.__dict__))


def _append_forged(w: World) -> None:
    last = rows(w.log)[-1]
    forged = replace(last, seq=N + 1, prev_hash=last.entry_hash, reason="forged")
    tamper(w.log, insert(audit_log).values(replace(forged, entry_hash="a" * 64).__dict__))


def _swap_3_and_6(w: World) -> None:
    tamper(
        w.log,
        update(audit_log).where(T.seq == 3).values(seq=-3),
        update(audit_log).where(T.seq == 6).values(seq=3),
        update(audit_log).where(T.seq == -3).values(seq=6),
    )


def _truncate_then_work(w: World) -> None:
    tamper(w.log, delete(audit_log).where(T.seq > OLD))
    for _ in range(N):  # the hub keeps working
        w.log.append("olga", "ingest", "succeeded")


def _head(edit: Callable[[dict], None]) -> Callable[[World], None]:
    def attack(w: World) -> None:
        assert w.log.head is not None
        data = json.loads(w.log.head.path.read_text())
        edit(data)
        w.log.head.path.write_text(json.dumps(data))

    return attack


def _head_of_another_hub(w: World) -> None:
    other = AuditLog(Hub.init(w.tmp / "other"))
    other.append("olga", "ingest", "succeeded")
    assert other.head is not None and w.log.head is not None
    shutil.copy(other.head.path, w.log.head.path)
    other.close()


def _restore_old_head(w: World) -> None:
    assert w.log.head is not None
    w.log.head.path.write_text(w.head_at_old)


def _truncate_and_restore_old_head(w: World) -> None:
    tamper(w.log, delete(audit_log).where(T.seq > OLD))
    _restore_old_head(w)


def _roll_back_database_and_head(w: World) -> None:
    restore_rows(w.log, w.rows_at_old)
    _restore_old_head(w)


def _delete_head(w: World) -> None:
    assert w.log.head is not None
    w.log.head.path.unlink()


HASH_CHANGED = "does not match its hash"
LINK = "does not link"
CHECKPOINT = "differs from checkpoint 1 of witness 'audrey'"
ROLLED_BACK = f"but checkpoint 1 of witness 'audrey' records entry {CHECKPOINTED}"
OK = None  # nothing is hidden: verify passes and nothing of entries 1-8 changed

# name: (attack, (first bad seq, message) without the key, the same with the key)
ATTACKS: dict[str, tuple[Callable[[World], None], tuple, tuple | None]] = {
    **{
        f"edit {field}": (_edit(field, value), (5, HASH_CHANGED), (5, CHECKPOINT))
        for field, value in {
            "ts": "2020-01-01T00:00:00.000000Z",
            "actor": "mallory",
            "action": "read_audit",
            "project": "other-project",
            "object": "table:death",
            "outcome": "allowed",
            "reason": "nothing to see",
            "details": '{"row_count":1,"table":"person"}',
        }.items()
    },
    # a key holder's recomputation overwrites these two fields: nothing left to hide
    "edit prev_hash": (_edit("prev_hash", "0" * 64), (5, LINK), OK),
    "edit entry_hash": (_edit("entry_hash", "f" * 64), (5, HASH_CHANGED), OK),
    "renumber the last entry": (
        lambda w: tamper(w.log, update(audit_log).where(T.seq == N).values(seq=N + 5)),
        (N, "jumps from entry 9 to 15"),
        OK,
    ),
    "delete an entry": (_delete(4), (4, "jumps from entry 3 to 5"), (4, CHECKPOINT)),
    "delete and renumber": (_delete(4, renumber=True), (4, LINK), (4, CHECKPOINT)),
    "insert an entry": (_insert_at_4, (4, HASH_CHANGED), (4, CHECKPOINT)),
    "append a forged entry": (_append_forged, (N + 1, HASH_CHANGED), OK),
    "reorder entries": (_swap_3_and_6, (3, LINK), (3, CHECKPOINT)),
    "truncate": (
        lambda w: tamper(w.log, delete(audit_log).where(T.seq > OLD)),
        (OLD + 1, "(truncated)"),
        (OLD + 1, ROLLED_BACK),
    ),
    "truncate, then the hub keeps working": (
        _truncate_then_work,
        (N, "differs from the signed head"),
        (OLD + 1, CHECKPOINT),
    ),
    "empty the log": (
        lambda w: tamper(w.log, delete(audit_log)),
        (1, "(truncated)"),
        (1, ROLLED_BACK),
    ),
    "edit the head's seq": (_head(lambda d: d.update(seq=3)), (None, "bad MAC"), OK),
    "edit the head's MAC": (_head(lambda d: d.update(mac="0" * 64)), (None, "bad MAC"), OK),
    "delete the head": (_delete_head, (None, "signed head is missing"), OK),
    "a head from another hub": (_head_of_another_hub, (None, "belongs to hub"), OK),
    # the four that used to pass
    "an older head of this hub": (
        _restore_old_head,
        (None, f"signed head records entry {OLD} but checkpoint 1 of witness 'audrey'"),
        OK,
    ),
    "truncate back to an older head and restore it": (
        _truncate_and_restore_old_head,
        (OLD + 1, ROLLED_BACK),
        (OLD + 1, ROLLED_BACK),
    ),
    "roll back the database and the head together": (
        _roll_back_database_and_head,
        (OLD + 1, ROLLED_BACK),
        (OLD + 1, ROLLED_BACK),
    ),
}


def _check(result, expected: tuple | None, world: World, before: list) -> None:
    if expected is None:
        assert result.ok, str(result)
        assert [e.entry_hash for e in rows(world.log)[:CHECKPOINTED]] == [
            e.entry_hash for e in before[:CHECKPOINTED]
        ]
        return
    seq, fragment = expected
    assert not result.ok, "attack went unnoticed"
    assert fragment in result.problem, str(result)
    assert result.first_bad_seq == seq, str(result)
    assert str(result).startswith("TAMPERED: " + (f"entry {seq}: " if seq else ""))


@pytest.mark.pkcs11
@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_without_the_key_is_detected(world: World, name: str) -> None:
    attack, expected, _ = ATTACKS[name]
    before = rows(world.log)
    attack(world)
    _check(world.log.verify(), expected, world, before)


@pytest.mark.pkcs11
@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_by_a_key_holder_is_detected_by_the_checkpoints(world: World, name: str) -> None:
    attack, _, expected = ATTACKS[name]
    before = rows(world.log)
    attack(world)
    rewrite_as_key_holder(world.log)
    assert world.log._verify_chain().ok  # the chain alone no longer shows anything
    _check(world.log.verify(), expected, world, before)


@pytest.mark.pkcs11
def test_a_key_holder_can_rewrite_what_follows_the_last_checkpoint(world: World) -> None:
    """The documented limit: entries after the last checkpoint are the key holder's to
    change until the next checkpoint; from then on they are fixed."""
    tamper(world.log, update(audit_log).where(T.seq == N).values(reason="rewritten"))
    rewrite_as_key_holder(world.log)
    assert world.log.verify().ok
    world.log.checkpoint()
    tamper(world.log, update(audit_log).where(T.seq == N).values(reason="rewritten again"))
    rewrite_as_key_holder(world.log)
    result = world.log.verify()
    assert (result.ok, result.first_bad_seq) == (False, N)
    assert "differs from checkpoint 2 of witness 'audrey'" in result.problem


@pytest.mark.pkcs11
def test_a_checkpoint_of_a_tampered_log_is_refused(world: World) -> None:
    from bastide.audit.checkpoint import AuditCheckpointError

    _truncate_and_restore_old_head(world)
    with pytest.raises(AuditCheckpointError, match=f"entry {OLD + 1}: missing"):
        world.log.checkpoint()
