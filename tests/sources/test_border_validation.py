"""Validation: every reason code from a tiny hand-written file, the first failing check
wins, and valid rows come out typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from border_helpers import pseudonym, read_all, write

from bastide.sources import (
    REASONS,
    LogicalType,
    SourceField,
    SourceSchema,
    known_codes,
    read_extract,
)

T = LogicalType
SCHEMA = SourceSchema(
    "EVENTS",
    "snds",
    (
        SourceField("ID", T.STRING, max_length=5, identifier_domain="person", required=True),
        SourceField("K", T.INTEGER, required=True, is_key=True),
        SourceField("D", T.DATE),
        SourceField("DF", T.DATE, format="%d%m%Y"),
        SourceField("DT", T.DATETIME, format="%d%b%Y:%H:%M:%S"),
        SourceField("DTI", T.DATETIME),
        SourceField("M", T.MONTH, format="%m"),
        SourceField("Y", T.YEAR),
        SourceField("YM", T.YEARMONTH),
        SourceField("N", T.NUMBER, minimum=0, maximum=100),
        SourceField("I", T.INTEGER, minimum=1, maximum=5),
        SourceField("B", T.BOOLEAN),
        SourceField("S", T.STRING, max_length=5, min_length=2),
        SourceField("C", T.STRING, code_system="CIM-10", code_placeholders=("0",)),
        SourceField("R", T.STRING, required=True),
    ),
    primary_key=("K",),
)
HEADER = "ID;K;D;DF;DT;DTI;M;Y;YM;N;I;B;S;C;R"
GOOD = (
    "AB12;{k};2020-02-29;29022020;02JAN2007:22:12:17;2007-01-02T22:12:17Z;02;1950;202001;"
    "12,5;3;1;abc;C51.0;r"
)
CHECKER = known_codes({"CIM-10": ["C510", "C511"]})


def row(k: int, **changes: str) -> str:
    values = dict(zip(HEADER.split(";"), GOOD.format(k=k).split(";"), strict=True))
    values.update(changes)
    return ";".join(values.values())


# (column changes, expected reason, expected column); one line each, keys 1, 2, 3 …
CASES: list[tuple[dict[str, str], str, str]] = [
    ({"ID": ""}, "missing_identifier", "ID"),
    ({"K": " "}, "missing_identifier", "K"),
    ({"R": ""}, "missing_value", "R"),
    ({"D": "2019-02-29"}, "bad_date", "D"),
    ({"D": "2020-1-3"}, "bad_date", "D"),
    ({"D": "2020-01-01 10:00:00"}, "bad_date", "D"),  # a time would be lost
    ({"DF": "31022019"}, "bad_date", "DF"),
    ({"DF": "2019-02-01"}, "bad_date", "DF"),
    ({"DT": "02JAN2007"}, "bad_date", "DT"),
    ({"DT": "32JAN2007:00:00:00"}, "bad_date", "DT"),
    ({"DTI": "2007-01-02T25:00:00"}, "bad_date", "DTI"),
    ({"M": "13"}, "bad_date", "M"),
    ({"Y": "19500"}, "bad_date", "Y"),
    ({"YM": "202013"}, "bad_date", "YM"),
    ({"K": "1.5"}, "type_error", "K"),
    ({"N": "12.5.1"}, "type_error", "N"),
    ({"N": "nan"}, "type_error", "N"),
    ({"I": "three"}, "type_error", "I"),
    ({"B": "yes"}, "type_error", "B"),
    ({"S": "abcdef"}, "type_error", "S"),
    ({"S": "a"}, "type_error", "S"),
    ({"ID": "ABCDEFG"}, "type_error", "ID"),
    ({"C": "Z99.9"}, "unknown_code", "C"),
    ({"N": "100.5"}, "out_of_range", "N"),
    ({"I": "0"}, "out_of_range", "I"),
    # the first failing check wins: reasons in order, then columns in schema order
    ({"ID": "", "D": "x"}, "missing_identifier", "ID"),
    ({"D": "x", "K": "y"}, "bad_date", "D"),
    ({"C": "Z99", "S": "toolong"}, "type_error", "S"),
    ({"N": "-1", "C": "Z99"}, "unknown_code", "C"),
]


def test_every_reason_code(tmp_path: Path) -> None:
    lines = [HEADER] + [row(k, **changes) for k, (changes, _, _) in enumerate(CASES, 1)]
    lines += [row(100), row(101, C="0", N="", I="", B="", S=""), row(100, D="x"), row(100)]
    out = read_all(
        write(tmp_path, "EVENTS.csv", "\n".join(lines) + "\n"), SCHEMA, code_checker=CHECKER
    )
    expected = {k + 1: (reason, column) for k, (_, reason, column) in enumerate(CASES, 1)}
    n = len(CASES)
    expected[n + 4] = ("bad_date", "D")  # the bad row does not count as the key's first
    expected[n + 5] = ("duplicate_key", "K")
    assert out.reasons_by_line() == expected
    assert out.valid_lines == [n + 2, n + 3]
    rec = out.reconciliation
    assert rec.rows_read == n + 4 and rec.rows_loaded == 2
    # unknown_reference is found by the ingest, once every table is staged
    assert set(rec.quarantined_by_reason) == set(REASONS) - {"unknown_reference"}
    assert rec.duplicate_keys_checked


def test_details_explain_without_showing_identifiers(tmp_path: Path) -> None:
    lines = [
        HEADER,
        row(1, DF="31022019"),
        row(2, ID="ABCDEFG"),
        row(3, N="100.5"),
        row(4, C="Z99.9"),
        row(5, S="abcdef"),
        row(6, R=""),
        row(7),
        row(7),
    ]
    out = read_all(write(tmp_path, "EVENTS.csv", "\n".join(lines)), SCHEMA, code_checker=CHECKER)
    details = out.quarantine.column("detail").to_pylist()
    assert details == [
        "'31022019' is not a date in format %d%m%Y",
        "length 7 exceeds the declared maximum 5",
        "'100.5' is outside [0, 100]",
        "'Z99.9' is not a known CIM-10 code",
        "length 6 exceeds the declared maximum 5",
        "required column is empty",
        "primary key (K) already seen",
    ]
    assert "ABCDEFG" not in str(out.quarantine.to_pylist())
    assert pseudonym("ABCDEFG") in out.quarantine.column("row_json")[1].as_py()


def test_valid_rows_are_typed(tmp_path: Path) -> None:
    out = read_all(write(tmp_path, "EVENTS.csv", f"{HEADER}\n{row(7)}\n"), SCHEMA)
    assert [f.type for f in out.valid.schema] == [
        pa.string(), pa.int64(), pa.date32(), pa.date32(), pa.timestamp("us"),
        pa.timestamp("us"), pa.int8(), pa.int16(), pa.string(), pa.float64(), pa.int64(),
        pa.bool_(), pa.string(), pa.string(), pa.string(),
    ]  # fmt: skip
    assert out.valid.to_pylist() == [
        {
            "ID": pseudonym("AB12"),
            "K": 7,
            "D": dt.date(2020, 2, 29),
            "DF": dt.date(2020, 2, 29),
            "DT": dt.datetime(2007, 1, 2, 22, 12, 17),
            "DTI": dt.datetime(2007, 1, 2, 22, 12, 17),
            "M": 2,
            "Y": 1950,
            "YM": "202001",
            "N": 12.5,  # decimal comma
            "I": 3,
            "B": True,
            "S": "abc",
            "C": "C51.0",
            "R": "r",
        }
    ]


@pytest.mark.parametrize(
    ("column", "raw", "value"),
    [
        ("DTI", "2007-01-02", dt.datetime(2007, 1, 2)),
        ("DTI", "2007-01-02 22:12", dt.datetime(2007, 1, 2, 22, 12)),
        ("DTI", "2007-01-02T22:12:17.123456", dt.datetime(2007, 1, 2, 22, 12, 17)),
        ("DT", "02jan2007:22:12:17", dt.datetime(2007, 1, 2, 22, 12, 17)),
        ("D", "2020-02-29T00:00:00", dt.date(2020, 2, 29)),
        ("YM", "2020-01", "202001"),
        ("M", "2", 2),
        ("B", "TRUE", True),
        ("B", "0", False),
        ("K", "+8", 8),
        ("N", "1e2", 100.0),
        ("S", "  padded ", None),  # 6 characters once trimmed: too long
    ],
)
def test_accepted_variants(tmp_path: Path, column: str, raw: str, value: object) -> None:
    # the slow (checked) route is taken when some value of the batch is invalid
    text = f"{HEADER}\n{row(1, **{column: raw})}\n{row(2, D='x', DTI='x', N='x', K='x')}\n"
    out = read_all(write(tmp_path, "EVENTS.csv", text), SCHEMA)
    if value is None:
        assert out.valid.num_rows == 0
    else:
        assert out.valid.column(column).to_pylist() == [value]


def test_declared_missing_values_count_as_null(tmp_path: Path) -> None:
    schema = SourceSchema(
        "CODES",
        "snds",
        (SourceField("A", T.INTEGER, required=True), SourceField("B", T.INTEGER)),
        missing_values=("", "NA"),
    )
    out = read_all(write(tmp_path, "CODES.csv", "A;B\n1;NA\nNA;2\n"), schema)
    assert out.valid.to_pylist() == [{"A": 1, "B": None}]
    assert out.reasons_by_line() == {3: ("missing_value", "A")}


def test_code_checkers(tmp_path: Path) -> None:
    text = f"{HEADER}\n{row(1, C='c510 ')}\n{row(2, C='Z99')}\n{row(3, C='0')}\n"
    path = write(tmp_path, "EVENTS.csv", text)
    assert read_all(path, SCHEMA, code_checker=CHECKER).valid.num_rows == 2
    ignoring = read_all(path, SCHEMA, code_checker=lambda system, values: None)
    assert ignoring.valid.num_rows == 3  # a system the checker does not know is not checked
    assert read_all(path, SCHEMA).valid.num_rows == 3  # no checker


def test_duplicate_keys_across_batches_and_files(tmp_path: Path) -> None:
    body = "".join(f"{row(k)}\n" for k in range(3000))
    (tmp_path / "one").mkdir()
    write(tmp_path / "one", "EVENTS.csv", f"{HEADER}\n{body}{row(5)}\n")
    out = read_all(tmp_path / "one" / "EVENTS.csv", SCHEMA, block_bytes=16 << 10)
    assert out.reasons_by_line() == {3002: ("duplicate_key", "K")}
    unchecked = read_all(tmp_path / "one" / "EVENTS.csv", SCHEMA, check_duplicates=False)
    assert unchecked.quarantine.num_rows == 0
    assert not unchecked.reconciliation.duplicate_keys_checked


def test_a_table_split_across_files_is_one_key_space(tmp_path: Path) -> None:
    a, b = "A" * 17, "B" * 17  # BEN_NIR_PSA has 17 characters
    write(tmp_path, "IR_BEN_R.part1.csv", f"BEN_NIR_PSA;BEN_RNG_GEM\n{a};1\n{b};1\n")
    (tmp_path / "more").mkdir()
    write(tmp_path / "more", "IR_BEN_R.csv", f"BEN_NIR_PSA;BEN_RNG_GEM\n{a};1\n")
    write(tmp_path, "IR_BEN_R.part2.csv.gz", f"BEN_NIR_PSA;BEN_RNG_GEM\n{a};2\n{b};1\n", gz=True)
    extract = read_extract(tmp_path, "snds", pseudonymise=lambda a: a)
    quarantined = {}
    for reader in extract:
        quarantined[reader.file.relpath] = sum(b.quarantine.num_rows for b in reader)
    # same directory: one table in declared parts (a row in two parts is a duplicate key);
    # another directory (another hospital): its own keys
    assert quarantined == {
        "IR_BEN_R.part1.csv": 0,
        "IR_BEN_R.part2.csv.gz": 1,
        "more/IR_BEN_R.csv": 0,
    }
