"""Spec: who is a person, when they died, and when they are observed.

SNDS_TO_OMOP.md §2.3 (identity), §3.1 (person), §3.9 (death), §3.2 (observation period).
"""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)
from __future__ import annotations

from snds_spec import concept, run_snds


def test_one_person_per_own_nir_whatever_the_number_of_psa() -> None:
    """§2.3: persons are keyed on BEN_NIR_ANO when it is filled. A person covered first
    as a child and then in their own right has two BEN_NIR_PSA rows: one person, whose
    demographics come from the latest row (BEN_DTE_MAJ)."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA  | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_NAI_MOI | BEN_DTE_MAJ
        psa-parent-1 | 1           | ano-1       | 2           | 1990        | 4           | 2005-06-01
        psa-own-1    | 1           | ano-1       | 2           | 1990        | 5           | 2012-03-15
        psa-2        | 1           | ano-2       | 1           | 1955        | 11          | 2019-01-01
        """,
    )
    omop.check(
        "person",
        """
        person | gender_concept_id | year_of_birth | month_of_birth | race_concept_id | ethnicity_concept_id
        ano-1  | 8532              | 1990          | 5              | 0               | 0
        ano-2  | 8507              | 1955          | 11             | 0               | 0
        """,
    )
    assert omop.exclusions == {}


def test_latest_row_wins_even_when_listed_first() -> None:
    """§3.1: the beneficiary row with the latest BEN_DTE_MAJ gives the demographics,
    whatever the order of the rows."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_NAI_MOI | BEN_DTE_MAJ
        psa-b       | 1           | ano-1       | 1           | 1971        | 2           | 2021-09-30
        psa-a       | 1           | ano-1       | 1           | 1970        | 12          | 2003-01-01
        """,
    )
    omop.check(
        "person",
        """
        person | year_of_birth | month_of_birth
        ano-1  | 1971          | 2
        """,
    )


