"""What a project has released, as the differencing checks need it.

Every cell of every released output is kept as a ``Fact``: its population, column and key
(its categories), its true value and whether it was published. Two checks use them:

- **linked tables** (exact): the cells of earlier releases of the same population and
  column join the new table's grid, so that an earlier margin acts as a margin of the new
  table (``F = 70`` released before makes a hidden ``F, non-smoker`` the difference of
  ``70`` and the published ``F, smoker``), and earlier hidden cells must stay hidden.
  Secondary suppression then protects every hidden cell, old and new, at once.
- **nested populations** (``nested_differences``): the same cell released for two
  populations (or two count columns) whose counts differ by less than the threshold. The
  hub cannot know whether one population contains the other (a cohort and the same
  cohort minus one subgroup); if it does, the difference is a group too small to
  release, so the pair is flagged for review (or failure, as the profile says).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bastide.disclosure.grid import Key
from bastide.disclosure.profiles import Profile


@dataclass(frozen=True)
class Fact:
    release: int  # the release request it belongs to (0: the output being checked)
    output: str
    population: str
    column: str
    key: Key
    value: float
    published: bool
    count: bool = True  # a count (nested differences apply), not a summed magnitude


@dataclass(frozen=True)
class Difference:
    """A published cell of the new output and an earlier one too close to it."""

    key: Key
    column: str
    release: int
    earlier_output: str
    earlier_population: str
    earlier_column: str
    same_population: bool


def nested_differences(
    new: Iterable[Fact], history: Iterable[Fact], profile: Profile
) -> list[Difference]:
    """Published counts of the new output that differ from an earlier published count of
    the same cell by more than zero and less than the threshold."""
    earlier: dict[Key, list[Fact]] = defaultdict(list)
    for fact in history:
        if fact.published and fact.count:
            earlier[fact.key].append(fact)
    found = []
    for fact in new:
        if not (fact.published and fact.count):
            continue
        for old in earlier.get(fact.key, ()):
            gap = abs(fact.value - old.value)
            if 0 < gap < profile.threshold:
                found.append(
                    Difference(
                        fact.key,
                        fact.column,
                        old.release,
                        old.output,
                        old.population,
                        old.column,
                        old.population == fact.population and old.column == fact.column,
                    )
                )
    return found


def conflicts(new: Sequence[Fact], history: Iterable[Fact]) -> list[Fact]:
    """Earlier facts of the same population, column and cell with another value: the data
    changed, or two different populations were released under one name."""
    mine = {(f.population, f.column, f.key): f.value for f in new}
    return [
        old
        for old in history
        if (v := mine.get((old.population, old.column, old.key))) is not None and v != old.value
    ]
