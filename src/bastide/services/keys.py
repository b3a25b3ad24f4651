"""Key custody as governed actions: the key status, master-key rotation and the
crypto-shredding of a project (``manage_keys``, operators only).

Each is decided and recorded before the key provider is touched, and its outcome is
recorded after; a key operation also has the audit log countersigned by the hub's
witnesses (``[audit] checkpoint_actions``).
"""

from __future__ import annotations

from bastide.audit import Outcome
from bastide.audit.entry import audit_safe_reason
from bastide.errors import BastideError
from bastide.governance.governed import GovernedService
from bastide.governance.identity import Identity
from bastide.governance.terms import Action
from bastide.keys.keyring import KeyStatus, RotationReport

MASTER = "keys:master"


class NoProjectKey(BastideError):
    """The project has no data key to destroy (never extracted, or already shredded)."""


def key_status(gov: GovernedService, actor: Identity) -> KeyStatus:
    """The key provider, the master key id and the data keys it wraps."""
    gov.authorize(actor, Action.MANAGE_KEYS, obj="keys:status")
    return gov.hub.keyring.status()


def rotate_master_key(gov: GovernedService, actor: Identity) -> RotationReport:
    """A new master key; every data key re-wrapped under it; the old one destroyed."""
    gov.authorize(actor, Action.MANAGE_KEYS, obj=MASTER)
    try:
        report = gov.hub.keyring.rotate()
    except BastideError as exc:
        _failed(gov, actor, MASTER, exc)
        raise
    reason = f"{report.rewrapped} data key(s) re-wrapped under master key {report.new_master}"
    gov.audit.append(actor.name, Action.MANAGE_KEYS, Outcome.SUCCEEDED, None, MASTER, reason)
    return report


def shred_project_key(gov: GovernedService, actor: Identity, project: str) -> None:
    """Destroy a project's data key: its extracts can never be read again."""
    scope = f"project:{project}"
    # By role and key scope, not by project record: a key may outlive its project's row.
    gov.authorize(actor, Action.MANAGE_KEYS, obj=scope)
    ring = gov.hub.keyring
    try:
        if ring.store.read(scope) is None:
            if ring.store.tombstone(scope) is not None:
                raise NoProjectKey(f"project {project!r} is already shredded")
            raise NoProjectKey(f"project {project!r} has no data key in this hub")
        ring.destroy(scope, reason="bastide keys shred")
    except BastideError as exc:
        _failed(gov, actor, scope, exc)
        raise
    reason = "data key destroyed: the project's data can never be read again"
    gov.audit.append(actor.name, Action.MANAGE_KEYS, Outcome.SUCCEEDED, None, scope, reason)


def _failed(gov: GovernedService, actor: Identity, obj: str, exc: Exception) -> None:
    gov.audit.append(
        actor.name,
        Action.MANAGE_KEYS,
        Outcome.FAILED,
        None,
        obj,
        audit_safe_reason(str(exc)),
        {"error": type(exc).__name__},
    )
