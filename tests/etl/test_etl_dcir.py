"""Spec: DCIR claim lines, dispensings and outpatient visits.

SNDS_TO_OMOP.md §2.1 (DCIR cleaning), §3.3 (visit_occurrence), §3.7 (drug_exposure).
"""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)
from __future__ import annotations

from snds_spec import concept, run_snds

ONE_MAN = """
BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN
psa-1       | 1           | ano-1       | 1           | 1970
"""

ATORVASTATINE = "3400921740813"  # 30 tablets a box
PILL_21_7 = "3400921905137"  # "21+7": a count that is not a number of units
EYE_DROPS = "3400921937534"  # "1 / 2,5 ML": one bottle
NASAL_FILM = "3400921856767"  # "4 DOSES"
LAMOTRIGINE = "3400921966688"  # not in IR_PHA_R
IRBESARTAN = "3400921785586"


def test_information_only_lines_are_not_care() -> None:
    """§2.1: lines with DPN_QLF = 71 or PRS_DPN_QLP = 71 only inform (already paid
    elsewhere): excluded and counted. A NULL qualifier is an ordinary line."""
    omop = run_snds(
        IR_BEN_R=ONE_MAN,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE | DPN_QLF | PRS_DPN_QLP
        1           | psa-1       | 1           | 2020-01-10  | 1111        | 1           |         |
        2           | psa-1       | 1           | 2020-01-11  | 1111        | 1           | 0       | 0
        3           | psa-1       | 1           | 2020-01-12  | 1111        | 1           | 71      |
        4           | psa-1       | 1           | 2020-01-13  | 1111        | 1           |         | 71
        5           | psa-1       | 1           | 2020-01-14  | 1111        | 1           | 71      | 71
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_start_date | visit_end_date | visit_concept_id | visit_type_concept_id
        ano-1  | 2020-01-10       | 2020-01-10     | 9202             | 32810
        ano-1  | 2020-01-11       | 2020-01-11     | 9202             | 32810
        """,
    )
    assert omop.exclusions == {("ER_PRS_F", "information_only_line"): 3}


def test_claims_of_unknown_beneficiaries_are_counted() -> None:
    """§2.1, §2.3: a claim line whose (BEN_NIR_PSA, BEN_RNG_GEM) is no beneficiary, or
    only one excluded from the persons, makes nothing and is counted."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN
        psa-1       | 1           | ano-1       | 1           | 1970
        psa-9       | 1           | ano-9       | 9           | 1971
        """,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-1       | 1           | 2020-01-10  | 1111        | 1
        2           | psa-1       | 2           | 2020-01-11  | 1111        | 1
        3           | psa-x       | 1           | 2020-01-12  | 1111        | 1
        4           | psa-9       | 1           | 2020-01-13  | 1111        | 1
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_start_date
        ano-1  | 2020-01-10
        """,
    )
    assert omop.exclusions == {
        ("ER_PRS_F", "unknown_beneficiary"): 3,
        ("IR_BEN_R", "sex_not_1_or_2"): 1,
    }


