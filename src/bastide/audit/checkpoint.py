"""Checkpoints: the audit head countersigned by a witness the hub operator does not control.

A checkpoint records, for one hub (its id is inside the signature), the entry hashes of
the log from the witness's previous checkpoint up to entry ``seq``. The witness signs it
with an asymmetric key (verification needs only the public key registered with the hub)
and keeps it in a write-once place. Because each checkpoint lists every hash it covers,
``AuditLog.verify`` names the first entry missing or changed since it was checkpointed,
even when the whole chain was recomputed by someone holding the hub's audit key.

Checkpoints of one witness form their own chain (``n`` counts them, ``prev`` is the
SHA-256 of the previous record), so a record deleted from the middle of a store is seen.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Protocol

from bastide.audit.entry import canonical_json
from bastide.errors import BastideError

FORMAT = 1
FIRST_PREV = "0" * 64
_DOMAIN = b"bastide-audit-checkpoint\x00"
EntriesAfter = Callable[[int], list[tuple[int, str]]]


class AuditCheckpointError(BastideError):
    """A witness that cannot sign or store a checkpoint, or a store that does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    hub: str  # the hub's audit identity
    witness: str  # the witness's name in the hub's configuration
    n: int  # 1, 2, 3... per witness
    from_seq: int  # the first entry this checkpoint covers
    seq: int  # the last entry it covers
    hashes: tuple[str, ...]  # entry_hash of from_seq..seq
    ts: str  # when it was made (hub clock)
    prev: str  # SHA-256 of the witness's previous record, FIRST_PREV for n = 1
    key: str  # fingerprint of the public key that signs it
    sig: str = ""  # base64 signature over ``message()``

    @property
    def entry_hash(self) -> str:
        return self.hashes[-1]

    def message(self) -> bytes:
        """The bytes the witness signs: every field but the signature."""
        fields = asdict(self)
        fields.pop("sig")
        fields["v"] = FORMAT
        return _DOMAIN + canonical_json(fields).encode("utf-8")

    def to_line(self) -> str:
        fields = asdict(self)
        fields["v"] = FORMAT
        return canonical_json(fields)

    def digest(self) -> str:
        return hashlib.sha256(self.to_line().encode("utf-8")).hexdigest()

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        import json

        data = json.loads(line)
        if data.pop("v", None) != FORMAT:
            raise ValueError("unknown checkpoint format")
        data["hashes"] = tuple(str(h) for h in data["hashes"])
        return cls(**data)

    def signature(self) -> bytes:
        return base64.b64decode(self.sig, validate=True)


def fingerprint(public_key_der: bytes) -> str:
    return "sha256:" + hashlib.sha256(public_key_der).hexdigest()[:24]


class CheckpointWitness(Protocol):
    """Somewhere the audit head is countersigned and kept out of the operator's reach.

    ``countersign`` signs a checkpoint and keeps it write-once; ``checkpoints`` returns
    every checkpoint kept, each verified with the registered public key only (no secret),
    raising ``AuditCheckpointError`` naming the first record that does not verify.
    Implementations: ``bastide.audit.witnesses.SignedFileWitness`` with an Ed25519 key file
    (``Ed25519KeyFile``) or a key on a PKCS#11 token (``Pkcs11Signer``). RFC 3161 timestamp
    authorities and transparency logs fit this interface but are not implemented
    (docs/audit.md).
    """

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str:
        """Where the key and the checkpoints are, for people (no secret)."""
        ...

    def countersign(self, hub: str, ts: str, entries_after: EntriesAfter) -> Checkpoint | None:
        """Sign and keep a checkpoint of the entries after this witness's last one
        (``entries_after(seq)``: their ``(seq, entry_hash)`` in order); None when there is
        nothing new. Serialised with other processes countersigning with this witness."""
        ...

    def checkpoints(self) -> list[Checkpoint]: ...
