"""Vectorised parsing of one column against its declared type.

``parse_text`` takes trimmed text with nulls where the value is missing and returns the
typed column (null where missing or invalid) and the mask of present-but-invalid values.
Where Arrow has a strict, fast cast the batch tries it first and falls back to the
checked route only when some value fails it; both routes accept the same values.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from bastide.sources.formats import ISO_DATE, DateFormat, date_format, datetime_format
from bastide.sources.schema import LogicalType, SourceField

_INTEGER = r"^[+-]?\d{1,18}$"  # 18 digits always fit in int64
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_ISO_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2})[T ]00:00(?::00(?:\.0{1,9})?)?$"
_TRUE = pa.array(["1", "true"])
_BOOLEAN = pa.array(["0", "1", "true", "false"])
# ISO 8601 variants -> "YYYY-MM-DD HH:MM:SS" (seconds kept, fractions and a zero offset
# dropped), applied in turn.
_ISO_CANONICAL = (
    (r"^(\d{4}-\d{2}-\d{2})$", r"\1 00:00:00"),
    (r"^(\d{4}-\d{2}-\d{2})[T ](\d{2})$", r"\1 \2:00:00"),
    (r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})$", r"\1 \2:\3:00"),
    (
        r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d{1,9})?(?:Z|[+-]00:?00)?$",
        r"\1 \2",
    ),
)


def _present_and(values: pa.Array, invalid: pa.Array) -> pa.Array:
    """``invalid`` restricted to present values, with no nulls."""
    return pc.and_(pc.is_valid(values), pc.fill_null(invalid, True))


def _regex_checked(values: pa.Array, pattern: str) -> tuple[pa.Array, pa.Array]:
    ok = pc.match_substring_regex(values, pattern)
    return pc.if_else(ok, values, None), _present_and(values, pc.invert(ok))


def _strict_strptime(values: pa.Array, fmt: DateFormat) -> tuple[pa.Array, pa.Array]:
    """Timestamps (s) of values of exactly this format, and the mask of the others."""
    shaped, _ = _regex_checked(values, fmt.regex)
    ts = pc.strptime(shaped, format=fmt.strptime, unit="s", error_is_null=True)
    ok = pc.is_valid(ts)
    if fmt.day_offset is not None:
        # strptime rolls 31 February over into March: the day must survive parsing.
        start = fmt.day_offset
        day = pc.cast(pc.utf8_slice_codeunits(shaped, start, start + 2), pa.int64())
        ok = pc.and_(ok, pc.fill_null(pc.equal(pc.day(ts), day), False))
    return pc.if_else(ok, ts, None), _present_and(values, pc.invert(ok))


def _max_bytes(values: pa.Array) -> int:
    """The longest value in bytes (an upper bound of its length in characters)."""
    longest = pc.max(pc.binary_length(values)).as_py()
    return int(longest or 0)


def _digits_checked(
    values: pa.Array, widths: tuple[int, ...], kind: pa.DataType, low: int, high: int
) -> tuple[pa.Array, pa.Array]:
    """Values of ``widths`` ASCII digits within [low, high], as ``kind`` (a regex-free
    check: these columns are frequent)."""
    length = pc.binary_length(values)
    width_ok = pc.is_in(length, value_set=pa.array(widths, length.type))
    ok = pc.and_(width_ok, pc.ascii_is_decimal(values))
    number = pc.cast(pc.if_else(ok, values, None), pa.int32())
    ok = pc.and_(ok, pc.and_(pc.greater_equal(number, low), pc.less_equal(number, high)))
    return pc.cast(pc.if_else(ok, number, None), kind), _present_and(values, pc.invert(ok))


def _integer(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    if _max_bytes(values) <= 18:
        try:
            return pc.cast(values, pa.int64()), None
        except pa.ArrowInvalid:
            pass
    checked, bad = _regex_checked(values, _INTEGER)
    return pc.cast(pc.replace_substring_regex(checked, r"^\+", ""), pa.int64()), bad


def _number(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    if pc.any(pc.match_substring(values, ",")).as_py():
        values = pc.replace_substring(values, ",", ".")  # decimal comma
    try:
        typed = pc.cast(values, pa.float64())
    except pa.ArrowInvalid:
        checked, _ = _regex_checked(values, _NUMBER)
        typed = pc.cast(checked, pa.float64())
    bad = _present_and(values, pc.invert(pc.is_finite(typed)))  # also NaN, inf, 1e999
    return pc.if_else(bad, None, typed), bad


def _boolean(values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    lower = pc.utf8_lower(values)
    ok = pc.is_in(lower, value_set=_BOOLEAN)
    typed = pc.if_else(ok, pc.is_in(lower, value_set=_TRUE), None)
    return typed, _present_and(values, pc.invert(ok))


def _date(values: pa.Array, field: SourceField) -> tuple[pa.Array, pa.Array | None]:
    fmt = date_format(field.format)
    if fmt.strptime == ISO_DATE:
        try:
            return pc.cast(values, pa.date32()), None  # strict ISO, checks the calendar
        except pa.ArrowInvalid:
            # databases often export dates as midnight datetimes: nothing is lost
            values = pc.replace_substring_regex(values, _ISO_MIDNIGHT, r"\1")
    ts, bad = _strict_strptime(values, fmt)
    return pc.cast(ts, pa.date32()), bad


def _datetime(values: pa.Array, field: SourceField) -> tuple[pa.Array, pa.Array | None]:
    if field.format in ("", "default"):
        try:
            typed = pc.cast(values, pa.timestamp("us"))
            return pc.floor_temporal(typed, unit="second"), None
        except pa.ArrowInvalid:
            for pattern, replacement in _ISO_CANONICAL:
                values = pc.replace_substring_regex(values, pattern, replacement)
    ts, bad = _strict_strptime(values, datetime_format(field.format))
    return pc.cast(ts, pa.timestamp("us")), bad


def _string(values: pa.Array, field: SourceField) -> tuple[pa.Array, pa.Array | None]:
    if field.max_length is None and field.min_length is None:
        return values, None
    too_long = field.max_length is not None and _max_bytes(values) > field.max_length
    if not too_long and field.min_length is None:
        return values, None  # no value has more bytes, hence characters, than allowed
    length = pc.utf8_length(values)
    bad = pa.repeat(False, len(values))
    if too_long:
        bad = pc.or_(bad, pc.fill_null(pc.greater(length, field.max_length), False))
    if field.min_length is not None:
        bad = pc.or_(bad, pc.fill_null(pc.less(length, field.min_length), False))
    return values, bad


def parse_text(field: SourceField, values: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """(typed values, mask of present values that are invalid, or None if there are none)."""
    kind = field.type
    if kind is LogicalType.STRING:
        typed, bad = _string(values, field)
    elif kind is LogicalType.INTEGER:
        typed, bad = _integer(values)
    elif kind is LogicalType.NUMBER:
        typed, bad = _number(values)
    elif kind is LogicalType.BOOLEAN:
        typed, bad = _boolean(values)
    elif kind is LogicalType.DATE:
        typed, bad = _date(values, field)
    elif kind is LogicalType.DATETIME:
        typed, bad = _datetime(values, field)
    elif kind is LogicalType.YEAR:
        typed, bad = _digits_checked(values, (4,), pa.int16(), 0, 9999)
    elif kind is LogicalType.MONTH:
        typed, bad = _digits_checked(values, (1, 2), pa.int8(), 1, 12)
    else:  # YEARMONTH: YYYYMM (YYYY-MM accepted), kept as text
        if pc.any(pc.match_substring(values, "-")).as_py():
            values = pc.replace_substring_regex(values, r"^(\d{4})-(\d{2})$", r"\1\2")
        _, bad = _digits_checked(pc.utf8_slice_codeunits(values, 4, 6), (2,), pa.int8(), 1, 12)
        bad = pc.or_(bad, _present_and(values, pc.invert(pc.equal(pc.binary_length(values), 6))))
        bad = pc.or_(bad, _present_and(values, pc.invert(pc.ascii_is_decimal(values))))
        typed = pc.if_else(bad, None, values)
    if bad is not None and not pc.any(bad).as_py():
        bad = None
    return typed, bad


def parse_native(field: SourceField, values: pa.Array) -> tuple[pa.Array, pa.Array | None] | None:
    """Typed Parquet values taken as they are when their type fits the field, else None."""
    t = values.type
    kind = field.type
    try:
        if kind is LogicalType.INTEGER and pa.types.is_integer(t):
            return pc.cast(values, pa.int64()), None
        if kind is LogicalType.NUMBER and (
            pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
        ):
            typed = pc.cast(values, pa.float64())
            bad = _present_and(values, pc.invert(pc.is_finite(typed)))
            return pc.if_else(bad, None, typed), bad if pc.any(bad).as_py() else None
        if kind is LogicalType.BOOLEAN and pa.types.is_boolean(t):
            return values, None
        if kind is LogicalType.DATE and (pa.types.is_date(t) or pa.types.is_timestamp(t)):
            return pc.cast(values, pa.date32()), None
        if kind is LogicalType.DATETIME and (pa.types.is_timestamp(t) or pa.types.is_date(t)):
            return pc.floor_temporal(pc.cast(values, pa.timestamp("us")), unit="second"), None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # e.g. a timestamp with a time of day in a date field: check as text
    return None


# -- details ----------------------------------------------------------------------------
def _quoted(values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise("'", pc.utf8_slice_codeunits(values, 0, 60), "'", "")


_FORMAT_WORDS = {
    LogicalType.INTEGER: "an integer",
    LogicalType.NUMBER: "a finite number",
    LogicalType.BOOLEAN: "a boolean (0, 1, true, false)",
    LogicalType.YEAR: "a year (YYYY)",
    LogicalType.MONTH: "a month (01 to 12)",
    LogicalType.YEARMONTH: "a year and month (YYYYMM)",
}


def _expected(field: SourceField) -> str:
    if field.type is LogicalType.DATE:
        return f"a date in format {date_format(field.format).strptime}"
    if field.type is LogicalType.DATETIME:
        fmt = field.format if field.format not in ("", "default") else "ISO 8601"
        return f"a date and time in format {fmt}"
    return _FORMAT_WORDS[field.type]


def format_details(field: SourceField, values: pa.Array, reveal: bool) -> pa.Array:
    """Why each of these (invalid, trimmed) values failed; values shown only if ``reveal``."""
    if field.type is LogicalType.STRING:
        length = pc.cast(pc.utf8_length(values), pa.string())
        too_long = "length ", length, f" exceeds the declared maximum {field.max_length}"
        too_short = "length ", length, f" is below the declared minimum {field.min_length}"
        long_mask = (
            pc.greater(pc.utf8_length(values), field.max_length)
            if field.max_length is not None
            else pa.repeat(False, len(values))
        )
        return pc.if_else(
            long_mask,
            pc.binary_join_element_wise(*too_long, ""),
            pc.binary_join_element_wise(*too_short, ""),
        )
    suffix = f" is not {_expected(field)}"
    if not reveal:
        return pa.repeat(pa.scalar("value" + suffix), len(values)).cast(pa.string())
    return pc.binary_join_element_wise(_quoted(values), suffix, "")


def value_details(values: pa.Array, message: str, reveal: bool) -> pa.Array:
    """``'<value>' <message>``, or ``value <message>`` when the value must not show."""
    if not reveal:
        return pa.repeat(pa.scalar("value " + message), len(values)).cast(pa.string())
    return pc.binary_join_element_wise(_quoted(values), " " + message, "")