def test_claim_under_a_second_psa_belongs_to_the_same_person() -> None:
    """§2.3: care billed under each of a person's BEN_NIR_PSA is the same person's."""
    omop = run_snds(
        IR_BEN_R="""
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_DTE_MAJ
        psa-child   | 1           | ano-1       | 2           | 2000        | 2016-01-01
        psa-own     | 1           | ano-1       | 2           | 2000        | 2019-01-01
        """,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-child   | 1           | 2017-05-02  | 1111        | 1
        2           | psa-own     | 1           | 2020-05-04  | 1111        | 1
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_start_date
        ano-1  | 2017-05-02
        ano-1  | 2020-05-04
        """,
    )
    assert omop.count("person") == 1


def test_cancelled_and_corrected_dispensing_nets_to_one_exposure() -> None:
    """§2.1 cancellations, §3.7: a dispensing of 2 boxes, its cancellation (-2) and the
    corrected line (1 box) are one drug_exposure of 1 box; the quantity is boxes × units
    per box (IR_PHA_R.PHA_UNT_NBR_DSES '30'), the exposure lasts 30 days (end = start +
    29), and the source is the 13-digit CIP13 with its local concept."""
    omop = run_snds(
        IR_BEN_R=ONE_MAN,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE | ETB_PRE_FIN
        1           | psa-1       | 1           | 2020-03-02  | 3313        | 2           | 750000001
        2           | psa-1       | 1           | 2020-03-02  | 3313        | -2          | 750000001
        3           | psa-1       | 1           | 2020-03-02  | 3313        | 1           | 750000001
        """,
        ER_PHA_F=f"""
        DCT_ORD_NUM | PHA_PRS_C13     | PHA_ACT_QSN
        1           | {ATORVASTATINE} | 2
        2           | {ATORVASTATINE} | -2
        3           | {ATORVASTATINE} | 1
        """,
        IR_PHA_R=f"""
        PHA_CIP_C13     | PHA_UNT_NBR_DSES
        {ATORVASTATINE} | 30
        """,
    )
    omop.check(
        "drug_exposure",
        f"""
        person | drug_source_value | drug_exposure_start_date | drug_exposure_end_date | quantity | days_supply | drug_type_concept_id | drug_concept_id
        ano-1  | {ATORVASTATINE}   | 2020-03-02               | 2020-03-31             | 30       |             | 32810                | 0
        """,
    )
    sources = omop.rows("drug_exposure", "drug_source_concept_id")
    assert sources == [(concept("CIP13", ATORVASTATINE),)]
    omop.check(
        "visit_occurrence",
        """
        person | visit_concept_id | visit_start_date | visit_end_date
        ano-1  | 581458           | 2020-03-02       | 2020-03-02
        """,
    )


def test_units_per_box() -> None:
    """§3.7: quantity = boxes × units per box; "n DOSES" and "n / x ML" count n units a
    box; a count with '+' (21+7) or no IR_PHA_R row leaves the quantity in boxes."""
    omop = run_snds(
        IR_BEN_R=ONE_MAN,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-1       | 1           | 2020-04-01  | 3313        | 6
        """,
        ER_PHA_F=f"""
        DCT_ORD_NUM | PHA_ORD_NUM | PHA_PRS_C13    | PHA_ACT_QSN
        1           | 1           | {PILL_21_7}    | 3
        1           | 2           | {EYE_DROPS}    | 2
        1           | 3           | {NASAL_FILM}   | 2
        1           | 4           | {LAMOTRIGINE}  | 1
        """,
        IR_PHA_R=f"""
        PHA_CIP_C13   | PHA_UNT_NBR_DSES
        {PILL_21_7}   | 21+7
        {EYE_DROPS}   | 1 / 2,5 ML
        {NASAL_FILM}  | 4 DOSES
        """,
    )
    omop.check(
        "drug_exposure",
        f"""
        drug_source_value | quantity
        {PILL_21_7}       | 3
        {EYE_DROPS}       | 2
        {NASAL_FILM}      | 8
        {LAMOTRIGINE}     | 1
        """,
    )


def test_fully_cancelled_dispensing_and_empty_cip13_give_no_exposure() -> None:
    """§2.1: a dispensing whose cancellation nets it to 0 boxes is no exposure, nor is a
    line with PHA_PRS_C13 = 0 (no code)."""
    omop = run_snds(
        IR_BEN_R=ONE_MAN,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-1       | 1           | 2020-04-06  | 3313        | 1
        2           | psa-1       | 1           | 2020-04-06  | 3313        | -1
        3           | psa-1       | 1           | 2020-05-11  | 3313        | 1
        4           | psa-1       | 1           | 2020-05-11  | 3313        | 1
        """,
        ER_PHA_F=f"""
        DCT_ORD_NUM | PHA_PRS_C13    | PHA_ACT_QSN
        1           | {IRBESARTAN}   | 1
        2           | {IRBESARTAN}   | -1
        3           | 0              | 1
        4           | {LAMOTRIGINE}  | 1
        """,
    )
    omop.check(
        "drug_exposure",
        f"""
        drug_source_value | drug_exposure_start_date | quantity
        {LAMOTRIGINE}     | 2020-05-11               | 1
        """,
    )
    # the rows left out are recorded with their file and line (the header is line 1)
    assert omop.excluded() == [
        ("ER_PHA_F", 2, "netted_to_zero"),
        ("ER_PHA_F", 3, "netted_to_zero"),
        ("ER_PHA_F", 4, "no_drug_code"),
        ("ER_PRS_F", 2, "netted_to_zero"),
        ("ER_PRS_F", 3, "netted_to_zero"),
    ]


