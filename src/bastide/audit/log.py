"""``AuditLog``: append entries to the hash chain, read them back, verify the chain."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bastide.audit.checkpoint import AuditCheckpointError, Checkpoint, CheckpointWitness
from bastide.audit.details import validate_details
from bastide.audit.entry import (
    GENESIS,
    AuditEntry,
    Outcome,
    audit_safe_reason,
    canonical_json,
    check_fields,
    compute_hash,
    format_ts,
)
from bastide.audit.head import AuditHeadError, Head, HeadFile
from bastide.audit.table import audit_log
from bastide.audit.witnessed import WitnessReport, compare, read_witnesses
from bastide.errors import BastideError

if TYPE_CHECKING:
    from bastide.governance.store import MetadataStore
    from bastide.hub import Hub

Clock = Callable[[], datetime]
Witnesses = Callable[[], Sequence[CheckpointWitness]]
_COLUMNS = [c.name for c in audit_log.columns]
CHECKPOINT_ACTION = "checkpoint_audit"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _subkey(key: bytes, purpose: bytes) -> bytes:
    """Separate keys for the chain and the head, both derived from the hub's audit key."""
    return hmac.new(key, b"bastide-audit/" + purpose, hashlib.sha256).digest()


@dataclass(frozen=True)
class CheckpointReport:
    seq: int  # the last entry checkpointed
    made: tuple[Checkpoint, ...]  # new checkpoints (a witness already at ``seq`` makes none)
    witnesses: tuple[str, ...]


@dataclass(frozen=True)
class CheckpointPolicy:
    """When the hub checkpoints by itself: after every ``every`` entries (0: never by
    count) and as soon as one of ``actions`` is recorded."""

    every: int = 0
    actions: frozenset[str] = frozenset()


def hub_id_of(key: bytes) -> str:
    """The hub's audit identity: public, stable, and the same for every copy of the hub."""
    return _subkey(key, b"hub-id").hex()[:32]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int  # entries checked and found sound
    first_bad_seq: int | None = None
    problem: str = ""
    head_seq: int | None = None
    keyed: bool = True
    witnesses: tuple[WitnessReport, ...] = ()  # the checkpoints checked

    def __str__(self) -> str:
        if self.ok:
            head = f", signed head at {self.head_seq}" if self.head_seq is not None else ""
            checked = "; ".join(str(w) for w in self.witnesses)
            return f"OK: {self.entries} entries, chain intact{head}" + (
                f"; checkpoints {checked}" if checked else ""
            )
        where = f"entry {self.first_bad_seq}: " if self.first_bad_seq is not None else ""
        return f"TAMPERED: {where}{self.problem}"


