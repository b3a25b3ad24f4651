"""Rows the SNDS ETL chooses between are chosen by their values, never by the order they
arrive in: an engine that reads them in another order (Spark's partitions, DuckDB's
threads) keeps the same one. Each case runs the ETL twice, the second time with the rows
in reverse order, on each engine.

SNDS_TO_OMOP.md §3.1 (person: the latest beneficiary row) and §3.9 (death: the
certificate first).
"""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "etl"))

import snds_spec
from snds_spec import Omop, run_snds

from engine_choice import ENGINES


@pytest.fixture(autouse=True, params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    snds_spec.ENGINE["name"] = request.param
    yield request.param
    snds_spec.ENGINE["name"] = "duckdb"


def reversed_rows(text: str) -> str:
    header, *rows = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join([header, *reversed(rows)])


def both_orders(**tables: str) -> tuple[Omop, Omop]:
    return run_snds(**tables), run_snds(**{k: reversed_rows(v) for k, v in tables.items()})


DISPENSING = """
    DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
    1           | psa-1       | 1           | 2020-03-02  | 1111        | 1
"""


def test_two_death_certificates_of_one_day_keep_the_first_cause() -> None:
    """Two certificates for one person on the same day: the first cause code is kept,
    whichever row comes first."""
    for omop in both_orders(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_IDT_ANO | BEN_SEX_COD | BEN_NAI_ANN
        psa-1       | 1           | ano-1       | idt-1       | 1           | 1950
        """,
        ER_PRS_F=DISPENSING,
        KI_CCI_R="""
        BEN_IDT_ANO | BEN_DCD_DTE | DCD_CIM_COD
        idt-1       | 2020-12-01  | I219
        idt-1       | 2020-12-01  | C349
        idt-1       | 2020-12-01  |
        """,
    ):
        omop.check(
            "death",
            """
            person | death_date | death_type_concept_id | cause_source_value
            ano-1  | 2020-12-01 | 32815                 | C349
            """,
        )


def test_beneficiary_rows_updated_the_same_day_give_one_person_whatever_their_order() -> None:
    """Rows of one beneficiary (same BEN_NIR_PSA and rank) updated the same day but with
    different sex and birth: the person, and the birth its observation period starts
    from, come from the same row in both orders (the lower sex code, then the earlier
    birth). ano-2 opens the extract on 2020-01-06; ano-1, born in January 2020, is
    covered from then (from February, had the row born in February been kept)."""
    for omop in both_orders(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_IDT_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_NAI_MOI | BEN_DTE_MAJ
        psa-1       | 1           | ano-1       | idt-1       | 2           | 2020        | 1           | 2019-01-01
        psa-1       | 1           | ano-1       | idt-1       | 1           | 2020        | 2           | 2019-01-01
        psa-1       | 1           | ano-1       | idt-1       | 1           | 2020        | 1           | 2019-01-01
        psa-1       | 1           | ano-1       | idt-1       | 1           | 2020        |             | 2019-01-01
        psa-1       | 1           | ano-1       | idt-1       | 2           | 2019        | 12          | 2018-01-01
        psa-2       | 1           | ano-2       | idt-2       | 2           | 1970        | 5           | 2019-01-01
        """,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-1       | 1           | 2020-03-02  | 1111        | 1
        2           | psa-2       | 1           | 2020-01-06  | 1111        | 1
        """,
    ):
        omop.check(
            "person",
            """
            person | gender_concept_id | year_of_birth | month_of_birth | gender_source_value
            ano-1  | 8507              | 2020          | 1              | 1
            ano-2  | 8532              | 1970          | 5              | 2
            """,
        )
        omop.check(
            "observation_period",
            """
            person | observation_period_start_date | observation_period_end_date
            ano-1  | 2020-01-06                    | 2020-03-02
            ano-2  | 2020-01-06                    | 2020-03-02
            """,
        )
