"""What a data-quality check is and what it found. Pure definitions: no engine, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """Kahn's data-quality categories, as OHDSI's Data Quality Dashboard uses them."""

    CONFORMANCE = "conformance"
    COMPLETENESS = "completeness"
    PLAUSIBILITY = "plausibility"


class Status(StrEnum):
    FAIL = "fail"  # more failing rows than the threshold allows
    ERROR = "error"  # the check could not run (the reason is in the message)
    PASS = "pass"
    INFO = "info"  # informative measure, no threshold


@dataclass(frozen=True)
class Check:
    """One check on one table (and field): failing rows above ``threshold`` percent fail
    it; a ``threshold`` of None makes it informative."""

    name: str  # e.g. "is_required"
    category: Category
    table: str
    field: str | None
    description: str
    threshold: float | None

    @property
    def check_id(self) -> str:
        return ".".join(p for p in (self.name, self.table, self.field) if p)


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: Status
    violated: int | None  # rows (or persons) failing the check
    denominator: int | None  # rows (or persons) it looked at
    message: str = ""

    @property
    def pct_violated(self) -> float | None:
        if self.violated is None or self.denominator is None:
            return None
        return 100.0 * self.violated / self.denominator if self.denominator else 0.0

    @classmethod
    def measured(cls, check: Check, violated: int, denominator: int) -> CheckResult:
        """The result of a count: fail when the failing share exceeds the threshold."""
        pct = 100.0 * violated / denominator if denominator else 0.0
        if check.threshold is None:
            status = Status.INFO
        else:
            status = Status.FAIL if pct > check.threshold else Status.PASS
        return cls(check, status, violated, denominator)

    @classmethod
    def failed_to_run(cls, check: Check, reason: str) -> CheckResult:
        return cls(check, Status.ERROR, None, None, reason)

    def to_dict(self) -> dict[str, object]:
        return {
            "check_id": self.check.check_id,
            "name": self.check.name,
            "category": str(self.check.category),
            "table": self.check.table,
            "field": self.check.field,
            "description": self.check.description,
            "threshold": self.check.threshold,
            "status": str(self.status),
            "violated": self.violated,
            "denominator": self.denominator,
            "pct_violated": self.pct_violated,
            "message": self.message,
        }
