"""The log against its checkpoints: what ``AuditLog.verify`` adds to the chain and head.

Every checkpoint of every witness lists the entry hashes it covers, so an entry missing
or changed since it was checkpointed is named exactly, even when the chain and the head
were recomputed with the hub's own key. The signed head may not lag behind the latest
checkpoint either: that head was replaced by an older one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bastide.audit.checkpoint import AuditCheckpointError, CheckpointWitness


@dataclass(frozen=True)
class WitnessReport:
    name: str
    checkpoints: int
    latest_seq: int  # 0 before the first checkpoint

    def __str__(self) -> str:
        if not self.checkpoints:
            return f"{self.name}: no checkpoint yet"
        return f"{self.name}: {self.checkpoints} checkpoint(s), latest at entry {self.latest_seq}"


@dataclass(frozen=True)
class Finding:
    """The first disagreement between the log and the checkpoints."""

    seq: int | None
    problem: str


@dataclass(frozen=True)
class _Expected:
    entry_hash: str
    witness: str
    n: int


def read_witnesses(
    hub_id: str, witnesses: Sequence[CheckpointWitness]
) -> tuple[list[WitnessReport], dict[int, _Expected], Finding | None]:
    """Every witness's verified checkpoints as seq -> expected hash (first witness wins
    in the message; two witnesses that disagree are a finding)."""
    reports: list[WitnessReport] = []
    expected: dict[int, _Expected] = {}
    for witness in witnesses:
        try:
            records = witness.checkpoints()
        except AuditCheckpointError as exc:
            return reports, expected, Finding(None, str(exc))
        for record in records:
            if record.hub != hub_id:
                return (
                    reports,
                    expected,
                    Finding(
                        None,
                        f"checkpoint {record.n} of witness {witness.name!r} is for hub "
                        f"{record.hub}, not this hub {hub_id} (another hub's checkpoints)",
                    ),
                )
            for offset, entry_hash in enumerate(record.hashes):
                seq = record.from_seq + offset
                seen = expected.setdefault(seq, _Expected(entry_hash, witness.name, record.n))
                if seen.entry_hash != entry_hash:
                    return (
                        reports,
                        expected,
                        Finding(
                            seq,
                            f"witnesses {seen.witness!r} and {witness.name!r} disagree about it "
                            "(a checkpoint store was rewritten)",
                        ),
                    )
        latest = records[-1].seq if records else 0
        reports.append(WitnessReport(witness.name, len(records), latest))
    return reports, expected, None


def compare(
    log_hashes: Iterable[tuple[int, str]],
    expected: dict[int, _Expected],
    head_seq: int | None,
) -> Finding | None:
    """The first entry missing or changed since a checkpoint, else a head that lags
    behind the latest checkpoint, else None."""
    count = 0
    for seq, entry_hash in log_hashes:
        count = seq
        want = expected.get(seq)
        if want is not None and want.entry_hash != entry_hash:
            return Finding(
                seq,
                f"differs from checkpoint {want.n} of witness {want.witness!r} "
                "(changed since it was checkpointed: the log was rewritten)",
            )
    if not expected:
        return None
    last_seq = max(expected)
    last = expected[last_seq]
    if count < last_seq:
        return Finding(
            count + 1,
            f"missing: the log ends at entry {count} but checkpoint {last.n} of witness "
            f"{last.witness!r} records entry {last_seq} (rolled back or truncated)",
        )
    if head_seq is not None and head_seq < last_seq:
        return Finding(
            None,
            f"the signed head records entry {head_seq} but checkpoint {last.n} of witness "
            f"{last.witness!r} records entry {last_seq}: the head was replaced by an older one",
        )
    return None
