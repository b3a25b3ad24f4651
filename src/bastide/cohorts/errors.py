"""Errors of cohort definitions and of building cohorts."""

from __future__ import annotations

from bastide.errors import BastideError


class CohortError(BastideError):
    """A cohort that cannot be built (missing table, engine failure)."""


class CohortDefinitionError(CohortError):
    """A cohort definition that is not valid; the message names the field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        self.reason = message
        super().__init__(f"{field}: {message}" if field else message)

    def within(self, prefix: str) -> CohortDefinitionError:
        """The same error, its field named from an outer object (``inclusion[2].window``)."""
        field = prefix if not self.field else f"{prefix}.{self.field}"
        return CohortDefinitionError(self.reason, field)