def test_without_own_nir_same_sex_twins_are_two_persons() -> None:
    """§2.3: without BEN_NIR_ANO a person is BEN_NIR_PSA + BEN_RNG_GEM. Same-sex twins
    share their BEN_NIR_PSA and differ by rank: two persons, each with their own care."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_SEX_COD | BEN_NAI_ANN | BEN_NAI_MOI
        psa-twins   | 1           | 1           | 2015        | 7
        psa-twins   | 2           | 1           | 2015        | 7
        """,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-twins   | 1           | 2020-02-03  | 1111        | 1
        2           | psa-twins   | 2           | 2020-02-10  | 1111        | 1
        """,
    )
    persons = omop.rows("person", "person | gender_concept_id | year_of_birth | month_of_birth")
    assert len(persons) == 2
    assert {p[1:] for p in persons} == {(8507, 2015, 7)}
    visits = omop.rows("visit_occurrence", "person | visit_start_date")
    assert len({person for person, _ in visits}) == 2, "each twin has their own visit"


def test_sex_other_than_1_or_2_is_excluded_and_counted() -> None:
    """§3.1: BEN_SEX_COD 1 → 8507, 2 → 8532; other values (9 = unknown) are not persons,
    and the excluded rows are counted."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN
        psa-1       | 1           | ano-1       | 1           | 1960
        psa-2       | 1           | ano-2       | 2           | 1961
        psa-3       | 1           | ano-3       | 9           | 1962
        """,
    )
    omop.check(
        "person",
        """
        person | gender_concept_id | gender_source_value
        ano-1  | 8507              | 1
        ano-2  | 8532              | 2
        """,
    )
    assert omop.exclusions == {("IR_BEN_R", "sex_not_1_or_2"): 1}


def test_death_certificate_wins_over_beneficiary_record() -> None:
    """§3.9: death_date and cause come from the death certificate (KI_CCI_R, type 32815)
    when there is one, else from IR_BEN_R.BEN_DCD_DTE (type 32810, no cause);
    BEN_DCD_DTE 1600-01-01 means alive. The cause is a CIM-10 source concept."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_IDT_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_DCD_DTE
        psa-1       | 1           | ano-1       | idt-1       | 1           | 1940        | 2020-05-02
        psa-2       | 1           | ano-2       | idt-2       | 2           | 1941        | 2021-01-15
        psa-3       | 1           | ano-3       | idt-3       | 1           | 1942        | 1600-01-01
        psa-4       | 1           | ano-4       | idt-4       | 2           | 1943        |
        """,
        KI_CCI_R="""
        BEN_IDT_ANO | BEN_DCD_DTE | DCD_CIM_COD
        idt-1       | 2020-04-30  | I219
        idt-9       | 2020-07-01  | C509
        """,
    )
    omop.check(
        "death",
        """
        person | death_date | death_type_concept_id | cause_source_value | cause_concept_id
        ano-1  | 2020-04-30 | 32815                 | I219               | 0
        ano-2  | 2021-01-15 | 32810                 |                    | 0
        """,
    )
    causes = omop.rows("death", "cause_source_value | cause_source_concept_id")
    assert causes == [("I219", concept("CIM10", "I219")), (None, 0)]
    assert omop.exclusions == {("KI_CCI_R", "unknown_beneficiary"): 1}


def test_observation_period_covers_the_extract_from_birth_to_death() -> None:
    """§3.2: every person has one observation period: from the first day of the extract
    (or their birth month) to its last day (or their death, as the death table gives it),
    widened to any event of theirs outside it. Persons without any event have one too.
    Here the extract runs from 2020-01-06 (ano-a's first visit) to 2020-12-18 (their
    last)."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_IDT_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_NAI_MOI | BEN_DCD_DTE | BEN_DTE_MAJ
        psa-a       | 1           | ano-a       | idt-a       | 1           | 1980        | 1           | 1600-01-01  |
        psa-b       | 1           | ano-b       | idt-b       | 2           | 1981        | 2           | 1600-01-01  |
        psa-c       | 1           | ano-c       | idt-c       | 1           | 1950        | 3           | 1600-01-01  |
        psa-d       | 1           | ano-d       | idt-d       | 2           | 2020        | 6           | 1600-01-01  |
        psa-e       | 1           | ano-e       | idt-e       | 1           | 1930        | 4           | 2020-05-01  |
        psa-f       | 1           | ano-f       | idt-f       | 2           | 1931        | 5           | 2020-02-01  |
        psa-g       | 1           | ano-g       | idt-g       | 1           | 1932        | 6           | 1600-01-01  |
        psa-h1      | 1           | ano-h       | idt-h       | 1           | 2019        | 12          | 1600-01-01  | 2020-03-01
        psa-h2      | 1           | ano-h       | idt-h       | 1           | 2020        | 8           | 1600-01-01  | 2020-10-01
        """,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-a       | 1           | 2020-01-06  | 1111        | 1
        2           | psa-a       | 1           | 2020-12-18  | 1111        | 1
        3           | psa-f       | 1           | 2020-02-20  | 1111        | 1
        """,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | DGN_PAL
        2020      | 010000001 | 1       | J189
        """,
        T_MCOaaC="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF
        2020      | 010000001 | 1       | psa-b      | 2020-03-02  | 2020-03-06
        """,
        KI_CCI_R="""
        BEN_IDT_ANO | BEN_DCD_DTE
        idt-g       | 2020-04-10
        """,
    )
    omop.check(
        "observation_period",
        """
        person | observation_period_start_date | observation_period_end_date | period_type_concept_id
        ano-a  | 2020-01-06                    | 2020-12-18                  | 44814724
        ano-b  | 2020-01-06                    | 2020-12-18                  | 44814724
        ano-c  | 2020-01-06                    | 2020-12-18                  | 44814724
        ano-d  | 2020-06-01                    | 2020-12-18                  | 44814724
        ano-e  | 2020-01-06                    | 2020-05-01                  | 44814724
        ano-f  | 2020-01-06                    | 2020-02-20                  | 44814724
        ano-g  | 2020-01-06                    | 2020-04-10                  | 44814724
        ano-h  | 2020-08-01                    | 2020-12-18                  | 44814724
        """,
    )
    omop.check(
        "person",
        """
        person | year_of_birth | month_of_birth
        ano-a  | 1980          | 1
        ano-b  | 1981          | 2
        ano-c  | 1950          | 3
        ano-d  | 2020          | 6
        ano-e  | 1930          | 4
        ano-f  | 1931          | 5
        ano-g  | 1932          | 6
        ano-h  | 2020          | 8
        """,
    )
