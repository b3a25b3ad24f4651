"""The clinical world, as data: chronic conditions, treatments, town care, billing noise.

Every code written here is checked against its nomenclature when the catalogue is built
(``catalogue.py``); a code missing from the reference files stops the generator. GHM roots
and LOINC codes have no local nomenclature and are listed with their official labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Extraction period (inclusive) and PMSI years.
PERIOD_START = (2019, 1, 1)
PERIOD_END = (2023, 12, 31)
PMSI_YEARS = (2019, 2020, 2021, 2022, 2023)


@dataclass(frozen=True)
class Condition:
    """A chronic condition. Prevalence at age a: pmax * sex factor * sigmoid((a - a50) / scale
    + frailty), multiplied by ``raised_by`` factors of conditions the person already has."""

    name: str
    codes: tuple[str, ...]  # CIM-10, first is the usual one; a person gets one of them
    pmax: float
    a50: float
    scale: float
    male: float = 1.0
    female: float = 1.0
    raised_by: tuple[tuple[str, float], ...] = ()
    mortality: float = 1.0  # hazard ratio of death
    treatments: tuple[tuple[str, float], ...] = ()  # (ATC, probability of being on it)
    min_age: float = 0.0


CONDITIONS: tuple[Condition, ...] = (
    Condition(
        name="diabetes_t2",
        codes=("E119", "E118", "E112"),
        pmax=0.21,
        a50=64,
        scale=9,
        male=1.3,
        female=0.8,
        mortality=1.3,
        min_age=25,
        treatments=(("A10BA02", 0.78), ("A10BB09", 0.22), ("A10BH01", 0.15), ("A10AE04", 0.12)),
    ),
    Condition(
        name="hypertension",
        codes=("I10",),
        pmax=0.62,
        a50=63,
        scale=9,
        male=1.1,
        mortality=1.1,
        min_age=25,
        treatments=(
            ("C08CA01", 0.35),
            ("C09AA05", 0.22),
            ("C09AA04", 0.18),
            ("C09CA03", 0.18),
            ("C03AA03", 0.15),
            ("C07AB07", 0.10),
        ),
    ),
    Condition(
        name="dyslipidaemia",
        codes=("E785",),
        pmax=0.38,
        a50=60,
        scale=8,
        male=1.2,
        min_age=30,
        treatments=(("C10AA05", 0.35), ("C10AA07", 0.20), ("C10AA01", 0.12)),
    ),
    Condition(
        name="hypothyroidism",
        codes=("E039",),
        pmax=0.09,
        a50=55,
        scale=10,
        male=0.2,
        min_age=15,
        treatments=(("H03AA01", 0.9),),
    ),
    Condition(
        name="osteoarthritis",
        codes=("M179", "M170", "M169", "M161"),
        pmax=0.36,
        a50=70,
        scale=8,
        female=1.3,
        min_age=40,
        treatments=(("N02BE01", 0.35),),
    ),
    Condition(
        name="copd",
        codes=("J449",),
        pmax=0.11,
        a50=68,
        scale=8,
        male=1.5,
        female=0.7,
        mortality=1.6,
        min_age=40,
        treatments=(("R03AK06", 0.55), ("R03AC02", 0.5)),
    ),
    Condition(
        name="asthma",
        codes=("J459",),
        pmax=0.065,
        a50=-40,
        scale=10,
        treatments=(("R03AC02", 0.6), ("R03BA02", 0.35)),
    ),
    Condition(
        name="ischaemic_heart",
        codes=("I251", "I259"),
        pmax=0.17,
        a50=75,
        scale=8,
        male=1.8,
        female=0.6,
        raised_by=(("diabetes_t2", 1.6), ("dyslipidaemia", 1.4), ("hypertension", 1.4)),
        mortality=1.4,
        min_age=35,
        treatments=(("B01AC06", 0.75), ("B01AC04", 0.30), ("C07AB07", 0.5), ("C10AA05", 0.5)),
    ),
    Condition(
        name="atrial_fibrillation",
        codes=("I489",),
        pmax=0.14,
        a50=80,
        scale=6,
        male=1.3,
        raised_by=(("hypertension", 1.5),),
        mortality=1.3,
        min_age=40,
        treatments=(("B01AF02", 0.45), ("B01AF01", 0.30), ("C07AB07", 0.40)),
    ),
    Condition(
        name="heart_failure",
        codes=("I509",),
        pmax=0.12,
        a50=83,
        scale=6,
        raised_by=(("ischaemic_heart", 2.5), ("atrial_fibrillation", 2.0)),
        mortality=2.5,
        min_age=40,
        treatments=(("C03CA01", 0.75), ("C07AB07", 0.55), ("C09AA05", 0.40)),
    ),
    Condition(
        name="ckd",
        codes=("N183", "N184"),
        pmax=0.10,
        a50=80,
        scale=7,
        raised_by=(("diabetes_t2", 2.0), ("hypertension", 1.5)),
        mortality=1.5,
        min_age=30,
        treatments=(("C03CA01", 0.25),),
    ),
    Condition(
        name="depression",
        codes=("F329", "F331"),
        pmax=0.065,
        a50=25,
        scale=6,
        female=1.6,
        min_age=12,
        treatments=(("N06AB06", 0.35), ("N06AB10", 0.35)),
    ),
    Condition(
        name="dementia",
        codes=("G309", "F03"),
        pmax=0.25,
        a50=89,
        scale=5,
        female=1.2,
        mortality=2.0,
        min_age=55,
        treatments=(("N06DA02", 0.25),),
    ),
    Condition(
        name="cancer",
        codes=("C509", "C61", "C349", "C189"),
        pmax=0.07,
        a50=75,
        scale=8,
        mortality=3.0,
        min_age=30,
        treatments=(),
    ),
)

# Cancer site by sex (index into the cancer codes): breast/lung/colon for women,
# prostate/lung/colon for men.
CANCER_SITES = {1: ((1, 0.5), (2, 0.3), (3, 0.2)), 2: ((0, 0.6), (2, 0.2), (3, 0.2))}
BREAST_CANCER_TREATMENT = ("L02BA01", 0.4)

# Drugs a GP prescribes for acute problems (ATC, weight).
ACUTE_DRUGS: tuple[tuple[str, float], ...] = (
    ("N02BE01", 0.30),
    ("J01CA04", 0.22),
    ("J01CR02", 0.09),
    ("M01AE01", 0.10),
    ("M01AE03", 0.03),
    ("N02AX02", 0.05),
    ("A02BC01", 0.07),
    ("A02BC05", 0.04),
    ("N05BA12", 0.05),
    ("R03AC02", 0.02),
)

# Substance names as they appear in BDPM compositions, and the route to keep.
SUBSTANCES: dict[str, tuple[tuple[str, ...], str]] = {
    "A10BA02": (("METFORMINE",), "orale"),
    "A10BB09": (("GLICLAZIDE",), "orale"),
    "A10BH01": (("SITAGLIPTINE",), "orale"),
    "A10AE04": (("INSULINE GLARGINE",), "sous-cutanée"),
    "C08CA01": (("AMLODIPINE",), "orale"),
    "C09AA05": (("RAMIPRIL",), "orale"),
    "C09AA04": (("PERINDOPRIL",), "orale"),
    "C09CA03": (("VALSARTAN",), "orale"),
    "C03AA03": (("HYDROCHLOROTHIAZIDE",), "orale"),
    "C07AB07": (("BISOPROLOL",), "orale"),
    "C10AA05": (("ATORVASTATINE",), "orale"),
    "C10AA07": (("ROSUVASTATINE",), "orale"),
    "C10AA01": (("SIMVASTATINE",), "orale"),
    "H03AA01": (("LEVOTHYROXINE",), "orale"),
    "N02BE01": (("PARACETAMOL",), "orale"),
    "R03AK06": (("SALMETEROL", "FLUTICASONE"), "inhalée"),
    "R03AC02": (("SALBUTAMOL",), "inhalée"),
    "R03BA02": (("BUDESONIDE",), "inhalée"),
    "B01AC06": (("ACETYLSALICYL",), "orale"),
    "B01AC04": (("CLOPIDOGREL",), "orale"),
    "B01AF02": (("APIXABAN",), "orale"),
    "B01AF01": (("RIVAROXABAN",), "orale"),
    "C03CA01": (("FUROSEMIDE",), "orale"),
    "N06AB06": (("SERTRALINE",), "orale"),
    "N06AB10": (("ESCITALOPRAM",), "orale"),
    "N06DA02": (("DONEPEZIL",), "orale"),
    "L02BA01": (("TAMOXIFENE",), "orale"),
    "J01CA04": (("AMOXICILLINE",), "orale"),
    "J01CR02": (("AMOXICILLINE", "CLAVULAN"), "orale"),
    "M01AE01": (("IBUPROFENE",), "orale"),
    "M01AE03": (("KETOPROFENE",), "orale"),
    "N02AX02": (("TRAMADOL",), "orale"),
    "A02BC01": (("OMEPRAZOLE",), "orale"),
    "A02BC05": (("ESOMEPRAZOLE",), "orale"),
    "N05BA12": (("ALPRAZOLAM",), "orale"),
    "M01AH01": (("CELECOXIB",), "orale"),
    "M01AB05": (("DICLOFENAC",), "orale"),
}
# Substances made of two actives (every listed term group must match one active).
COMBINATIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "R03AK06": (("SALMETEROL",), ("FLUTICASONE",)),
    "J01CR02": (("AMOXICILLINE",), ("CLAVULAN",)),
}


@dataclass(frozen=True)
class StudyEffect:
    """The planted effect: GI bleeding hazard in new users of celecoxib vs diclofenac."""

    outcome_code: str = "K922"
    exposure: str = "M01AH01"  # celecoxib
    comparator: str = "M01AB05"  # diclofenac
    hazard_ratio: float = 0.6
    # Per person-year under the comparator at age 65 (deliberately high so that a study
    # finds tens of events per 10,000 persons); multiplied by exp(age_slope * (age - 65)).
    comparator_rate: float = 0.25
    age_slope: float = 0.04
    exposure_share: float = 0.4  # share of new users starting celecoxib
    days_per_dispensing: int = 30
    grace_days: int = 0
    washout_days: int = 180
    index_from: tuple[int, int, int] = (2019, 7, 1)
    index_until: tuple[int, int, int] = (2023, 9, 30)
    # Who starts: people with osteoarthritis, and a few other adults with back pain.
    start_prob_osteoarthritis: float = 0.45
    start_prob_other_40plus: float = 0.02
    # Mean number of dispensings per course is 1 + (1 - p) / p.
    refill_stop_prob: float = 0.45
    background_rate: float = 0.0008  # K92.2 stays per person-year at 65, outside exposure


EFFECT = StudyEffect()


# Causes of death (DCD_CIM_COD) by condition, checked in this order; else the fallbacks.
DEATH_CAUSES: tuple[tuple[str, str], ...] = (
    ("cancer", "cancer"),
    ("heart_failure", "I509"),
    ("dementia", "F03"),
    ("ischaemic_heart", "I219"),
    ("copd", "J449"),
    ("ckd", "N184"),
    ("diabetes_t2", "E149"),
)
DEATH_FALLBACK: tuple[tuple[str, float], ...] = (
    ("I64", 0.2),
    ("J189", 0.15),
    ("R99", 0.15),
    ("R54", 0.15),
    ("W199", 0.1),
    ("X599", 0.05),
    ("C349", 0.1),
    ("I251", 0.1),
)
# CCAM acts billed in town (code, PRS_NAT_REF, executing specialty), by indication.
CCAM_ACTS: dict[str, tuple[str, int, int]] = {
    "ecg": ("DEQP003", 1352, 3),
    "chest_xray": ("ZBQK002", 1351, 6),
    "knee_xray": ("NFQK001", 1351, 6),
    "mammography": ("QEQK004", 1351, 6),
    "echocardiography": ("DZQM006", 1324, 3),
    "abdominal_ultrasound": ("ZCQM006", 1324, 6),
    "gastroscopy": ("HEQE002", 1352, 8),
    "colonoscopy": ("HHQE005", 1352, 8),
}


@dataclass(frozen=True)
class Rates:
    """Town care per person-year (DCIR)."""

    gp_base: float = 0.5
    gp_per_year_of_age: float = 0.012
    gp_per_condition: float = 0.35
    home_visit_share_85plus: float = 0.4
    specialist_base: float = 0.3
    specialist_per_condition: float = 0.3
    biology_base: float = 0.4
    biology_per_condition: float = 0.3
    biology_diabetes: float = 3.0
    nursing_dependent_share_80plus: float = 0.25
    nursing_per_year: float = 20.0
    nursing_insulin_per_year: float = 30.0
    other_care_base: float = 0.7
    other_care_per_year_of_age: float = 0.01
    acute_prescription_share: float = 0.6
    monthly_renewal_share: float = 0.5  # others renew every three months
    skipped_renewal_share: float = 0.08
    ccam: dict[str, float] = field(
        default_factory=lambda: {
            "ecg": 0.4,
            "chest_xray": 0.3,
            "knee_xray": 0.3,
            "mammography": 0.5,
            "echocardiography": 0.5,
            "abdominal_ultrasound": 0.04,
            "gastroscopy": 0.015,
            "colonoscopy": 0.02,
        }
    )


RATES = Rates()

# DCIR billing noise (shares of claim lines).
SHARE_CORRECTED = 0.015  # original with a wrong quantity, cancelled, then billed again
SHARE_DUPLICATE_CANCELLED = 0.01  # a duplicate line, then its cancellation
SHARE_INFORMATION_ONLY = 0.005  # consultation lines repeated for information (DPN_QLF 71)

# Identity model.
SHARE_COVER_SWITCH_14_24 = 0.23  # young people moving from a parent's cover to their own
SHARE_TWINS_UNDER_20 = 0.02  # same-sex twins sharing a parent's cover
SHARE_SOURCE_MISSING = 0.02  # hospital person_source_value empty
SHARE_SOURCE_CORRUPT = 0.005  # one character wrong
SHARE_FOREIGN = 0.01  # hospital patients absent from the national extract
SHARE_BORN_ABROAD = 0.07
SHARE_BORN_ELSEWHERE = 0.25  # born in another department than the one of residence
