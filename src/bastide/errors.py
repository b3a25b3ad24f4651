"""Errors bastide reports to its users as one clear message (never a stack trace)."""


class BastideError(Exception):
    """Base of every expected, user-facing error."""
