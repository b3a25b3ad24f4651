"""Hospital (MCO) stay kinds, PMSI artefacts, and what hospitals record during a stay.

Every CIM-10 code is checked against IR_CIM_V when the catalogue is built. GHM roots and
LOINC codes have no local nomenclature: each is listed with its official label.
"""

from __future__ import annotations

from dataclasses import dataclass


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
