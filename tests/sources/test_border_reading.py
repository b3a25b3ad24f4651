"""Reading: delimiters, encodings, gzip, Parquet, header checks, line numbers, and
precise errors for files that cannot be parsed."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from border_helpers import LABELS, read_all, write

from bastide.sources import (
    LogicalType,
    SourceField,
    SourceFileError,
    SourceSchema,
    read_source,
)
from bastide.sources.border import BorderBatch

LIP = "Tumeur maligne de la grande lèvre"


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_the_delimiter_is_detected_from_the_header(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    path = write(tmp_path, "LABELS.csv", f"CODE{d}LABEL{d}N\nC510{d}{LIP}{d}3\nC511{d}{d}\n")
    out = read_all(path, LABELS)
    assert out.reconciliation.delimiter == delimiter
    assert out.valid.to_pylist() == [
        {"CODE": "C510", "LABEL": LIP, "N": 3},
        {"CODE": "C511", "LABEL": None, "N": None},
    ]


def test_an_explicit_delimiter_is_obeyed(tmp_path: Path) -> None:
    path = write(tmp_path, "LABELS.csv", "CODE;LABEL;N\nC510;x;1\n")
    with pytest.raises(SourceFileError, match="missing required column"):
        read_all(path, LABELS, delimiter=",")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-8-sig"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    text = f"CODE;LABEL;N\nC510;{LIP};1\nC511;Mélanome de l'œil;2\n"
    if encoding == "latin-1":
        text = text.replace("œ", "oe")  # not in latin-1
    path = write(tmp_path, "LABELS.csv", text, encoding=encoding)
    out = read_all(path, LABELS)
    assert out.valid.column("LABEL").to_pylist()[0] == LIP
    assert out.reconciliation.encoding == ("latin-1" if encoding == "latin-1" else "utf-8")
    assert out.valid.column("CODE").to_pylist() == ["C510", "C511"]  # no BOM in a name


def test_an_explicit_encoding_is_obeyed(tmp_path: Path) -> None:
    path = write(tmp_path, "LABELS.csv", "CODE;LABEL;N\nX;Coût 5 €;1\n", encoding="cp1252")
    assert read_all(path, LABELS).valid.column("LABEL")[0].as_py() != "Coût 5 €"
    out = read_all(path, LABELS, encoding="cp1252")
    assert out.valid.column("LABEL")[0].as_py() == "Coût 5 €"
    assert out.reconciliation.encoding == "cp1252"


def test_gzip_reads_like_plain_text(tmp_path: Path) -> None:
    text = "CODE;LABEL;N\n" + "".join(f"C{i};{LIP};{i}\n" for i in range(500))
    plain = read_all(write(tmp_path, "LABELS.csv", text), LABELS)
    packed = read_all(write(tmp_path, "LABELS.csv.gz", text, gz=True), LABELS)
    assert packed.valid.equals(plain.valid)
    assert packed.reconciliation.compression == "gzip"
    assert packed.reconciliation.sha256 != plain.reconciliation.sha256  # of the file itself


def test_parquet_is_validated_natively_or_as_text(tmp_path: Path) -> None:
    schema = SourceSchema(
        "EVENTS",
        "snds",
        (
            SourceField("ID", LogicalType.INTEGER, required=True, is_key=True),
            SourceField("DAY", LogicalType.DATE),
            SourceField("ENT_DAT", LogicalType.DATE, format="%d%m%Y"),
            SourceField("AMOUNT", LogicalType.NUMBER, minimum=0),
        ),
        primary_key=("ID",),
    )
    table = pa.table(
        {
            "ID": pa.array([1, 2, 3, 1], pa.int32()),
            "DAY": pa.array([dt.date(2020, 1, 2)] * 4),
            "ENT_DAT": ["02012020", "31022020", None, "01012020"],
            "AMOUNT": pa.array([1.5, 2.0, -1.0, 0.0]),
            "EXTRA": ["a", "b", "c", "d"],
        }
    )
    path = tmp_path / "EVENTS.parquet"
    pq.write_table(table, path)
    out = read_all(path, schema)
    assert out.valid.schema.field("ID").type == pa.int64()
    assert out.valid.to_pylist() == [
        {"ID": 1, "DAY": dt.date(2020, 1, 2), "ENT_DAT": dt.date(2020, 1, 2), "AMOUNT": 1.5}
    ]
    assert out.reasons_by_line() == {  # Parquet "lines" are row numbers
        2: ("bad_date", "ENT_DAT"),
        3: ("out_of_range", "AMOUNT"),
        4: ("duplicate_key", "ID"),
    }
    assert out.reconciliation.ignored_columns == ("EXTRA",)
    assert out.reconciliation.format == "parquet" and out.reconciliation.encoding is None


def test_header_facts_are_reconciled(tmp_path: Path) -> None:
    path = write(tmp_path, "LABELS.csv", "code;EXTRA;(x);N\nC1;secret;y;1\n")
    out = read_all(path, LABELS)
    assert out.reconciliation.ignored_columns == ("EXTRA", "(x)")
    assert out.reconciliation.missing_columns == ("LABEL",)
    assert out.valid.column_names == ["CODE", "LABEL", "N"]  # declared names, all of them
    assert out.valid.to_pylist() == [{"CODE": "C1", "LABEL": None, "N": 1}]


def test_blank_lines_are_not_rows_and_lines_stay_exact(tmp_path: Path) -> None:
    text = "CODE;LABEL;N\nA;x;1\n\n;;\nB;x;no\n\n\nC;x;3\n\n"
    out = read_all(write(tmp_path, "LABELS.csv", text), LABELS)
    assert out.valid_lines == [2, 8]
    assert out.reasons_by_line() == {5: ("type_error", "N")}
    assert out.reconciliation.blank_lines == 5  # ";;" is blank too: no value at all
    assert out.reconciliation.rows_read == 3


def test_quoted_line_breaks_in_omop_text_keep_line_numbers(tmp_path: Path) -> None:
    header = "note_id,person_id,note_date,note_type_concept_id,note_class_concept_id,"
    header += "note_title,note_text,encoding_concept_id,language_concept_id\n"
    rows = [
        '1,10,2020-01-01,1,1,t,"line one\nline two\r\nline three",0,0\n',
        "2,10,2020-13-01,1,1,t,plain,0,0\n",
        '3,11,2020-01-02,1,1,t,"a ""quoted"" word",0,0\n',
    ]
    out = read_all(write(tmp_path, "NOTE.csv", header + "".join(rows)), source="omop")
    assert out.valid_lines == [2, 6]
    assert out.reasons_by_line() == {5: ("bad_date", "note_date")}
    assert out.valid.column("note_text").to_pylist() == [
        "line one\nline two\r\nline three",
        'a "quoted" word',
    ]


def test_many_batches_keep_line_numbers(tmp_path: Path) -> None:
    lines = ["CODE;LABEL;N"] + [f"C{i};{LIP};{i if i % 997 else 'x'}" for i in range(20_000)]
    reader = read_source(
        write(tmp_path, "LABELS.csv", "\n".join(lines) + "\n"),
        LABELS,
        pseudonymise=lambda a: a,
        block_bytes=64 << 10,
    )
    batches: list[BorderBatch] = list(reader)
    assert len(batches) > 10
    quarantined = [q for b in batches for q in b.quarantine.to_pylist()]
    assert [q["line_number"] for q in quarantined] == [i + 2 for i in range(0, 20_000, 997)]
    first_valid = [b.valid_lines[0].as_py() for b in batches if b.valid.num_rows]
    firsts = [b.valid.column("CODE")[0].as_py() for b in batches if b.valid.num_rows]
    assert all(int(code[1:]) + 2 == line for code, line in zip(firsts, first_valid, strict=True))


# -- files that cannot be read --------------------------------------------------------
@pytest.mark.parametrize("block_bytes", [1 << 20, 1 << 10])  # one batch, many
def test_a_ragged_row_names_file_and_line(tmp_path: Path, block_bytes: int) -> None:
    lines = ["CODE;LABEL;N"] + [f"C{i};x;{i}" for i in range(1, 1041)] + ["C1041;x"]
    path = write(tmp_path, "LABELS.csv", "\n".join(lines) + "\nC1042;x;1\n")
    with pytest.raises(SourceFileError) as err:
        read_all(path, LABELS, block_bytes=block_bytes)
    assert str(err.value) == "LABELS.csv line 1042: expected 3 fields, found 2"
    assert err.value.line == 1042


def test_a_ragged_omop_row_after_a_quoted_line_break(tmp_path: Path) -> None:
    text = "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id\n"
    text += '1,8507,1990,0,0\n"2\n",8507,1990,0,0\n3,8507,1990\n'
    with pytest.raises(SourceFileError, match=r"^PERSON.csv line 5: expected 5 fields, found 3$"):
        read_all(write(tmp_path, "PERSON.csv", text), source="omop")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "LABELS.csv"
    path.write_bytes(b"CODE;LABEL;N\nA;ok;1\nB;l\xe8vre;2\n")
    with pytest.raises(SourceFileError, match=r"^LABELS.csv line 3: not valid utf-8 text"):
        read_all(path, LABELS, encoding="utf-8")


def test_invalid_utf8_beyond_the_detection_sample(tmp_path: Path) -> None:
    body = "".join(f"C{i};{LIP};{i}\n" for i in range(120_000))  # > 4 MiB of UTF-8
    path = tmp_path / "LABELS.csv"
    path.write_bytes(("CODE;LABEL;N\n" + body).encode() + b"Z;l\xe8vre;1\n")
    with pytest.raises(SourceFileError, match=r"line 120002: not valid utf-8 text"):
        read_all(path, LABELS)


def test_bad_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(("CODE;LABEL;N\n" + "A;x;1\n" * 50_000).encode())
    (tmp_path / "LABELS.csv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(SourceFileError, match=r"^LABELS.csv.gz: corrupt or truncated gzip"):
        read_all(tmp_path / "LABELS.csv.gz", LABELS)
    (tmp_path / "OTHER.csv.gz").write_bytes(b"CODE;LABEL;N\nA;x;1\n")
    with pytest.raises(SourceFileError, match="gzip"):
        read_all(tmp_path / "OTHER.csv.gz", LABELS)


def test_truncated_parquet(tmp_path: Path) -> None:
    path = tmp_path / "LABELS.parquet"
    pq.write_table(pa.table({"CODE": ["A"] * 1000, "N": list(range(1000))}), path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(SourceFileError, match=r"^LABELS.parquet: not a readable Parquet file"):
        read_all(path, LABELS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "LABELS.csv: empty file (no header line)"),
        ("LABEL;N\nx;1\n", "LABELS.csv: missing required column(s) CODE"),
        ("CODE;code;N\nx;y;1\n", "LABELS.csv line 1: column CODE appears twice in the header"),
    ],
)
def test_header_problems_reject_the_file(tmp_path: Path, text: str, message: str) -> None:
    reader = read_source(write(tmp_path, "LABELS.csv", text), LABELS, pseudonymise=lambda a: a)
    with pytest.raises(SourceFileError) as err:
        list(reader)
    assert str(err.value) == message
    rec = reader.reconciliation
    assert rec.status == "rejected" and rec.error == message and rec.rows_read == 0
