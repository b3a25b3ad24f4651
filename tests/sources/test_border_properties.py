"""Property: for random rows mixing valid and invalid values, every row read is loaded or
quarantined, and each quarantined row carries the reason and column a plain model of the
rules predicts (first failing check in reason order, then column order; a key repeats
only after a valid row)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from border_helpers import read_all, write
from hypothesis import given, settings
from hypothesis import strategies as st

from bastide.sources import REASONS, LogicalType, SourceField, SourceSchema, known_codes

T = LogicalType
SCHEMA = SourceSchema(
    "RANDOM",
    "snds",
    (
        SourceField("ID", T.STRING, max_length=5, identifier_domain="person", required=True),
        SourceField("K", T.INTEGER, required=True, is_key=True),
        SourceField("D", T.DATE),
        SourceField("DF", T.DATE, format="%d%m%Y"),
        SourceField("N", T.NUMBER, minimum=0, maximum=100),
        SourceField("I", T.INTEGER),
        SourceField("B", T.BOOLEAN),
        SourceField("S", T.STRING, max_length=5),
        SourceField("C", T.STRING, code_system="CIM-10"),
        SourceField("YM", T.YEARMONTH),
    ),
    primary_key=("K",),
)
COLUMNS = SCHEMA.names
CODES = ["C510", "C511", "A00"]
dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(2999, 12, 31))

VALID = {
    "ID": st.from_regex(r"[A-Z0-9]{1,5}", fullmatch=True),
    "K": st.integers(0, 15).map(str),
    "D": dates.map(dt.date.isoformat),
    "DF": dates.map(lambda d: d.strftime("%d%m") + f"{d.year:04d}"),
    "N": st.decimals(0, 100, places=2).map(str),
    "I": st.one_of(st.just(""), st.integers(-(10**12), 10**12).map(str)),
    "B": st.sampled_from(["0", "1", "true", "False"]),  # never empty: no row is blank
    "S": st.from_regex(r"[a-zé]{0,5}", fullmatch=True),
    "C": st.sampled_from(["", *CODES]),
    "YM": st.tuples(st.integers(1900, 2099), st.integers(1, 12)).map(lambda t: f"{t[0]}{t[1]:02d}"),
}
INVALID = {
    "ID": [("", "missing_identifier"), ("ABCDEF", "type_error")],
    "K": [(" ", "missing_identifier"), ("x1", "type_error")],
    "D": [("2021-02-29", "bad_date"), ("2020-13-01", "bad_date"), ("01/02/2020", "bad_date")],
    "DF": [("30022020", "bad_date"), ("2020-02-01", "bad_date")],
    "N": [("100.01", "out_of_range"), ("-0.5", "out_of_range"), ("1.2.3", "type_error")],
    "I": [("1.5", "type_error")],
    "B": [("maybe", "type_error")],
    "S": [("abcdefg", "type_error")],
    "C": [("Q999", "unknown_code")],
    "YM": [("202000", "bad_date")],
}


@st.composite
def cell(draw: st.DrawFn, column: str) -> tuple[str, str | None]:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(INVALID[column]))
    return draw(VALID[column]), None


@st.composite
def rows(draw: st.DrawFn) -> list[dict[str, tuple[str, str | None]]]:
    n = draw(st.integers(0, 25))
    return [{c: draw(cell(c)) for c in COLUMNS} for _ in range(n)]


def expected_outcomes(data: list[dict[str, tuple[str, str | None]]]) -> dict[int, tuple]:
    seen: set[int] = set()
    outcomes: dict[int, tuple] = {}
    for line, row in enumerate(data, start=2):
        failures = [
            (REASONS.index(reason), i, reason, column)
            for i, column in enumerate(COLUMNS)
            if (reason := row[column][1]) is not None
        ]
        if failures:
            _, _, reason, column = min(failures)
            outcomes[line] = (reason, column)
            continue
        key = int(row["K"][0])
        if key in seen:
            outcomes[line] = ("duplicate_key", "K")
        seen.add(key)
    return outcomes


@settings(max_examples=60, deadline=None)
@given(rows())
def test_every_row_is_loaded_or_quarantined_for_the_right_reason(data: list[dict]) -> None:
    text = (
        ";".join(COLUMNS)
        + "\n"
        + "".join(";".join(row[c][0] for c in COLUMNS) + "\n" for row in data)
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = read_all(
            write(Path(tmp), "RANDOM.csv", text),
            SCHEMA,
            code_checker=known_codes({"CIM-10": CODES}),
        )
    rec = out.reconciliation
    assert rec.rows_read == len(data) == rec.rows_loaded + rec.rows_quarantined
    expected = expected_outcomes(data)
    assert out.reasons_by_line() == expected
    assert out.valid_lines == [line for line in range(2, len(data) + 2) if line not in expected]
