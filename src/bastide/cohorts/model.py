"""The cohort model: immutable, validated definitions. Pure: no engine, file or network.

A cohort is a set of periods ``(person_id, cohort_start_date, cohort_end_date)``:

1. **entry** — events of some domains whose concept is in a concept set; each person's
   first such event ever (``first``) or every one (``all``); the event date is the
   *index date*;
2. **observation** — the index date must lie in an observation period, with at least
   ``prior_days`` of observation before it and ``post_days`` after it;
3. **inclusion** — criteria evaluated on each entry, in order (the attrition table
   counts what each one leaves): events in a window of days around the index date,
   age at index, sex, calendar dates of the index;
4. **exit** — the end date: a fixed number of days after the index, the end of the
   observation period, or the end of continuous exposure to a drug (eras with a gap
   allowed between exposures); never after the observation period ends, and cut at
   death and at censoring events when asked;
5. periods of one person that overlap (or lie within ``collapse_days`` of each other) are
   merged.

Concept sets name codes of a vocabulary (``CIM10 K92``, ``ATC M01AH01``) or OMOP concept
ids, by default with everything below them in CONCEPT_ANCESTOR; an event matches when
its source concept or its concept is in the set.

The reference interpreter (`bastide.cohorts.interpreter`) gives the exact meaning; the
compiler (`bastide.cohorts.compiler`) translates it for the engines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, TypeAlias

from bastide.cohorts.domains import DOMAINS
from bastide.cohorts.errors import CohortDefinitionError

# Codes of the French vocabularies, as bastide stores them (CIM-10 without dots).
_TEXT_CODE = re.compile(r"[0-9A-Z+\-]{1,8}")
_NUMERIC_CODE = re.compile(r"[0-9]{13}")
LOCAL_VOCABULARIES: dict[str, re.Pattern[str]] = {
    "CIM10": _TEXT_CODE,
    "ATC": _TEXT_CODE,
    "CCAM": _TEXT_CODE,
    "CSARR": _TEXT_CODE,
    "CIP13": _NUMERIC_CODE,
    "UCD": _NUMERIC_CODE,
}
_VOCABULARY_ID = re.compile(r"[A-Za-z][A-Za-z0-9 _.\-]{0,19}")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")
MAX_CODE_LENGTH = 50  # OMOP concept_code is varchar(50)

SEX_CONCEPTS: dict[str, int] = {"male": 8507, "female": 8532}
Occurrence: TypeAlias = Literal["first", "all"]


def _fail(message: str, field_: str | None = None) -> CohortDefinitionError:
    return CohortDefinitionError(message, field_)


def _check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"must be an integer, not {value!r}", name)
    if minimum is not None and value < minimum:
        raise _fail(f"must be at least {minimum}, not {value}", name)
    return value


def _check_name(value: object, name: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise _fail(
            f"{value!r} is not a valid name (1-64 letters, digits, '_', '.', '-')",
            name,
        )
    return value


def _check_label(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _fail(f"{value!r} is not a label (1-200 characters of text)", name)
    return value


def normalise_code(vocabulary: str, code: str) -> str:
    """A code as the warehouse stores it: trimmed, upper case, without dots for the
    French vocabularies (``k92.2`` → ``K922``); other vocabularies keep their codes."""
    code = code.strip()
    if vocabulary in LOCAL_VOCABULARIES:
        code = code.upper().replace(".", "").replace(" ", "")
    return code


# -- concept sets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One item of a concept set: a code of a vocabulary, or an OMOP concept id."""

    vocabulary: str | None = None
    code: str | None = None
    concept_id: int | None = None
    descendants: bool = True  # and everything below it in CONCEPT_ANCESTOR
    exclude: bool = False  # remove these concepts from the set

    def __post_init__(self) -> None:
        if self.concept_id is not None:
            if self.vocabulary is not None or self.code is not None:
                raise _fail("give either a concept_id or a vocabulary and a code, not both")
            _check_int(self.concept_id, "concept_id", minimum=1)
        else:
            if self.vocabulary is None or self.code is None:
                raise _fail("needs a concept_id, or a vocabulary and a code")
            if not isinstance(self.vocabulary, str) or not _VOCABULARY_ID.fullmatch(
                self.vocabulary
            ):
                raise _fail(f"{self.vocabulary!r} is not a vocabulary id", "vocabulary")
            if not isinstance(self.code, str):
                raise _fail(f"must be text, not {self.code!r}", "code")
            code = normalise_code(self.vocabulary, self.code)
            pattern = LOCAL_VOCABULARIES.get(self.vocabulary)
            if pattern is not None and not pattern.fullmatch(code):
                raise _fail(f"{self.code!r} is not a valid {self.vocabulary} code", "code")
            if not code or len(code) > MAX_CODE_LENGTH:
                raise _fail(f"{self.code!r} is not a concept code", "code")
            object.__setattr__(self, "code", code)
        for flag in ("descendants", "exclude"):
            if not isinstance(getattr(self, flag), bool):
                raise _fail("must be true or false", flag)

    def __str__(self) -> str:
        what = f"concept {self.concept_id}" if self.concept_id else f"{self.vocabulary} {self.code}"
        return ("not " if self.exclude else "") + what + (" and below" if self.descendants else "")


