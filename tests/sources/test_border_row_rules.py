"""Checks that compare the columns of one row, and exact copies of rows in tables that
declare no primary key."""

from __future__ import annotations

from pathlib import Path

from border_helpers import read_all

HEADER = "ETA_NUM;RSA_NUM;NIR_ANO_17;EXE_SOI_DTD;EXE_SOI_DTF"


def test_a_stay_ending_before_it_starts_is_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "T_MCO19C.csv"
    path.write_text(
        f"{HEADER}\n"
        "920001377;1;AAAAAAAAAAAAAAAAA;01JAN2019:00:00:00;05JAN2019:00:00:00\n"
        "920001377;2;BBBBBBBBBBBBBBBBB;05JAN2019:00:00:00;01JAN2019:00:00:00\n"
        "920001377;3;CCCCCCCCCCCCCCCCC;07JAN2019:00:00:00;07JAN2019:00:00:00\n"
        "920001377;4;DDDDDDDDDDDDDDDDD;07JAN2019:00:00:00;\n"
    )
    out = read_all(path)
    assert out.reasons_by_line() == {3: ("out_of_range", "EXE_SOI_DTF")}
    detail = out.quarantine["detail"][0].as_py()
    assert "EXE_SOI_DTF" in detail and "before EXE_SOI_DTD" in detail
    assert "01JAN2019" in detail and "05JAN2019" in detail
    assert out.valid_lines == [2, 4, 5]  # same day, and no exit date, are fine
    assert out.reconciliation.quarantined_by_reason == {"out_of_range": 1}


def test_an_earlier_failure_of_the_row_wins(tmp_path: Path) -> None:
    path = tmp_path / "T_MCO19C.csv"
    path.write_text(
        f"{HEADER}\n"
        "920001377;1;AAAAAAAAAAAAAAAAA;05JAN2019:00:00:00;01JAN2019:00:00:00\n"
        "920001377;1;BBBBBBBBBBBBBBBBB;05JAN2019:00:00:00;01JAN2019:00:00:00\n"
        "920001377;2;;05JAN2019:00:00:00;01JAN2019:00:00:00\n"
    )
    out = read_all(path)
    # a row quarantined for its dates is no occurrence of its key: the second is not a
    # duplicate of it
    assert out.reasons_by_line() == {
        2: ("out_of_range", "EXE_SOI_DTF"),
        3: ("out_of_range", "EXE_SOI_DTF"),
        4: ("missing_identifier", "NIR_ANO_17"),
    }


PHA_HEADER = (
    "FLX_DIS_DTD;FLX_TRT_DTD;FLX_EMT_TYP;FLX_EMT_NUM;FLX_EMT_ORD;ORG_CLE_NUM;DCT_ORD_NUM;"
    "PRS_ORD_NUM;REM_TYP_AFF;PHA_PRS_C13;PHA_ACT_QSN"
)
KEY = "2021-01-01;2020-12-28;1;11;1;01C011000"


def test_an_exact_copy_in_a_table_without_key_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "ER_PHA_F.csv"
    path.write_text(
        f"{PHA_HEADER}\n"
        f"{KEY};1;1;1;3400935337023;2\n"
        f"{KEY};1;1;1;3400935337023;2\n"  # the same dispensing, delivered twice
        f"{KEY};1;1;1;3400935337023;-2\n"  # a regularisation: only the sign differs
        f"{KEY};2;1;1;3400935337023;2\n"  # another claim line
        f"{KEY};1;1;1; 3400935337023;+2\n"  # the same values once typed
        f"{KEY};1;1;1;3400935337023;2\n"
    )
    out = read_all(path)
    assert out.reasons_by_line() == {3: ("duplicate_key", "*"), 6: ("duplicate_key", "*"),
                                     7: ("duplicate_key", "*")}  # fmt: skip
    assert out.quarantine["detail"][0].as_py().startswith("exact copy of an earlier row")
    assert out.valid_lines == [2, 4, 5]
    assert out.reconciliation.duplicate_keys_checked
