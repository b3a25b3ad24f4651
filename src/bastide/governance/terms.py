"""The vocabulary of governance: roles, actions and project states (pure)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"  # runs ingestion, storage, keys, users
    STEWARD = "steward"  # keeps the catalogue, reviews and approves projects
    RESEARCHER = "researcher"  # requests projects, works inside their perimeter
    AUDITOR = "auditor"  # reads and verifies the audit trail


class ProjectState(StrEnum):
    REQUESTED = "requested"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CLOSED = "closed"


TERMINAL_STATES = frozenset(
    {ProjectState.REJECTED, ProjectState.EXPIRED, ProjectState.REVOKED, ProjectState.CLOSED}
)
OPEN_STATES = frozenset(ProjectState) - TERMINAL_STATES


class Action(StrEnum):
    REQUEST_PROJECT = "request_project"
    REVIEW_PROJECT = "review_project"
    APPROVE_PROJECT = "approve_project"
    REJECT_PROJECT = "reject_project"
    ACTIVATE_PROJECT = "activate_project"
    REVOKE_PROJECT = "revoke_project"
    CLOSE_PROJECT = "close_project"
    MANAGE_MEMBERS = "manage_members"
    VIEW_PROJECT = "view_project"
    EXTRACT_PROJECT = "extract_project"
    QUERY_PROJECT = "query_project"
    RELEASE_OUTPUT = "release_output"
    REVIEW_RELEASE = "review_release"
    INGEST = "ingest"
    IMPORT_VOCABULARY = "import_vocabulary"
    MANAGE_KEYS = "manage_keys"
    MANAGE_USERS = "manage_users"
    LIST_USERS = "list_users"
    READ_AUDIT = "read_audit"
    CHECKPOINT_AUDIT = "checkpoint_audit"
    MANAGE_WITNESSES = "manage_witnesses"
    CATALOG_READ = "catalog_read"
    CATALOG_WRITE = "catalog_write"
