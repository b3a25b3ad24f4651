"""Errors of project extracts. Each is one line saying what was refused and what to do."""

from __future__ import annotations

from bastide.errors import BastideError


class ProjectDataError(BastideError):
    """Base of the errors about a project's extract and workspace data."""


class ExtractError(ProjectDataError):
    """The granted perimeter cannot be extracted from the warehouse as it stands."""


class ExtractMissing(ProjectDataError):
    """The project has no extract (yet): an operator runs ``bastide extract``."""


class ProjectEnded(ProjectDataError):
    """The project expired, was revoked or closed: its data is gone for good."""
