"""Spec: the ETL's ids are a function of the source keys, so a re-run reproduces them.

SNDS_TO_OMOP.md §3 (conventions: primary keys hashed from the source key) and §5.3
(hash the row key, not the code).
"""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from snds_spec import run_snds, sorted_table

EXTRACT = {
    "IR_BEN_R": """
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_IDT_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_DTE_MAJ
        psa-1a      | 1           | ano-1       | idt-1       | 1           | 1950        | 2010-01-01
        psa-1b      | 1           | ano-1       | idt-1       | 1           | 1950        | 2015-01-01
        psa-2       | 1           |             | idt-2       | 2           | 1984        |
        psa-2       | 2           |             | idt-3       | 2           | 1984        |
        psa-3       | 1           | ano-3       | idt-4       | 9           | 1990        |
    """,
    "ER_PRS_F": """
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE | DPN_QLF
        1           | psa-1a      | 1           | 2020-03-02  | 3313        | 2           |
        2           | psa-1b      | 1           | 2020-03-02  | 3313        | -2          |
        3           | psa-1b      | 1           | 2020-03-02  | 3313        | 1           |
        4           | psa-2       | 2           | 2020-05-04  | 1111        | 1           |
        5           | psa-2       | 1           | 2020-05-04  | 1111        | 1           |
        6           | psa-2       | 1           | 2020-06-08  | 1111        | 1           | 71
        7           | psa-x       | 1           | 2020-06-09  | 1111        | 1           |
        9           | psa-2       | 1           | 2020-05-04  | 1324        | 1           |
    """,
    "ER_PHA_F": """
        DCT_ORD_NUM | PHA_PRS_C13   | PHA_ACT_QSN
        1           | 3400921740813 | 2
        2           | 3400921740813 | -2
        3           | 3400921740813 | 1
    """,
    "ER_CAM_F": """
        DCT_ORD_NUM | CAM_PRS_IDE
        9           | ZCQM001
    """,
    "IR_PHA_R": """
        PHA_CIP_C13   | PHA_UNT_NBR_DSES
        3400921740813 | 30
    """,
    "T_MCOaaB": """
        PMSI_YEAR | ETA_NUM   | RSA_NUM | ENT_PRV | DGN_PAL | DGN_REL
        2019      | 010000001 | 0000042 | 5       | I219    | E119
        2020      | 010000001 | 0000042 | 8       | J189    |
    """,
    "T_MCOaaC": """
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF
        2019      | 010000001 | 0000042 | psa-1a     | 2019-11-04  | 2019-11-08
        2020      | 010000001 | 0000042 | psa-2      | 2020-01-20  | 2020-01-22
    """,
    "T_MCOaaD": """
        PMSI_YEAR | ETA_NUM   | RSA_NUM | ASS_DGN
        2019      | 010000001 | 0000042 | I10
        2019      | 010000001 | 0000042 | I219
    """,
    "KI_CCI_R": """
        BEN_IDT_ANO | BEN_DCD_DTE | DCD_CIM_COD
        idt-1       | 2020-12-01  | I219
    """,
}

ANOTHER_PERSON = {
    "IR_BEN_R": "psa-9 | 1 | ano-9 | idt-9 | 2 | 1975 |",
    "ER_PRS_F": "8 | psa-9 | 1 | 2020-03-02 | 3313 | 1 |",
    "ER_PHA_F": "8 | 3400921740813 | 1",
}


def reversed_rows(text: str) -> str:
    header, *rows = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join([header, *reversed(rows)])


def test_running_twice_gives_identical_tables() -> None:
    """Two runs over the same extract, the second with every table's rows in reverse
    order, give the same tables, ids included, and the same accounting."""
    first = run_snds(**EXTRACT)
    second = run_snds(**{name: reversed_rows(text) for name, text in EXTRACT.items()})
    assert first.tables.keys() == second.tables.keys()
    for name, table in first.tables.items():
        assert table.num_rows > 0, f"{name}: the extract should fill every table"
        assert sorted_table(table).equals(sorted_table(second.tables[name])), name
    assert first.exclusions == second.exclusions
    assert sorted_table(first.link).equals(sorted_table(second.link))


def test_another_person_changes_no_id_of_the_others() -> None:
    """Ids come from each row's own source key: adding a person to the extract leaves
    every id of the other persons' rows as it was (their dispensing falls inside the
    extract, so the observation periods stay as they were too)."""
    alone = run_snds(**EXTRACT)
    more = dict(EXTRACT)
    for name, row in ANOTHER_PERSON.items():
        more[name] = EXTRACT[name].rstrip() + "\n" + row
    together = run_snds(**more)
    newcomer = [
        pid
        for pid, label in together.person_labels().items()
        if label not in alone.person_labels().values()
    ]
    assert len(newcomer) == 1
    for name, table in alone.tables.items():
        others = together.tables[name].filter(
            pc.invert(
                pc.is_in(
                    together.tables[name]["person_id"], value_set=pa.array(newcomer, pa.int64())
                )
            )
        )
        assert sorted_table(table).equals(sorted_table(others)), name
