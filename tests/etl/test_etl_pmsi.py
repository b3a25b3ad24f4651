"""Spec: PMSI MCO stays, the stays left out, and their diagnoses.

SNDS_TO_OMOP.md §1 (PMSI keys), §2.2 (PMSI cleaning), §3.3 (visit_occurrence),
§3.5 (condition_occurrence).
"""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)
from __future__ import annotations

import pytest
from snds_spec import concept, run_snds

BENEFICIARIES = """
BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN
psa-1       | 1           | ano-1       | 1           | 1950
psa-2       | 1           | ano-2       | 2           | 1960
"""


def test_stay_visit_concept_and_dates() -> None:
    """§3.3: a stay is an inpatient visit (9201), or 262 (emergency room and inpatient)
    when the patient came through the emergency department (ENT_PRV '5'); its dates are
    T_MCOaaC.EXE_SOI_DTD and EXE_SOI_DTF."""
    omop = run_snds(
        IR_BEN_R=BENEFICIARIES,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | ENT_PRV | DGN_PAL
        2020      | 010000001 | 1       | 5       | I219
        2020      | 010000001 | 2       | 8       | J189
        2020      | 010000001 | 3       |         | J189
        """,
        T_MCOaaC="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD         | EXE_SOI_DTF
        2020      | 010000001 | 1       | psa-1      | 2020-03-01 22:40:00 | 2020-03-09 11:00:00
        2020      | 010000001 | 2       | psa-2      | 2020-04-14 00:00:00 | 2020-04-16 00:00:00
        2020      | 010000001 | 3       | psa-2      | 2020-10-01 00:00:00 | 2020-10-01 00:00:00
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_concept_id | visit_start_date | visit_end_date | visit_type_concept_id | admitted_from_source_value
        ano-1  | 262              | 2020-03-01       | 2020-03-09     | 32810                 | 5
        ano-2  | 9201             | 2020-04-14       | 2020-04-16     | 32810                 | 8
        ano-2  | 9201             | 2020-10-01       | 2020-10-01     | 32810                 |
        """,
    )
    assert omop.exclusions == {}


def test_stays_left_out_are_counted_by_rule() -> None:
    """§2.2: stays without a start date, of an error grouping (GRG_GHM '90…'), between
    establishments (SEJ_TYP 'B'), under an AP-HP legal FINESS until 2017 (duplicates of
    the geographic one; kept from 2018), or of a placeholder patient number
    (NIR_ANO_17 'XXXXXXXXXXXXXXXXX', 'XXXXXXXXXXXXXXXXD': never pseudonymised) are left
    out; each is counted under its rule, as are stays of unknown patients and chaining
    rows without a stay."""
    omop = run_snds(
        IR_BEN_R=BENEFICIARIES,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | GRG_GHM | SEJ_TYP | DGN_PAL
        2019      | 010000001 | 1       | 05M09T  |         | I10
        2019      | 010000001 | 2       | 90Z00Z  |         | I10
        2019      | 010000001 | 3       | 05M09T  | B       | I10
        2017      | 750100042 | 4       | 05M09T  |         | I10
        2018      | 750100042 | 4       | 05M09T  |         | I10
        2019      | 010000001 | 6       | 05M09T  |         | I10
        2019      | 010000001 | 7       | 05M09T  |         | I10
        2019      | 010000001 | 8       | 05M09T  |         | I10
        2019      | 010000001 | 9       | 05M09T  |         | I10
        """,
        T_MCOaaC="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17        | EXE_SOI_DTD | EXE_SOI_DTF
        2019      | 010000001 | 1       | psa-1             | 2019-01-07  | 2019-01-09
        2019      | 010000001 | 2       | psa-1             | 2019-02-04  | 2019-02-06
        2019      | 010000001 | 3       | psa-1             | 2019-03-04  | 2019-03-06
        2017      | 750100042 | 4       | psa-2             | 2017-04-03  | 2017-04-05
        2018      | 750100042 | 4       | psa-2             | 2018-04-02  | 2018-04-04
        2019      | 010000001 | 6       | psa-2             |             |
        2019      | 010000001 | 7       | XXXXXXXXXXXXXXXXX | 2019-07-01  | 2019-07-03
        2019      | 010000001 | 8       | XXXXXXXXXXXXXXXXD | 2019-08-05  | 2019-08-07
        2019      | 010000001 | 9       | psa-unknown       | 2019-09-02  | 2019-09-04
        2019      | 010000001 | 10      | psa-1             | 2019-10-07  | 2019-10-09
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_start_date | visit_end_date
        ano-1  | 2019-01-07       | 2019-01-09
        ano-2  | 2018-04-02       | 2018-04-04
        """,
    )
    assert omop.exclusions == {
        ("T_MCOaaC", "error_grouping_90"): 1,
        ("T_MCOaaC", "inter_establishment_stay"): 1,
        ("T_MCOaaC", "legal_finess_duplicate"): 1,
        ("T_MCOaaC", "no_stay_date"): 1,
        ("T_MCOaaC", "placeholder_identifier"): 2,
        ("T_MCOaaC", "unknown_beneficiary"): 1,
        ("T_MCOaaC", "stay_without_T_MCOaaB"): 1,
        # the stay row (T_MCOaaB) of a left-out stay goes with it, under the same rule
        ("T_MCOaaB", "error_grouping_90"): 1,
        ("T_MCOaaB", "inter_establishment_stay"): 1,
        ("T_MCOaaB", "legal_finess_duplicate"): 1,
        ("T_MCOaaB", "no_stay_date"): 1,
        ("T_MCOaaB", "placeholder_identifier"): 2,
        ("T_MCOaaB", "unknown_beneficiary"): 1,
    }
    # each with its file and line (the header is line 1)
    assert [e for e in omop.excluded() if e[0] == "T_MCOaaC"] == [
        ("T_MCOaaC", 3, "error_grouping_90"),
        ("T_MCOaaC", 4, "inter_establishment_stay"),
        ("T_MCOaaC", 5, "legal_finess_duplicate"),
        ("T_MCOaaC", 7, "no_stay_date"),
        ("T_MCOaaC", 8, "placeholder_identifier"),
        ("T_MCOaaC", 9, "placeholder_identifier"),
        ("T_MCOaaC", 10, "unknown_beneficiary"),
        ("T_MCOaaC", 11, "stay_without_T_MCOaaB"),
    ]
    assert omop.count("condition_occurrence") == 2, "diagnoses of the kept stays only"


