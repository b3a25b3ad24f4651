"""The audit trail: an append-only, hash-chained log of every action, keyed with the
hub's audit key and anchored by a signed head. Entries hold metadata only, never a
patient-level value (``details`` keys are allow-listed)."""

from bastide.audit.details import ALLOWED as ALLOWED_DETAILS
from bastide.audit.details import AuditDetailsError, validate_details
from bastide.audit.entry import AuditEntry, Outcome
from bastide.audit.head import AuditHeadError
from bastide.audit.log import AuditLog, VerifyResult

__all__ = [
    "ALLOWED_DETAILS",
    "AuditDetailsError",
    "AuditEntry",
    "AuditHeadError",
    "AuditLog",
    "Outcome",
    "VerifyResult",
    "validate_details",
]
