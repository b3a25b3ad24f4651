"""Date and datetime formats of declared fields, compiled for strict vectorised checks.

Arrow's ``strptime`` is lenient (``31022019`` becomes 3 March, ``2020-1-3`` is accepted),
so a value is valid only when it also has the exact shape of the format (a regex with
field ranges) and its day of month survives parsing unchanged (no overflow into the next
month). Pure Python: nothing here touches data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bastide.sources.errors import SchemaError

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME = "%Y-%m-%d %H:%M:%S"

# directive -> (regex with its value range, width in characters)
_DIRECTIVES: dict[str, tuple[str, int]] = {
    "Y": (r"\d{4}", 4),
    "m": (r"(?:0[1-9]|1[0-2])", 2),
    "d": (r"(?:0[1-9]|[12]\d|3[01])", 2),
    "H": (r"(?:[01]\d|2[0-3])", 2),
    "M": (r"[0-5]\d", 2),
    "S": (r"[0-5]\d", 2),
    "b": (r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", 3),
}
_REGEX_SPECIAL = set(r".^$*+?()[]{}|\/")


@dataclass(frozen=True)
class DateFormat:
    """A strptime format with the regex of its exact shape and where its day sits."""

    strptime: str
    regex: str  # anchored, RE2 syntax
    day_offset: int | None  # character offset of %d, to detect overflowed days
    has_time: bool

    @property
    def has_month_name(self) -> bool:
        return "%b" in self.strptime


@cache
def compile_format(fmt: str) -> DateFormat:
    """Compile a fixed-width strptime format made of %Y %m %d %H %M %S %b and literals."""
    parts: list[str] = []
    offset = 0
    day_offset: int | None = None
    has_time = False
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%":
            if i + 1 >= len(fmt) or fmt[i + 1] not in _DIRECTIVES:
                raise SchemaError(f"unsupported date format {fmt!r} (directive at {i})")
            directive = fmt[i + 1]
            regex, width = _DIRECTIVES[directive]
            if directive == "d":
                day_offset = offset
            has_time = has_time or directive in "HMS"
            parts.append(regex)
            offset += width
            i += 2
        else:
            parts.append("\\" + char if char in _REGEX_SPECIAL else char)
            offset += 1
            i += 1
    return DateFormat(fmt, "^" + "".join(parts) + "$", day_offset, has_time)


def date_format(declared: str) -> DateFormat:
    """The format of a date field: schema-snds ``default`` means ISO ``YYYY-MM-DD``."""
    return compile_format(ISO_DATE if declared in ("", "default") else declared)


def datetime_format(declared: str) -> DateFormat:
    """The format of a datetime field: ``default`` means ISO 8601 (see parsing)."""
    return compile_format(ISO_DATETIME if declared in ("", "default") else declared)