@dataclass(frozen=True)
class ConceptSet:
    """Named concepts: the included ones (with their descendants) minus the excluded."""

    name: str
    concepts: tuple[Concept, ...]

    def __post_init__(self) -> None:
        _check_name(self.name, "name")
        object.__setattr__(self, "concepts", tuple(self.concepts))
        for i, c in enumerate(self.concepts):
            if not isinstance(c, Concept):
                raise _fail(f"expected a Concept, not {c!r}", f"concepts[{i}]")
        if not any(not c.exclude for c in self.concepts):
            raise _fail("needs at least one concept that is not excluded", "concepts")


# -- events and windows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Events:
    """Events of one domain, restricted to a concept set (``None``: any event)."""

    domain: str
    concept_set: str | None = None
    type_concept_ids: tuple[int, ...] = ()  # keep only these record types
    value_min: float | None = None  # measurement / observation value_as_number range
    value_max: float | None = None

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise _fail(
                f"unknown domain {self.domain!r} (expected one of {', '.join(DOMAINS)})",
                "domain",
            )
        if self.concept_set is not None:
            _check_name(self.concept_set, "concept_set")
        object.__setattr__(self, "type_concept_ids", tuple(self.type_concept_ids))
        for i, t in enumerate(self.type_concept_ids):
            _check_int(t, f"type_concept_ids[{i}]", minimum=0)
        if self.type_concept_ids and DOMAINS[self.domain].type_concept is None:
            raise _fail(f"{self.domain} has no record type", "type_concept_ids")
        for bound in ("value_min", "value_max"):
            value = getattr(self, bound)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(f"must be a number, not {value!r}", bound)
            if DOMAINS[self.domain].value is None:
                raise _fail(f"{self.domain} has no numeric value", bound)
            object.__setattr__(self, bound, float(value))
        if (
            self.value_min is not None
            and self.value_max is not None
            and self.value_min > self.value_max
        ):
            raise _fail(f"value_min ({self.value_min}) is above value_max ({self.value_max})")


@dataclass(frozen=True)
class Window:
    """Days relative to the index date, both ends included; ``None`` is unbounded."""

    start: int | None = None
    end: int | None = None

    def __post_init__(self) -> None:
        for bound in ("start", "end"):
            if getattr(self, bound) is not None:
                _check_int(getattr(self, bound), bound)
        if self.start is not None and self.end is not None and self.start > self.end:
            raise _fail(f"start ({self.start}) is after end ({self.end})")

    def contains(self, offset: int) -> bool:
        return (self.start is None or offset >= self.start) and (
            self.end is None or offset <= self.end
        )

    def __str__(self) -> str:
        start = "-inf" if self.start is None else str(self.start)
        end = "+inf" if self.end is None else str(self.end)
        return f"[{start}, {end}] days"


@dataclass(frozen=True)
class Count:
    """How many matching events are required: ``at_least`` (default 1, or 0 when only
    ``at_most`` is given) to ``at_most`` (default unbounded)."""

    at_least: int | None = None
    at_most: int | None = None

    def __post_init__(self) -> None:
        if self.at_least is None:
            object.__setattr__(self, "at_least", 1 if self.at_most is None else 0)
        _check_int(self.at_least, "at_least", minimum=0)
        if self.at_most is not None:
            _check_int(self.at_most, "at_most", minimum=0)
            assert self.at_least is not None
            if self.at_most < self.at_least:
                raise _fail(f"at_most ({self.at_most}) is below at_least ({self.at_least})")

    def accepts(self, n: int) -> bool:
        assert self.at_least is not None
        return n >= self.at_least and (self.at_most is None or n <= self.at_most)

    def __str__(self) -> str:
        if self.at_most == 0:
            return "no"
        if self.at_most is None:
            return f"at least {self.at_least}"
        if self.at_most == self.at_least:
            return f"exactly {self.at_most}"
        return f"{self.at_least} to {self.at_most}"