class AuditLog:
    """The append-only, hash-chained audit log in the metadata store.

    ``AuditLog(hub)`` opens the hub's metadata store, keys the chain with the hub's
    ``audit`` data key and keeps the signed head under ``<hub>/audit/``. Over a bare
    engine or store the chain is plain SHA-256 and there is no head, unless ``key`` and
    ``head_path`` are given.
    """

    def __init__(
        self,
        hub_or_engine: Hub | Engine | MetadataStore,
        *,
        key: bytes | None = None,
        head_path: Path | None = None,
        clock: Clock | None = None,
        witnesses: Witnesses | None = None,
        policy: CheckpointPolicy | None = None,
    ) -> None:
        from bastide.governance.store import MetadataStore  # governance imports audit
        from bastide.hub import Hub

        self._owned_store: MetadataStore | None = None
        if isinstance(hub_or_engine, Hub):
            self._owned_store = MetadataStore.for_hub(hub_or_engine)
            store = self._owned_store
            key = key if key is not None else hub_or_engine.data_key("audit", create=True)
            head_path = head_path or hub_or_engine.root / "audit" / "head.json"
            if witnesses is None:
                witnesses, policy = _hub_witnesses(hub_or_engine)
        elif isinstance(hub_or_engine, MetadataStore):
            store = hub_or_engine
        else:
            self._owned_store = MetadataStore(hub_or_engine)
            store = self._owned_store
        self.engine: Engine = store.engine
        self._chain_key = _subkey(key, b"chain") if key is not None else None
        self.hub_id = hub_id_of(key) if key is not None else None
        self.head = (
            HeadFile(head_path, _subkey(key, b"head"), hub_id_of(key))
            if key is not None and head_path is not None
            else None
        )
        self._clock = clock or _utcnow
        self._witnesses: Witnesses = witnesses or tuple
        self.policy = policy or CheckpointPolicy()
        self._sensitive_pending = False
        self._checkpointing = False

    @classmethod
    def for_hub(cls, hub: Hub, store: MetadataStore, clock: Clock | None = None) -> AuditLog:
        """The hub's keyed log over an already open store (shared with the caller)."""
        witnesses, policy = _hub_witnesses(hub)
        return cls(
            store,
            key=hub.data_key("audit", create=True),
            head_path=hub.root / "audit" / "head.json",
            clock=clock,
            witnesses=witnesses,
            policy=policy,
        )

    @property
    def keyed(self) -> bool:
        return self._chain_key is not None

    def close(self) -> None:
        if self._owned_store is not None:
            self._owned_store.close()

    # -- writing ----------------------------------------------------------------------
    def append(
        self,
        actor: str,
        action: str,
        outcome: Outcome | str,
        project: str | None = None,
        obj: str | None = None,
        reason: str = "",
        details: Mapping[str, Any] | None = None,
        *,
        connection: Connection | None = None,
    ) -> AuditEntry:
        """Append one entry. With ``connection`` it joins the caller's transaction (so an
        action and its entry commit together) and the caller calls ``sync_head()`` after
        committing; otherwise it commits on its own and moves the head."""
        outcome = str(outcome)
        check_fields(actor, action, outcome, project, obj, reason)
        fields = {
            "actor": actor,
            "action": action,
            "outcome": outcome,
            "project": project,
            "object": obj,
            "reason": reason,
            "details": canonical_json(validate_details(details)),
        }
        if action in self.policy.actions:
            self._sensitive_pending = True  # checkpointed by the next sync_head
        if connection is not None:
            return self._insert(connection, fields)
        for attempt in range(5):  # another writer may take the same sequence number
            try:
                with self.engine.begin() as conn:
                    entry = self._insert(conn, fields)
                break
            except (IntegrityError, OperationalError):
                if attempt == 4:
                    raise
        self.sync_head()
        return entry

    def _insert(self, conn: Connection, fields: dict[str, Any]) -> AuditEntry:
        if conn.dialect.name == "postgresql":  # one appender at a time, readers unaffected
            conn.execute(text("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE"))
        last = conn.execute(
            select(audit_log.c.seq, audit_log.c.entry_hash).order_by(audit_log.c.seq.desc())
        ).first()
        seq, prev = (last.seq + 1, last.entry_hash) if last else (1, GENESIS)
        entry = AuditEntry(
            seq=seq, ts=format_ts(self._clock()), prev_hash=prev, entry_hash="", **fields
        )
        entry = replace(entry, entry_hash=compute_hash(entry, self._chain_key))
        conn.execute(insert(audit_log).values({c: getattr(entry, c) for c in _COLUMNS}))
        return entry

    def sync_head(self) -> None:
        """Move the signed head to the latest entry, if the log still holds the current
        head's entry unchanged (so a truncated or rewritten log never gets re-anchored)."""
        if self.head is None:
            return
        moved = self._move_head()
        every = self.policy.every
        due = self._sensitive_pending or (
            moved is not None and every > 0 and moved[1] // every > moved[0] // every
        )
        if due and not self._checkpointing:
            self._auto_checkpoint()

    def _move_head(self) -> tuple[int, int] | None:
        """(from, to) when the head moved forward."""
        assert self.head is not None
        with self.head.locked():
            try:
                current = self.head.read()
            except AuditHeadError:
                return None  # leave the evidence for verify
            with self.engine.connect() as conn:
                latest = self._last(conn)
                if latest is None or (current is not None and latest.seq <= current.seq):
                    return None
                if current is None:
                    if latest.seq != 1:
                        return None  # head lost with entries present: verify reports it
                elif self._hash_at(conn, current.seq) != current.entry_hash:
                    return None
            self.head.write(Head(latest.seq, latest.entry_hash))
        return (current.seq if current else 0), latest.seq

    # -- checkpoints ------------------------------------------------------------------
    def checkpoint(self) -> CheckpointReport:
        """Verify the log, then have every configured witness countersign the entries
        since its last checkpoint. Refused when the log does not verify."""
        if self.hub_id is None:
            raise AuditCheckpointError("an audit log without the hub's key has no checkpoints")
        witnesses = self._witnesses()
        if not witnesses:
            raise AuditCheckpointError(
                "no checkpoint witness is configured: an auditor adds one with "
                "'bastide audit witness add'"
            )
        result = self.verify()
        if not result.ok:
            raise AuditCheckpointError(f"refusing to checkpoint a log that fails: {result}")
        ts = format_ts(self._clock())

        def entries_after(seq: int) -> list[tuple[int, str]]:
            return list(self._hashes(after=seq, upto=result.entries))

        made = [w.countersign(self.hub_id, ts, entries_after) for w in witnesses]
        return CheckpointReport(
            result.entries, tuple(c for c in made if c), tuple(w.name for w in witnesses)
        )

    def _auto_checkpoint(self) -> None:
        """A checkpoint the hub makes by itself, recorded in the log (failures too: the
        action that called for it is already committed)."""
        self._sensitive_pending, self._checkpointing = False, True
        try:
            if not self._witnesses():
                return
            try:
                report = self.checkpoint()
            except (BastideError, OSError) as exc:
                self.append(
                    "system",
                    CHECKPOINT_ACTION,
                    "failed",
                    reason=audit_safe_reason(str(exc)),
                    details={"error": type(exc).__name__},
                )
                return
            self.append(
                "system",
                CHECKPOINT_ACTION,
                "succeeded",
                reason="checkpoint countersigned by the hub's witnesses",
                details={"checkpoint_seq": report.seq, "witnesses": list(report.witnesses)},
            )
        finally:
            self._checkpointing = False

    def reanchor(self) -> VerifyResult:
        """Write a fresh head at the latest entry after the whole chain verifies (for an
        operator to call once a lost head file has been investigated)."""
        if self.head is None:
            raise AuditHeadError("this audit log has no signed head (no hub key)")
        result = self._verify_chain()
        if result.ok:
            with self.head.locked(), self.engine.connect() as conn:
                latest = self._last(conn)
                if latest is not None:
                    self.head.write(Head(latest.seq, latest.entry_hash))
        return result

    # -- reading ----------------------------------------------------------------------
    @staticmethod
    def _last(conn: Connection) -> Any:
        return conn.execute(
            select(audit_log.c.seq, audit_log.c.entry_hash).order_by(audit_log.c.seq.desc())
        ).first()

    @staticmethod
    def _hash_at(conn: Connection, seq: int) -> str | None:
        return conn.execute(
            select(audit_log.c.entry_hash).where(audit_log.c.seq == seq)
        ).scalar_one_or_none()

    def entries(self, limit: int | None = None, *, newest_first: bool = True) -> list[AuditEntry]:
        order = audit_log.c.seq.desc() if newest_first else audit_log.c.seq.asc()
        query = select(audit_log).order_by(order)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [AuditEntry(**row._mapping) for row in conn.execute(query)]

    # -- verifying --------------------------------------------------------------------
    def verify(self) -> VerifyResult:
        """Recompute the chain from entry 1; report OK or the first bad entry and why."""
        head: Head | None = None
        if self.head is not None:
            try:
                head = self.head.read()
            except AuditHeadError as exc:
                return VerifyResult(False, 0, None, str(exc), keyed=self.keyed)
        result = self._verify_chain(head, check_head=self.head is not None)
        witnesses = self._witnesses() if self.hub_id is not None else ()
        if not result.ok or not witnesses or self.hub_id is None:
            return result
        reports, expected, finding = read_witnesses(self.hub_id, witnesses)
        if finding is None:
            finding = compare(self._hashes(), expected, head.seq if head else None)
        if finding is not None:
            return replace(
                result,
                ok=False,
                first_bad_seq=finding.seq,
                problem=finding.problem,
                witnesses=tuple(reports),
            )
        return replace(result, witnesses=tuple(reports))

    def _hashes(self, after: int = 0, upto: int | None = None) -> Iterator[tuple[int, str]]:
        query = select(audit_log.c.seq, audit_log.c.entry_hash).where(audit_log.c.seq > after)
        if upto is not None:
            query = query.where(audit_log.c.seq <= upto)
        with self.engine.connect() as conn:
            rows = conn.execution_options(yield_per=5000).execute(query.order_by(audit_log.c.seq))
            for row in rows:
                yield row.seq, row.entry_hash

    def _verify_chain(self, head: Head | None = None, check_head: bool = False) -> VerifyResult:
        def bad(seq: int | None, problem: str, checked: int) -> VerifyResult:
            return VerifyResult(
                False, checked, seq, problem, head.seq if head else None, self.keyed
            )

        prev, expected, hash_at_head = GENESIS, 1, None
        query = select(audit_log).order_by(audit_log.c.seq)
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=2000).execute(query):
                entry = AuditEntry(**row._mapping)
                if entry.seq != expected:
                    return bad(
                        expected,
                        f"missing: the log jumps from entry {expected - 1} to {entry.seq} "
                        "(deleted)",
                        expected - 1,
                    )
                if entry.prev_hash != prev:
                    return bad(
                        entry.seq,
                        "does not link to the entry before it (an entry was deleted, "
                        "inserted or moved, or prev_hash was edited)",
                        expected - 1,
                    )
                if not hmac.compare_digest(compute_hash(entry, self._chain_key), entry.entry_hash):
                    return bad(
                        entry.seq,
                        "its content does not match its hash (modified or forged)",
                        expected - 1,
                    )
                if head is not None and entry.seq == head.seq:
                    hash_at_head = entry.entry_hash
                prev, expected = entry.entry_hash, expected + 1
        count = expected - 1
        if check_head and head is None and count > 0:
            return bad(None, f"the log holds {count} entries but its signed head is missing", count)
        if head is not None:
            if count < head.seq:
                return bad(
                    count + 1,
                    f"missing: the log ends at entry {count} but the signed head records "
                    f"entry {head.seq} (truncated)",
                    count,
                )
            if hash_at_head != head.entry_hash:
                return bad(head.seq, "differs from the signed head (the log was rewritten)", count)
        return VerifyResult(True, count, head_seq=head.seq if head else None, keyed=self.keyed)


def _hub_witnesses(hub: Hub) -> tuple[Witnesses, CheckpointPolicy]:
    """The hub's witnesses (read afresh each time: ``audit witness add`` changes them) and
    when it checkpoints by itself (``[audit]`` of bastide.toml)."""
    from bastide.audit.witnesses import configured_witnesses
    from bastide.config import ConfigError, load_settings

    audit = hub.settings.values.get("audit", {})
    actions = audit.get("checkpoint_actions", ())
    if isinstance(actions, str):  # from BASTIDE_AUDIT__CHECKPOINT_ACTIONS
        actions = [a.strip() for a in actions.split(",") if a.strip()]
    every = audit.get("checkpoint_every", 0)
    if not isinstance(every, int) or isinstance(every, bool) or every < 0:
        raise ConfigError(f"[audit] checkpoint_every must be a whole number >= 0, not {every!r}")
    root = hub.root

    def witnesses() -> Sequence[CheckpointWitness]:
        return configured_witnesses(load_settings(root).values.get("audit", {}), root)

    return witnesses, CheckpointPolicy(every, frozenset(str(a) for a in actions))