RET_FLAGS = [
    ("NIR_RET", "true"),
    ("NAI_RET", "1"),
    ("SEX_RET", "true"),
    ("SEJ_RET", "true"),
    ("FHO_RET", "true"),
    ("PMS_RET", "true"),
    ("DAT_RET", "1"),
    ("COH_NAI_RET", "true"),
    ("COH_SEX_RET", "true"),
]


@pytest.mark.parametrize(("flag", "error"), RET_FLAGS)
def test_stay_with_a_chaining_flag_not_0_is_left_out(flag: str, error: str) -> None:
    """§2.2: every chaining flag of T_MCOaaC (NIR_RET, NAI_RET, SEX_RET, SEJ_RET,
    FHO_RET, PMS_RET, DAT_RET, COH_NAI_RET, COH_SEX_RET) must be 0; a stay with one
    that is not is left out and counted."""
    ok = "false" if error == "true" else "0"
    omop = run_snds(
        IR_BEN_R=BENEFICIARIES,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | DGN_PAL
        2019      | 010000001 | 1       | I10
        2019      | 010000001 | 2       | I10
        """,
        T_MCOaaC=f"""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF | {flag}
        2019      | 010000001 | 1       | psa-1      | 2019-01-07  | 2019-01-09  | {ok}
        2019      | 010000001 | 2       | psa-1      | 2019-05-13  | 2019-05-15  | {error}
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_start_date
        ano-1  | 2019-01-07
        """,
    )
    assert omop.exclusions == {
        ("T_MCOaaB", "chaining_flag_not_0"): 1,
        ("T_MCOaaC", "chaining_flag_not_0"): 1,
    }
    assert omop.excluded() == [
        ("T_MCOaaB", 3, "chaining_flag_not_0"),
        ("T_MCOaaC", 3, "chaining_flag_not_0"),
    ]


def test_a_stay_without_its_chaining_row_is_excluded_not_lost() -> None:
    """§2.2: a stay (T_MCOaaB) needs its chaining row (T_MCOaaC: patient and dates); one
    without is left out under its own rule, with its line, and so are its diagnoses
    (T_MCOaaD) — every staged row is loaded or excluded."""
    omop = run_snds(
        IR_BEN_R=BENEFICIARIES,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | DGN_PAL
        2019      | 010000001 | 1       | I10
        2019      | 010000001 | 2       | K922
        2020      | 010000001 | 1       | K922
        """,
        T_MCOaaC="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF
        2019      | 010000001 | 1       | psa-1      | 2019-01-07  | 2019-01-09
        """,
        T_MCOaaD="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | ASS_DGN
        2019      | 010000001 | 1       | E119
        2019      | 010000001 | 1       |
        2019      | 010000001 | 2       | E119
        2019      | 010000001 | 3       | E119
        """,
    )
    assert omop.count("visit_occurrence") == 1
    assert omop.excluded() == [
        ("T_MCOaaB", 3, "no_chaining_row"),
        ("T_MCOaaB", 4, "no_chaining_row"),  # same stay number, another year
        ("T_MCOaaD", 3, "no_diagnosis_code"),
        ("T_MCOaaD", 4, "stay_left_out"),
        ("T_MCOaaD", 5, "stay_without_T_MCOaaB"),
    ]
    assert omop.accounting.loaded == {"IR_BEN_R": 2, "T_MCOaaB": 1, "T_MCOaaC": 1, "T_MCOaaD": 1}