# -- inclusion criteria ------------------------------------------------------------------------


@dataclass(frozen=True)
class EventCriterion:
    """``count`` events in ``window`` around the index date (by default only events in
    the index's observation period are counted)."""

    name: str
    events: Events
    window: Window = field(default_factory=Window)
    count: Count = field(default_factory=Count)
    ignore_observation_period: bool = False

    def __post_init__(self) -> None:
        _check_label(self.name, "name")
        if not isinstance(self.ignore_observation_period, bool):
            raise _fail("must be true or false", "ignore_observation_period")

    def describe(self) -> str:
        what = self.events.concept_set or "any"
        return f"{self.count} {self.events.domain} of {what} in {self.window}"


@dataclass(frozen=True)
class AgeCriterion:
    """Age at the index date, in completed years, between ``min`` and ``max`` included."""

    name: str
    min: int | None = None
    max: int | None = None

    def __post_init__(self) -> None:
        _check_label(self.name, "name")
        for bound in ("min", "max"):
            if getattr(self, bound) is not None:
                _check_int(getattr(self, bound), bound, minimum=0)
        if self.min is None and self.max is None:
            raise _fail("needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _fail(f"min ({self.min}) is above max ({self.max})")

    def describe(self) -> str:
        if self.max is None:
            return f"aged {self.min} or more at index"
        if self.min is None:
            return f"aged {self.max} or less at index"
        return f"aged {self.min} to {self.max} at index"


@dataclass(frozen=True)
class SexCriterion:
    """Sex (person.gender_concept_id) among ``concept_ids`` (8507 male, 8532 female)."""

    name: str
    concept_ids: tuple[int, ...]

    def __post_init__(self) -> None:
        _check_label(self.name, "name")
        object.__setattr__(self, "concept_ids", tuple(self.concept_ids))
        if not self.concept_ids:
            raise _fail("needs at least one sex", "concept_ids")
        for i, c in enumerate(self.concept_ids):
            _check_int(c, f"concept_ids[{i}]", minimum=0)

    def describe(self) -> str:
        names = {v: k for k, v in SEX_CONCEPTS.items()}
        return "sex " + " or ".join(names.get(c, str(c)) for c in self.concept_ids)


@dataclass(frozen=True)
class IndexDateCriterion:
    """Index date between ``start`` and ``end`` (calendar dates, included)."""

    name: str
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        _check_label(self.name, "name")
        for bound in ("start", "end"):
            value = getattr(self, bound)
            if value is not None and not (isinstance(value, date)):
                raise _fail(f"must be a date, not {value!r}", bound)
        if self.start is None and self.end is None:
            raise _fail("needs start, end or both")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise _fail(f"start ({self.start}) is after end ({self.end})")

    def describe(self) -> str:
        return f"index date from {self.start or '-'} to {self.end or '-'}"


Criterion: TypeAlias = EventCriterion | AgeCriterion | SexCriterion | IndexDateCriterion
CRITERIA = (EventCriterion, AgeCriterion, SexCriterion, IndexDateCriterion)


# -- entry, observation, exit -----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    events: tuple[Events, ...]
    occurrence: Occurrence = "first"

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))
        if not self.events:
            raise _fail("needs at least one kind of event", "events")
        for i, e in enumerate(self.events):
            if not isinstance(e, Events):
                raise _fail(f"expected Events, not {e!r}", f"events[{i}]")
        if self.occurrence not in ("first", "all"):
            raise _fail(f"must be 'first' or 'all', not {self.occurrence!r}", "occurrence")


@dataclass(frozen=True)
class Observation:
    """Continuous observation required around the index date, in one observation period."""

    prior_days: int = 0
    post_days: int = 0

    def __post_init__(self) -> None:
        _check_int(self.prior_days, "prior_days", minimum=0)
        _check_int(self.post_days, "post_days", minimum=0)


@dataclass(frozen=True)
class FixedExit:
    """End ``days`` after the index date (0: the index date itself)."""

    days: int

    def __post_init__(self) -> None:
        _check_int(self.days, "days", minimum=0)


@dataclass(frozen=True)
class ObservationEndExit:
    """End with the observation period of the index date."""


