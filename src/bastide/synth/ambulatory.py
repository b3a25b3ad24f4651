"""Town care other than drugs: consultations, nursing, biology, CCAM acts, other lines.

Counts are Poisson over each person's time alive in the period, with rates that grow with
age and with the number of chronic conditions (``clinical.RATES``); days are uniform.
Natures of the lines the model does not simulate one by one are drawn from the real
PRS_NAT_REF distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastide.synth import clinical
from bastide.synth.arrays import ragged, rng_for
from bastide.synth.catalogue import Catalogue
from bastide.synth.population import COND_INDEX, NEVER, START, People

GP, SPECIALIST, NURSE, LAB, OTHER = 0, 1, 2, 3, 4

# Specialty seen for each condition (IR_SPE_V codes), and for no particular condition.
CONDITION_SPECIALTY = {
    "diabetes_t2": 42,
    "hypertension": 3,
    "dyslipidaemia": 3,
    "hypothyroidism": 42,
    "osteoarthritis": 14,
    "copd": 13,
    "asthma": 13,
    "ischaemic_heart": 3,
    "atrial_fibrillation": 3,
    "heart_failure": 3,
    "ckd": 35,
    "depression": 33,
    "dementia": 32,
    "cancer": 73,
}
GENERAL_SPECIALTIES = np.array([15, 5, 11, 70, 8, 32])
CCAM_PRICE = {
    "ecg": 14.26,
    "chest_xray": 21.28,
    "knee_xray": 19.95,
    "mammography": 66.42,
    "echocardiography": 95.66,
    "abdominal_ultrasound": 56.7,
    "gastroscopy": 96.14,
    "colonoscopy": 134.55,
}


@dataclass
class Acts:
    person: np.ndarray
    day: np.ndarray
    nat_ref: np.ndarray  # PRS_NAT_REF
    qty: np.ndarray  # PRS_ACT_QTE
    spe: np.ndarray  # PSE_SPE_COD (0: not a physician)
    ccam: np.ndarray  # index into CCAM_ORDER, -1 if none
    kind: np.ndarray  # GP, SPECIALIST, NURSE, LAB, OTHER
    price: np.ndarray  # amount of one act


CCAM_ORDER = tuple(clinical.CCAM_ACTS)


def _events(
    rng: np.random.Generator, people: People, rate: np.ndarray, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events at ``rate`` per year between ``start`` (default entry) and exit."""
    lo = people.entry if start is None else np.maximum(start, people.entry)
    span = np.maximum(people.exit - lo, 0)
    counts = rng.poisson(np.maximum(rate, 0) * span / 365.25)
    owner, _ = ragged(counts)
    days = lo[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)
    return owner, days.astype(np.int32)


def _acts(
    owner: np.ndarray,
    days: np.ndarray,
    nat: np.ndarray | int,
    spe: np.ndarray | int,
    kind: int,
    price: np.ndarray | float,
    qty: np.ndarray | int = 1,
    ccam: int = -1,
) -> Acts:
    n = len(owner)

    def full(v: np.ndarray | float, dtype: type) -> np.ndarray:
        return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

    return Acts(
        owner,
        days,
        full(nat, np.int32),
        full(qty, np.int16),
        full(spe, np.int16),
        full(ccam, np.int8),
        full(kind, np.int8),
        full(price, np.float64),
    )


def draw_acts(seed: int, people: People, cat: Catalogue) -> Acts:
    rng = rng_for(seed, people.chunk, "ambulatory")
    r = clinical.RATES
    mid = (people.entry + people.exit) // 2
    age = people.age_at(mid)
    held = people.onset < NEVER
    n_cond = held.sum(axis=1)
    parts: list[Acts] = []

    owner, days = _events(
        rng, people, r.gp_base + r.gp_per_year_of_age * age + r.gp_per_condition * n_cond
    )
    home = (people.age_at(days, owner) >= 85) & (rng.random(len(owner)) < r.home_visit_share_85plus)
    parts.append(_acts(owner, days, np.where(home, 1211, 1111), 1, GP, np.where(home, 35.0, 25.0)))

    owner, days = _events(rng, people, r.specialist_base + r.specialist_per_condition * n_cond)
    spe = GENERAL_SPECIALTIES[rng.integers(0, len(GENERAL_SPECIALTIES), len(owner))]
    # A visit concerns a condition drawn at random: the matching specialty if the person
    # has it, so people with more conditions see more of their specialists.
    names = list(CONDITION_SPECIALTY)
    pick = rng.integers(0, len(names), len(owner))
    related = np.array([CONDITION_SPECIALTY[c] for c in names])[pick]
    has_it = held[owner, np.array([COND_INDEX[c] for c in names])[pick]]
    spe = np.where(has_it, related, spe)
    psy = np.isin(spe, (32, 33))
    parts.append(
        _acts(owner, days, np.where(psy, 1113, 1112), spe, SPECIALIST, np.where(psy, 39.0, 30.0))
    )

    diab = held[:, COND_INDEX["diabetes_t2"]]
    owner, days = _events(
        rng, people, r.biology_base + r.biology_per_condition * n_cond + r.biology_diabetes * diab
    )
    parts.append(_acts(owner, days, 3211, 38, LAB, np.round(rng.uniform(8, 60, len(owner)), 2)))

    dependent = (people.age_at(START) >= 80) & (
        rng.random(people.n) < r.nursing_dependent_share_80plus
    )
    insulin = diab & (people.age_at(START) >= 75) & (rng.random(people.n) < 0.2)
    rate = np.where(dependent, r.nursing_per_year, 0) + np.where(
        insulin, r.nursing_insulin_per_year, 0
    )
    owner, days = _events(rng, people, rate)
    qty = rng.integers(1, 5, len(owner))
    parts.append(_acts(owner, days, 3111, 0, NURSE, 3.15, qty))

    women = people.sex == 2
    eligible = {
        "ecg": held[
            :, [COND_INDEX[c] for c in ("hypertension", "ischaemic_heart", "atrial_fibrillation")]
        ].any(axis=1)
        | (age > 50),
        "chest_xray": held[:, COND_INDEX["copd"]] | (rng.random(people.n) < 0.1),
        "knee_xray": held[:, COND_INDEX["osteoarthritis"]],
        "mammography": women & (age >= 50) & (age < 75),
        "echocardiography": held[
            :, [COND_INDEX[c] for c in ("heart_failure", "atrial_fibrillation")]
        ].any(axis=1),
        "abdominal_ultrasound": age >= 18,
        "gastroscopy": age >= 40,
        "colonoscopy": (age >= 50) & (age < 75),
    }
    for i, name in enumerate(CCAM_ORDER):
        _, nat, spe_code = cat.ccam[name]
        owner, days = _events(rng, people, np.where(eligible[name], r.ccam[name], 0.0))
        parts.append(_acts(owner, days, nat, spe_code, SPECIALIST, CCAM_PRICE[name], 1, i))

    owner, days = _events(rng, people, r.other_care_base + r.other_care_per_year_of_age * age)
    other_nat = cat.other_care_codes[
        rng.choice(len(cat.other_care_codes), len(owner), p=cat.other_care_p)
    ]
    parts.append(
        _acts(owner, days, other_nat, 0, OTHER, np.round(rng.uniform(5, 60, len(owner)), 2))
    )

    return Acts(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Acts.__dataclass_fields__)
    )
