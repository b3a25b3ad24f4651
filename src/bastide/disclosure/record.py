"""The record of one output: what was checked, what was done, and why.

Like ACRO's, each output gets a status (``pass``: releasable as checked; ``review``: a
steward must look at the points raised; ``fail``: not releasable), every check with its
result and reason, the cells suppressed and why, the researcher's justification and
exception request, and the hashes of the original and released tables. A record never
holds the value of a cell: reasons name cells and thresholds only, so a record can be
released with its output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

Cell = Mapping[str, str | None]


class Status(StrEnum):
    PASS = "pass"
    REVIEW = "review"
    FAIL = "fail"


def worst(statuses: Iterable[Status]) -> Status:
    found = set(statuses)
    for status in (Status.FAIL, Status.REVIEW):
        if status in found:
            return status
    return Status.PASS


@dataclass(frozen=True)
class CheckResult:
    check: str
    result: Status
    reason: str
    cells: tuple[Cell, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "result": self.result.value,
            "reason": self.reason,
            "cells": [dict(c) for c in self.cells],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        return cls(
            str(data["check"]),
            Status(data["result"]),
            str(data["reason"]),
            tuple(dict(c) for c in data.get("cells", [])),
        )


@dataclass(frozen=True)
class Suppressed:
    """A suppressed cell (a row of the output: all its counts and derived values)."""

    cell: Cell
    reasons: tuple[str, ...]  # threshold, zero, dominance, p_percent, secondary, ...

    def to_dict(self) -> dict[str, Any]:
        return {"cell": dict(self.cell), "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suppressed:
        return cls(dict(data["cell"]), tuple(data["reasons"]))


@dataclass(frozen=True)
class Record:
    output: str
    kind: str
    population: str
    profile: Mapping[str, Any]
    status: Status
    checks: tuple[CheckResult, ...]
    suppressed: tuple[Suppressed, ...] = ()
    justification: str = ""
    exception: str = ""
    original_sha256: str = ""
    released_sha256: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)  # request and decision metadata

    def check(self, name: str) -> CheckResult:
        for result in self.checks:
            if result.check == name:
                return result
        raise KeyError(name)

    def with_(self, **changes: Any) -> Record:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "kind": self.kind,
            "population": self.population,
            "profile": dict(self.profile),
            "status": self.status.value,
            "checks": [c.to_dict() for c in self.checks],
            "suppressed": [s.to_dict() for s in self.suppressed],
            "justification": self.justification,
            "exception": self.exception,
            "original_sha256": self.original_sha256,
            "released_sha256": self.released_sha256,
            **dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        known = {
            "output",
            "kind",
            "population",
            "profile",
            "status",
            "checks",
            "suppressed",
            "justification",
            "exception",
            "original_sha256",
            "released_sha256",
        }
        return cls(
            output=str(data["output"]),
            kind=str(data["kind"]),
            population=str(data["population"]),
            profile=dict(data["profile"]),
            status=Status(data["status"]),
            checks=tuple(CheckResult.from_dict(c) for c in data["checks"]),
            suppressed=tuple(Suppressed.from_dict(s) for s in data.get("suppressed", [])),
            justification=str(data.get("justification", "")),
            exception=str(data.get("exception", "")),
            original_sha256=str(data.get("original_sha256", "")),
            released_sha256=str(data.get("released_sha256", "")),
            extra={k: v for k, v in data.items() if k not in known},
        )
