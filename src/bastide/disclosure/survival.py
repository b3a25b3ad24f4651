"""Survival tables: merge time points into intervals until every count may be released.

Within each stratum, rows are taken in time order and gathered into an interval until the
interval's events and censored counts are each zero (when the profile allows zeros) or at
least the threshold, and its count at risk (at its start) reaches the threshold. A last
interval that never gets there is merged into the one before (and so on backwards); a
stratum with no such interval is suppressed whole. So each step of the released curve
stands for at least a threshold's worth of events, and consecutive counts at risk differ
by events and censorings that are each releasable.

The survival estimate is recomputed from the released counts (product over intervals of
``1 - events / at_risk``, as ACRO's rounded survival function), so no value computed from
the unmerged, unrounded counts leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bastide.disclosure.output import Output
from bastide.disclosure.profiles import Profile, Zeros


@dataclass
class Interval:
    start: Any
    end: Any
    at_risk: int
    events: int = 0
    censored: int = 0
    rows: list[int] = field(default_factory=list)

    def absorb(self, other: Interval) -> None:
        self.end = other.end
        self.events += other.events
        self.censored += other.censored
        self.rows += other.rows


@dataclass(frozen=True)
class Stratum:
    coords: tuple[str | None, ...]  # strata values (no time)
    intervals: tuple[Interval, ...]  # empty: the stratum is suppressed
    rows: tuple[int, ...]


def _releasable(count: int, profile: Profile) -> bool:
    if count == 0:
        return profile.zeros is not Zeros.SUPPRESS
    return not profile.too_small(count)


def _safe(interval: Interval, profile: Profile) -> bool:
    return (
        interval.at_risk > 0
        and not profile.too_small(interval.at_risk)
        and _releasable(interval.events, profile)
        and _releasable(interval.censored, profile)
    )


def aggregate(output: Output, profile: Profile) -> list[Stratum]:
    """The strata of a survival output with their releasable intervals."""
    assert output.time is not None
    times = output.column(output.time)
    at_risk = output.column("at_risk")
    events = output.column("events")
    censored = output.column("censored") if "censored" in output.counts else None
    by_stratum: dict[tuple[str | None, ...], list[int]] = {}
    for row in range(output.num_rows):
        by_stratum.setdefault(output.coordinates(row)[:-1], []).append(row)
    strata = []
    for coords, rows in by_stratum.items():
        rows = sorted(rows, key=lambda r: times[r])
        done: list[Interval] = []
        current: Interval | None = None
        for r in rows:
            step = Interval(
                times[r],
                times[r],
                int(at_risk[r]),
                int(events[r]),
                int(censored[r]) if censored is not None else 0,
                [r],
            )
            if current is None:
                current = step
            else:
                current.absorb(step)
            if _safe(current, profile):
                done.append(current)
                current = None
        if current is not None and done:
            done[-1].absorb(current)
            while len(done) > 1 and not _safe(done[-1], profile):
                last = done.pop()
                done[-1].absorb(last)
            if not _safe(done[-1], profile):
                done = []
        elif current is not None:
            done = []
        strata.append(Stratum(coords, tuple(done), tuple(rows)))
    return strata
