"""Errors of studies."""

from __future__ import annotations

from bastide.errors import BastideError


class StudyError(BastideError):
    """A study that cannot be read or run; the message names the study field or step."""