@dataclass(frozen=True)
class ExposureEndExit:
    """End with continuous exposure to the drugs of ``concept_set``.

    Exposures (start to end date; without an end date, start + days_supply − 1) are
    joined into eras when at most ``gap_days`` days without supply separate them; the
    cohort ends ``extend_days`` after the end of the era that contains the index date
    (at the index date if none does). A 30-day grace period is ``gap_days: 30`` with
    ``extend_days: 30``.
    """

    concept_set: str
    gap_days: int = 0
    extend_days: int = 0

    def __post_init__(self) -> None:
        _check_name(self.concept_set, "concept_set")
        _check_int(self.gap_days, "gap_days", minimum=0)
        _check_int(self.extend_days, "extend_days", minimum=0)


ExitRule: TypeAlias = FixedExit | ObservationEndExit | ExposureEndExit


@dataclass(frozen=True)
class Exit:
    rule: ExitRule = field(default_factory=ObservationEndExit)
    censor_at_death: bool = True  # end at death when it comes first
    censor: tuple[Events, ...] = ()  # end at the first of these events on or after index

    def __post_init__(self) -> None:
        if not isinstance(self.rule, FixedExit | ObservationEndExit | ExposureEndExit):
            raise _fail(f"expected an exit rule, not {self.rule!r}", "rule")
        if not isinstance(self.censor_at_death, bool):
            raise _fail("must be true or false", "censor_at_death")
        object.__setattr__(self, "censor", tuple(self.censor))
        for i, e in enumerate(self.censor):
            if not isinstance(e, Events):
                raise _fail(f"expected Events, not {e!r}", f"censor[{i}]")


# -- the definition ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortDefinition:
    name: str
    entry: Entry
    concept_sets: tuple[ConceptSet, ...] = ()
    observation: Observation = field(default_factory=Observation)
    inclusion: tuple[Criterion, ...] = ()
    exit: Exit = field(default_factory=Exit)
    collapse_days: int = 0
    version: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        _check_name(self.name, "name")
        _check_int(self.version, "version", minimum=1)
        _check_int(self.collapse_days, "collapse_days", minimum=0)
        if not isinstance(self.description, str):
            raise _fail("must be text", "description")
        for attr in ("concept_sets", "inclusion"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        for name, value, kind in (
            ("entry", self.entry, Entry),
            ("observation", self.observation, Observation),
            ("exit", self.exit, Exit),
        ):
            if not isinstance(value, kind):
                raise _fail(f"expected {kind.__name__}, not {value!r}", name)
        sets: set[str] = set()
        for i, cs in enumerate(self.concept_sets):
            if not isinstance(cs, ConceptSet):
                raise _fail(f"expected a ConceptSet, not {cs!r}", f"concept_sets[{i}]")
            if cs.name in sets:
                raise _fail(f"concept set {cs.name!r} is defined twice", f"concept_sets[{i}]")
            sets.add(cs.name)
        names: set[str] = set()
        for i, criterion in enumerate(self.inclusion):
            if not isinstance(criterion, CRITERIA):
                raise _fail(f"expected a criterion, not {criterion!r}", f"inclusion[{i}]")
            if criterion.name in names:
                raise _fail(f"criterion {criterion.name!r} is named twice", f"inclusion[{i}]")
            names.add(criterion.name)
        for where, events in self._event_references():
            if events.concept_set is not None and events.concept_set not in sets:
                raise _fail(f"unknown concept set {events.concept_set!r}", where)
        rule = self.exit.rule
        if isinstance(rule, ExposureEndExit) and rule.concept_set not in sets:
            raise _fail(f"unknown concept set {rule.concept_set!r}", "exit.concept_set")

    def _event_references(self) -> list[tuple[str, Events]]:
        refs = [(f"entry.events[{i}].concept_set", e) for i, e in enumerate(self.entry.events)]
        refs += [
            (f"inclusion[{i}].events.concept_set", c.events)
            for i, c in enumerate(self.inclusion)
            if isinstance(c, EventCriterion)
        ]
        refs += [(f"exit.censor[{i}].concept_set", e) for i, e in enumerate(self.exit.censor)]
        return refs

    def concept_set(self, name: str) -> ConceptSet:
        for cs in self.concept_sets:
            if cs.name == name:
                return cs
        raise CohortDefinitionError(f"unknown concept set {name!r}", "concept_sets")

    @property
    def events(self) -> tuple[Events, ...]:
        """Every selection of events the definition reads (entry, criteria, censoring)."""
        return tuple(e for _, e in self._event_references())

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical JSON form: identifies exactly what was run."""
        from bastide.cohorts.serial import digest

        return digest(self)
