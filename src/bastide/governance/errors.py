"""Errors of governance. Each is one line naming what was refused and why."""

from __future__ import annotations

from bastide.errors import BastideError


class GovernanceError(BastideError):
    """Base of governance errors."""


class PermissionDenied(GovernanceError):
    """The policy refused an action; the message is the decision's reason."""

    def __init__(self, reason: str, rule: str = "") -> None:
        self.reason = reason
        self.rule = rule
        super().__init__(f"permission denied: {reason}")


class IllegalTransition(GovernanceError):
    """A project lifecycle step that its current state does not allow."""


class InvalidRequest(GovernanceError):
    """A project request, scope, user or catalogue entry that fails validation."""


class NotFound(GovernanceError):
    """A user, project or catalogue table that does not exist."""


class AuthenticationFailed(GovernanceError):
    """Wrong user name or password (the message never says which)."""


class MetadataStoreError(GovernanceError):
    """The metadata database cannot be opened or migrated."""


class MetadataUnreachable(MetadataStoreError):
    """The metadata database stopped answering (server down, connection lost)."""
