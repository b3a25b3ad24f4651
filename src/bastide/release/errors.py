"""Errors of the release workflow, one line each."""

from __future__ import annotations

from bastide.errors import BastideError


class ReleaseError(BastideError):
    """A release request or decision that cannot be carried out."""


class ReleaseNotFound(ReleaseError):
    """No release request with that number."""


class ReleaseRefused(ReleaseError):
    """A decision the request's state or checks do not allow."""