def test_every_dcir_row_left_out_is_recorded_with_its_line() -> None:
    """§2.1: a cancellation whose original is not in the extract (the net is negative),
    a detail row without its claim line, the detail of an information-only line or of an
    unknown beneficiary's line, a surcharge act: each makes nothing, and each is recorded
    with its file, line and rule; the list is in the same order on every engine."""
    omop = run_snds(
        IR_BEN_R=ONE_MAN,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | PRS_NAT_REF | PRS_ACT_QTE | DPN_QLF | CPL_MAJ_TOP
        1           | psa-1       | 1           | 2020-04-06  | 3313        | -1          |         |
        2           | psa-1       | 1           | 2020-05-11  | 3313        | 1           | 71      |
        3           | psa-x       | 1           | 2020-05-12  | 3313        | 1           |         |
        4           | psa-1       | 1           | 2020-05-13  | 1111        | 1           |         |
        5           | psa-1       | 1           | 2020-05-13  | 1111        | 1           |         | 2
        """,
        ER_PHA_F=f"""
        DCT_ORD_NUM | PHA_PRS_C13    | PHA_ACT_QSN
        1           | {IRBESARTAN}   | -1
        2           | {IRBESARTAN}   | 1
        3           | {IRBESARTAN}   | 1
        9           | {IRBESARTAN}   | 1
        """,
        ER_CAM_F="""
        DCT_ORD_NUM | CAM_PRS_IDE
        4           | YYYY600
        5           | YYYY600
        4           |
        """,
    )
    assert omop.count("drug_exposure") == 0
    assert omop.count("procedure_occurrence") == 1
    assert omop.excluded() == [
        ("ER_CAM_F", 3, "surcharge_line"),
        ("ER_CAM_F", 4, "no_act_code"),
        ("ER_PHA_F", 2, "orphan_cancellation"),
        ("ER_PHA_F", 3, "information_only_line"),
        ("ER_PHA_F", 4, "unknown_beneficiary"),
        ("ER_PHA_F", 5, "no_claim_line"),
        ("ER_PRS_F", 2, "orphan_cancellation"),
        ("ER_PRS_F", 3, "information_only_line"),
        ("ER_PRS_F", 4, "unknown_beneficiary"),
    ]
    assert list(omop.exclusions) == sorted(omop.exclusions)


def test_visit_concept_from_prs_nat_ref() -> None:
    """§3.3: a DCIR visit's concept comes from PRS_NAT_REF through the HDH table
    (3313 pharmacy → 581458, 1111 consultation → 9202, 3211 biology → 32036); 1191,
    1192, 1193, 3103, 3104, 3105 and 1096 → 5083; a code the table lacks → 9202. Visits
    end on EXE_SOI_DTF, else on their start."""
    omop = run_snds(
        IR_BEN_R=ONE_MAN,
        ER_PRS_F="""
        DCT_ORD_NUM | BEN_NIR_PSA | BEN_RNG_GEM | EXE_SOI_DTD | EXE_SOI_DTF | PRS_NAT_REF | PRS_ACT_QTE
        1           | psa-1       | 1           | 2020-06-01  |             | 3313        | 1
        2           | psa-1       | 1           | 2020-06-02  | 2020-06-02  | 1111        | 1
        3           | psa-1       | 1           | 2020-06-03  |             | 3211        | 1
        4           | psa-1       | 1           | 2020-06-04  | 2020-06-09  | 1191        | 1
        5           | psa-1       | 1           | 2020-06-05  |             | 3104        | 1
        6           | psa-1       | 1           | 2020-06-06  |             | 1096        | 1
        7           | psa-1       | 1           | 2020-06-07  |             | 9997        | 1
        """,
    )
    omop.check(
        "visit_occurrence",
        """
        person | visit_start_date | visit_end_date | visit_concept_id | visit_type_concept_id
        ano-1  | 2020-06-01       | 2020-06-01     | 581458           | 32810
        ano-1  | 2020-06-02       | 2020-06-02     | 9202             | 32810
        ano-1  | 2020-06-03       | 2020-06-03     | 32036            | 32810
        ano-1  | 2020-06-04       | 2020-06-09     | 5083             | 32810
        ano-1  | 2020-06-05       | 2020-06-05     | 5083             | 32810
        ano-1  | 2020-06-06       | 2020-06-06     | 5083             | 32810
        ano-1  | 2020-06-07       | 2020-06-07     | 9202             | 32810
        """,
    )
