"""Rule profiles: named sets of thresholds, as data.

A profile says which counts may be released (``threshold``: the smallest non-zero count
that may appear), what to do with zeros, how to round, and, for tables of magnitudes, the
dominance (n, k) and p-percent rules. Three are built in; a hub adds or adjusts profiles
in ``bastide.toml``::

    [disclosure]
    default_profile = "snds"

    [disclosure.profiles.snds]        # adjust a built-in profile
    threshold = 12

    [disclosure.profiles.strict]      # a new one, starting from a built-in
    extends = "acro"
    threshold = 15
    rounding = 5
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any

from bastide.disclosure.errors import ProfileError

PROFILE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class Zeros(StrEnum):
    """What a zero count (or an empty cell of magnitudes) means for release."""

    ALLOW = "allow"  # released as is (structural or uninformative zeros)
    FLAG = "flag"  # released, but the output goes to review
    SUPPRESS = "suppress"  # suppressed like a small count


class OnDifferencing(StrEnum):
    """The status given to an output whose counts may difference with earlier releases."""

    REVIEW = "review"
    FAIL = "fail"


@dataclass(frozen=True)
class Profile:
    name: str
    threshold: int
    zeros: Zeros = Zeros.ALLOW
    rounding: int = 1  # 1: no rounding; b: every released count to the nearest multiple of b
    dominance_n: int | None = None  # n largest contributions...
    dominance_k: float | None = None  # ...may not reach this share of the cell's total
    p_percent: float | None = None  # the rest must be at least this share of the largest
    differencing: OnDifferencing = OnDifferencing.REVIEW
    description: str = ""

    def __post_init__(self) -> None:
        if not PROFILE_NAME.match(self.name):
            raise ProfileError(f"profile name {self.name!r}: lower case letters, digits, - or _")
        where = f"profile {self.name!r}"
        if not _is_int(self.threshold) or self.threshold < 1:
            raise ProfileError(f"{where}: threshold must be an integer of at least 1")
        if not _is_int(self.rounding) or self.rounding < 1:
            raise ProfileError(f"{where}: rounding must be an integer of at least 1 (1: none)")
        for value, enum, key in (
            (self.zeros, Zeros, "zeros"),
            (self.differencing, OnDifferencing, "differencing"),
        ):
            if value not in enum._value2member_map_:
                choices = ", ".join(e.value for e in enum)
                raise ProfileError(f"{where}: {key} must be one of {choices}")
        object.__setattr__(self, "zeros", Zeros(self.zeros))
        object.__setattr__(self, "differencing", OnDifferencing(self.differencing))
        if (self.dominance_n is None) != (self.dominance_k is None):
            raise ProfileError(f"{where}: give both dominance_n and dominance_k, or neither")
        if self.dominance_n is not None and (
            not _is_int(self.dominance_n) or self.dominance_n not in (1, 2)
        ):
            raise ProfileError(
                f"{where}: dominance_n must be 1 or 2 (outputs carry the two largest "
                "contributions of each cell)"
            )
        if self.dominance_k is not None and not _is_fraction(self.dominance_k, closed=True):
            raise ProfileError(f"{where}: dominance_k must be a number above 0 and at most 1")
        if self.p_percent is not None and not _is_fraction(self.p_percent, closed=False):
            raise ProfileError(f"{where}: p_percent must be a number strictly between 0 and 1")

    # -- the rules as functions of one count ------------------------------------------
    def round(self, count: int) -> int:
        """The nearest multiple of ``rounding`` (halves go up)."""
        base = self.rounding
        return count if base == 1 else ((count + base // 2) // base) * base

    def too_small(self, count: int) -> bool:
        """A non-zero count that may not be released, before or after rounding."""
        return count != 0 and (count < self.threshold or self.round(count) < self.threshold)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["zeros"] = self.zeros.value
        data["differencing"] = self.differencing.value
        return {k: v for k, v in data.items() if v is not None}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_fraction(value: object, *, closed: bool) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return False
    return 0 < value <= 1 if closed else 0 < value < 1


SNDS = Profile(
    "snds",
    threshold=11,
    zeros=Zeros.ALLOW,
    description="SNDS practice: no released cell counts 1 to 10 persons",
)
OPENSAFELY = Profile(
    "opensafely",
    threshold=8,
    zeros=Zeros.ALLOW,
    rounding=5,
    description="OpenSAFELY practice: counts of 7 or less suppressed, then every count "
    "rounded to the nearest 5",
)
ACRO = Profile(
    "acro",
    threshold=10,
    zeros=Zeros.SUPPRESS,
    dominance_n=2,
    dominance_k=0.9,
    p_percent=0.10,
    description="ACRO defaults: threshold 10, dominance n=2 k=0.9, p-percent 10%, zeros disclosive",
)
BUILTIN: dict[str, Profile] = {p.name: p for p in (SNDS, OPENSAFELY, ACRO)}
DEFAULT_PROFILE = "snds"
_FIELDS = {f.name for f in fields(Profile)} - {"name"}


def profile_from_dict(name: str, data: Mapping[str, Any], base: Profile | None = None) -> Profile:
    """A profile from configuration: a built-in adjusted, or ``extends`` another profile,
    or a new profile (which must then give its ``threshold``)."""
    unknown = sorted(set(data) - _FIELDS - {"extends"})
    if unknown:
        raise ProfileError(
            f"profile {name!r}: unknown setting {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_FIELDS | {'extends'}))})"
        )
    values = {k: v for k, v in data.items() if k != "extends"}
    if base is not None:
        return replace(base, name=name, **values)
    if "threshold" not in values:
        raise ProfileError(f"profile {name!r}: give a threshold, or extends = a known profile")
    return Profile(name=name, **values)


@dataclass(frozen=True)
class Profiles:
    """The profiles a hub knows, and the one used when a request names none."""

    profiles: Mapping[str, Profile]
    default: str = DEFAULT_PROFILE

    def get(self, name: str | None = None) -> Profile:
        chosen = name or self.default
        try:
            return self.profiles[chosen]
        except KeyError:
            known = ", ".join(sorted(self.profiles))
            raise ProfileError(f"unknown disclosure profile {chosen!r} (known: {known})") from None

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> Profiles:
        """Built-in profiles, adjusted and extended by a ``[disclosure]`` section."""
        section = dict(section or {})
        unknown = sorted(set(section) - {"default_profile", "profiles"})
        if unknown:
            raise ProfileError(f"[disclosure]: unknown setting {', '.join(unknown)}")
        profiles = dict(BUILTIN)
        configured = section.get("profiles", {})
        if not isinstance(configured, Mapping):
            raise ProfileError("[disclosure.profiles] must be a table of profiles")
        pending = dict(configured)
        while pending:  # a profile may extend one defined in the same file
            progressed = False
            for name, data in list(pending.items()):
                if not isinstance(data, Mapping):
                    raise ProfileError(f"[disclosure.profiles.{name}] must be a table")
                parent = data.get("extends", name if name in BUILTIN else None)
                if parent is not None and parent not in profiles:
                    if parent in pending and parent != name:
                        continue
                    raise ProfileError(f"profile {name!r} extends unknown profile {parent!r}")
                base = profiles.get(parent) if parent is not None else None
                profiles[name] = profile_from_dict(name, data, base)
                del pending[name]
                progressed = True
            if not progressed:
                raise ProfileError(f"profiles extend each other in a loop: {', '.join(pending)}")
        default = section.get("default_profile", DEFAULT_PROFILE)
        result = cls(profiles, str(default))
        result.get()  # the default must exist
        return result
