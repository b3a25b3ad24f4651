"""The clinical world, as data: chronic conditions, treatments, hospital stay kinds, labs.

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


@dataclass(frozen=True)
class StayKind:
    """A kind of MCO stay: its diagnoses, GHM root, length and who has it how often."""

    name: str
    dp: tuple[str, ...]
    ghm: str  # GHM root (5 characters); the level is appended
    ghm_label: str
    los_mean: float  # mean nights; 0 = day case / session
    emergency: float  # share admitted through the emergency department (ENT_PRV 5)
    rate: float  # stays per person-year at age 65 (or per person-year with the condition)
    age_slope: float = 0.0
    male: float = 1.0
    female: float = 1.0
    age_range: tuple[float, float] = (0, 120)
    requires: str | None = None  # condition the person must have
    raised_by: tuple[tuple[str, float], ...] = ()
    level: str = "severity"  # severity (1-4/T), J (day case), Z (session), obstetric (A-D)
    surgical: bool = False
    antibiotic: bool = False
    transfer: float = 0.03  # share discharged to another facility (SOR_MOD 7)
    dr_from_condition: str | None = None


STAY_KINDS: tuple[StayKind, ...] = (
    StayKind(
        name="pneumonia",
        dp=("J189",),
        ghm="04M05",
        ghm_label="Pneumonies et pleurésies banales, âge supérieur à 17 ans",
        los_mean=7,
        emergency=0.75,
        rate=0.008,
        age_slope=0.05,
        raised_by=(("copd", 3.0), ("heart_failure", 1.5)),
        age_range=(18, 120),
        antibiotic=True,
    ),
    StayKind(
        name="urinary_infection",
        dp=("N390", "N10"),
        ghm="11M04",
        ghm_label="Infections des reins et des voies urinaires, âge supérieur à 17 ans",
        los_mean=5,
        emergency=0.6,
        rate=0.005,
        age_slope=0.05,
        female=1.5,
        age_range=(18, 120),
        antibiotic=True,
    ),
    StayKind(
        name="gastroenteritis",
        dp=("A099", "A090"),
        ghm="06M02",
        ghm_label=(
            "Autres gastroentérites et maladies diverses du tube digestif, âge supérieur à 17 ans"
        ),
        los_mean=3,
        emergency=0.6,
        rate=0.004,
        age_slope=0.03,
        age_range=(18, 120),
    ),
    StayKind(
        name="myocardial_infarction",
        dp=("I219", "I214"),
        ghm="05M04",
        ghm_label="Infarctus aigu du myocarde",
        los_mean=6,
        emergency=0.9,
        rate=0.002,
        age_slope=0.06,
        male=2.0,
        female=0.6,
        age_range=(30, 120),
        raised_by=(("ischaemic_heart", 4.0), ("diabetes_t2", 1.5)),
    ),
    StayKind(
        name="stroke",
        dp=("I639",),
        ghm="01M30",
        ghm_label="Accidents vasculaires intracérébraux non transitoires",
        los_mean=10,
        emergency=0.9,
        rate=0.0025,
        age_slope=0.07,
        age_range=(30, 120),
        raised_by=(("atrial_fibrillation", 3.0), ("hypertension", 1.5)),
        transfer=0.25,
    ),
    StayKind(
        name="heart_failure_decompensation",
        dp=("I500",),
        ghm="05M09",
        ghm_label="Insuffisances cardiaques et états de choc circulatoire",
        los_mean=9,
        emergency=0.8,
        rate=0.35,
        requires="heart_failure",
    ),
    StayKind(
        name="copd_exacerbation",
        dp=("J441",),
        ghm="04M20",
        ghm_label="Bronchopneumopathies chroniques surinfectées",
        los_mean=8,
        emergency=0.8,
        rate=0.25,
        requires="copd",
        antibiotic=True,
    ),
    StayKind(
        name="diabetes",
        dp=("E118", "E112"),
        ghm="10M02",
        ghm_label="Diabète, âge supérieur à 35 ans",
        los_mean=4,
        emergency=0.3,
        rate=0.04,
        requires="diabetes_t2",
        age_range=(36, 120),
    ),
    StayKind(
        name="hip_fracture",
        dp=("S7200", "S721"),
        ghm="08C47",
        ghm_label=(
            "Interventions sur la hanche et le fémur pour traumatismes récents, "
            "âge supérieur à 17 ans"
        ),
        los_mean=10,
        emergency=1.0,
        rate=0.001,
        age_slope=0.1,
        female=1.8,
        age_range=(50, 120),
        surgical=True,
        transfer=0.4,
    ),
    StayKind(
        name="hip_replacement",
        dp=("M169", "M161"),
        ghm="08C48",
        ghm_label="Prothèses de hanche pour des affections autres que des traumatismes récents",
        los_mean=5,
        emergency=0.0,
        rate=0.02,
        requires="osteoarthritis",
        surgical=True,
        transfer=0.2,
    ),
    StayKind(
        name="knee_replacement",
        dp=("M179", "M170"),
        ghm="08C24",
        ghm_label="Prothèses de genou",
        los_mean=5,
        emergency=0.0,
        rate=0.015,
        requires="osteoarthritis",
        surgical=True,
        transfer=0.2,
    ),
    StayKind(
        name="cataract",
        dp=("H259", "H251"),
        ghm="02C05",
        ghm_label="Interventions sur le cristallin avec ou sans vitrectomie",
        los_mean=0,
        emergency=0.0,
        rate=0.02,
        age_slope=0.08,
        age_range=(50, 120),
        level="J",
        surgical=True,
        transfer=0.0,
    ),
    StayKind(
        name="inguinal_hernia",
        dp=("K409",),
        ghm="06C12",
        ghm_label=(
            "Interventions réparatrices pour hernies inguinales et crurales, âge supérieur à 17 ans"
        ),
        los_mean=1,
        emergency=0.05,
        rate=0.003,
        age_slope=0.01,
        male=3.0,
        female=0.3,
        age_range=(18, 120),
        surgical=True,
        transfer=0.0,
    ),
    StayKind(
        name="appendicitis",
        dp=("K359", "K358"),
        ghm="06C09",
        ghm_label="Appendicectomies non compliquées",
        los_mean=3,
        emergency=0.9,
        rate=0.0015,
        age_range=(8, 45),
        surgical=True,
        antibiotic=True,
        transfer=0.0,
    ),
    StayKind(
        name="childbirth",
        dp=("O800", "O809"),
        ghm="14Z14",
        ghm_label="Accouchements uniques par voie basse chez une multipare",
        los_mean=4,
        emergency=0.1,
        rate=0.05,
        male=0.0,
        age_range=(18, 44),
        level="obstetric",
        transfer=0.0,
    ),
    StayKind(
        name="endoscopy",
        dp=("K297", "K219"),
        ghm="06K04",
        ghm_label="Endoscopie digestive diagnostique et anesthésie, en ambulatoire",
        los_mean=0,
        emergency=0.0,
        rate=0.02,
        age_slope=0.02,
        age_range=(30, 120),
        level="J",
        transfer=0.0,
    ),
    StayKind(
        name="abdominal_pain",
        dp=("R104",),
        ghm="06M12",
        ghm_label="Douleurs abdominales",
        los_mean=2,
        emergency=0.8,
        rate=0.004,
        age_range=(10, 120),
        transfer=0.0,
    ),
    StayKind(
        name="bronchiolitis",
        dp=("J219",),
        ghm="04M18",
        ghm_label="Bronchiolites",
        los_mean=4,
        emergency=0.9,
        rate=0.03,
        age_range=(0, 2),
        antibiotic=False,
        transfer=0.0,
    ),
    StayKind(
        name="gi_bleeding",
        dp=("K922",),
        ghm="06M04",
        ghm_label="Hémorragies digestives",
        los_mean=5,
        emergency=0.8,
        rate=0.0,
        transfer=0.05,
    ),
    StayKind(
        name="palliative_care",
        dp=("Z515",),
        ghm="23Z02",
        ghm_label="Soins palliatifs, avec ou sans acte",
        los_mean=12,
        emergency=0.2,
        rate=0.0,
        transfer=0.0,
    ),
    StayKind(
        name="chemotherapy",
        dp=("Z511",),
        ghm="28Z07",
        ghm_label="Chimiothérapie pour tumeur, en séances",
        los_mean=0,
        emergency=0.0,
        rate=0.0,
        requires="cancer",
        level="Z",
        transfer=0.0,
        dr_from_condition="cancer",
    ),
)
STAY_INDEX = {k.name: i for i, k in enumerate(STAY_KINDS)}

# PMSI artefacts the ETL has to drop (shares of stays).
ERROR_GHM = "90Z00Z"  # "Erreurs et autres séjours inclassables"
SHARE_ERROR_GHM = 0.002
SHARE_RET_FLAG = 0.015  # NIR_ANO_17 failed a chaining check (value unusable)
SHARE_PLACEHOLDER = 0.003  # NIR_ANO_17 not filled: 'xxxxxxxxxxxxxxxxx'
SHARE_INTER_ESTABLISHMENT = 0.003  # SEJ_TYP 'B': an inter-establishment service record
PLACEHOLDERS = ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD")

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
# Stay kind used for the stay in which an in-hospital death happens, by cause prefix.
TERMINAL_STAY = {
    "I5": "heart_failure_decompensation",
    "I2": "myocardial_infarction",
    "I6": "stroke",
    "J4": "copd_exacerbation",
    "J1": "pneumonia",
}
TERMINAL_DEFAULT = "palliative_care"  # its DR is the cause of death
SHARE_DEATH_IN_HOSPITAL = 0.55
# Associated diagnoses typical of a stay kind (CIM-10, probability).
TYPICAL_DAS = {
    "gi_bleeding": ("D62", 0.5),
    "pneumonia": ("E86", 0.2),
    "hip_fracture": ("W199", 0.6),
}


@dataclass(frozen=True)
class Lab:
    loinc: str
    label: str
    unit: str
    low: float
    high: float
    mean: float
    sd: float
    decimals: int = 1


LABS: tuple[Lab, ...] = (
    Lab("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 17.0, 13.6, 1.3),
    Lab("14682-9", "Creatinine [Moles/volume] in Serum or Plasma", "umol/L", 45, 104, 78, 15, 0),
    Lab("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.0, 4.2, 0.35),
    Lab("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 135, 145, 139, 2.5, 0),
    Lab("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L", 0, 5, 3, 2),
    Lab("14749-6", "Glucose [Moles/volume] in Serum or Plasma", "mmol/L", 3.9, 6.1, 5.2, 0.6),
    Lab("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 6.0, 5.4, 0.35),
)

# In-hospital drugs (UCD names in NU_UCD_R start with these words).
UCD_GROUPS: dict[str, tuple[str, ...]] = {
    "anaesthesia": ("ROPIVACAINE",),
    "antibiotic": ("CEFTRIAXONE", "AMIKACINE", "VANCOMYCINE"),
    "C509": ("PACLITAXEL", "DOCETAXEL", "EPIRUBICINE"),
    "C61": ("DOCETAXEL",),
    "C349": ("CARBOPLATINE", "CISPLATINE", "GEMCITABINE"),
    "C189": ("OXALIPLATINE", "FLUOROURACILE", "IRINOTECAN"),
}

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
