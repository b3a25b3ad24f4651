"""Errors of disclosure control. Each is one line naming what is wrong."""

from __future__ import annotations

from bastide.errors import BastideError


class DisclosureError(BastideError):
    """Base of disclosure-control errors."""


class InvalidOutput(DisclosureError):
    """An output table that cannot be checked as declared (missing column, bad count...)."""


class ProfileError(DisclosureError):
    """A rule profile that is unknown or badly configured."""