def test_diagnoses_of_a_stay() -> None:
    """§3.5: DGN_PAL is a primary condition (status 32902), DGN_REL and every ASS_DGN
    secondary (32908); a code already primary is not repeated as associated, while the
    same code in another stay is another condition. Codes are stored without their dot
    (K92.2 → K922); the source concept is the CIM-10 concept, and the standard concept
    0 since no mapping to a standard vocabulary is loaded. Dates are the stay's."""
    omop = run_snds(
        IR_BEN_R=BENEFICIARIES,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | DGN_PAL | DGN_REL
        2019      | 010000001 | 1       | K92.2   | E119
        2019      | 010000001 | 2       | K922    |
        """,
        T_MCOaaC="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF
        2019      | 010000001 | 1       | psa-1      | 2019-02-01  | 2019-02-05
        2019      | 010000001 | 2       | psa-1      | 2019-06-10  | 2019-06-12
        """,
        T_MCOaaD="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | ASS_DGN
        2019      | 010000001 | 1       | K922
        2019      | 010000001 | 1       | I10
        2019      | 010000001 | 1       | j18.9
        """,
    )
    omop.check(
        "condition_occurrence",
        """
        person | condition_source_value | condition_status_concept_id | condition_status_source_value | condition_start_date | condition_end_date | condition_concept_id | condition_type_concept_id
        ano-1  | K922                   | 32902                       | DGN_PAL                       | 2019-02-01           | 2019-02-05         | 0                    | 32810
        ano-1  | E119                   | 32908                       | DGN_REL                       | 2019-02-01           | 2019-02-05         | 0                    | 32810
        ano-1  | I10                    | 32908                       | ASS_DGN                       | 2019-02-01           | 2019-02-05         | 0                    | 32810
        ano-1  | J189                   | 32908                       | ASS_DGN                       | 2019-02-01           | 2019-02-05         | 0                    | 32810
        ano-1  | K922                   | 32902                       | DGN_PAL                       | 2019-06-10           | 2019-06-12         | 0                    | 32810
        """,
    )
    sources = dict(
        omop.rows("condition_occurrence", "condition_source_value | condition_source_concept_id")
    )
    assert sources == {code: concept("CIM10", code) for code in ("K922", "E119", "I10", "J189")}
    # each condition is attached to its own stay
    visits = omop.rows("condition_occurrence", "condition_start_date | visit_occurrence_id")
    assert len({visit for _, visit in visits}) == 2


def test_same_stay_number_in_two_years_is_two_visits() -> None:
    """§1: ETA_NUM + RSA_NUM is unique only within a year: the same numbers in 2019 and
    2020 are two stays, each with its own diagnoses."""
    omop = run_snds(
        IR_BEN_R=BENEFICIARIES,
        T_MCOaaB="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | DGN_PAL
        2019      | 010000001 | 0000042 | I10
        2020      | 010000001 | 0000042 | J189
        """,
        T_MCOaaC="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF
        2019      | 010000001 | 0000042 | psa-1      | 2019-11-04  | 2019-11-08
        2020      | 010000001 | 0000042 | psa-2      | 2020-01-20  | 2020-01-22
        """,
        T_MCOaaD="""
        PMSI_YEAR | ETA_NUM   | RSA_NUM | ASS_DGN
        2019      | 010000001 | 0000042 | E119
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_concept_id | visit_start_date | visit_end_date
        ano-1  | 9201             | 2019-11-04       | 2019-11-08
        ano-2  | 9201             | 2020-01-20       | 2020-01-22
        """,
    )
    omop.check(
        "condition_occurrence",
        """
        person | condition_source_value | condition_status_concept_id | condition_start_date
        ano-1  | I10                    | 32902                       | 2019-11-04
        ano-1  | E119                   | 32908                       | 2019-11-04
        ano-2  | J189                   | 32902                       | 2020-01-20
        """,
    )
