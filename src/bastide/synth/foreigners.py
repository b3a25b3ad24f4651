"""Hospital patients who are not in the national extract (foreign visitors): they have
hospital stays, a hospital record, and PMSI rows with a placeholder identifier."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastide.synth import clinical, inpatient
from bastide.synth.arrays import ragged, rng_for
from bastide.synth.catalogue import Catalogue
from bastide.synth.population import END, START, YEAR
from bastide.synth.stays import KIND, Stays

KINDS = (
    "pneumonia",
    "urinary_infection",
    "gastroenteritis",
    "appendicitis",
    "hip_fracture",
    "myocardial_infarction",
    "childbirth",
)


@dataclass
class Foreigners:
    sex: np.ndarray
    birth: np.ndarray
    hospital: np.ndarray  # establishment index

    @property
    def n(self) -> int:
        return len(self.sex)


def draw_foreigners(
    seed: int, chunk: int, patients: dict[int, int], cat: Catalogue
) -> tuple[Foreigners, Stays]:
    """About ``SHARE_FOREIGN`` of each extract hospital's patients are foreigners."""
    rng = rng_for(seed, chunk, "foreigners")
    hospitals = sorted(patients)
    share = clinical.SHARE_FOREIGN / (1 - clinical.SHARE_FOREIGN)
    counts = (
        rng.poisson([patients[h] * share for h in hospitals]) if hospitals else np.array([], int)
    )
    hospital = np.repeat(np.array(hospitals, dtype=np.int32), counts)
    n = len(hospital)
    sex = np.where(rng.random(n) < 0.5, 1, 2).astype(np.int8)
    age0 = rng.uniform(18, 80, n)
    birth = (START - age0 * YEAR).astype(np.int32)
    owner, _ = ragged(1 + (rng.random(n) < 0.25))
    m = len(owner)
    kinds = np.array([KIND[k] for k in KINDS])[rng.integers(0, len(KINDS), m)]
    kinds = np.where((kinds == KIND["childbirth"]) & (sex[owner] == 1), KIND["pneumonia"], kinds)
    entry = START + rng.integers(0, END - START - 30, m)
    los = np.zeros(m, dtype=np.int32)
    dp = np.zeros(m, dtype=np.int64)
    for k in np.unique(kinds):
        spec = inpatient.STAY_KINDS[k]
        sel = kinds == k
        los[sel] = np.maximum(np.rint(rng.gamma(2.0, spec.los_mean / 2.0, int(sel.sum()))), 1)
        dp[sel] = cat.cim_index[spec.dp[0]]
    stays = Stays(
        person=owner,
        foreign=np.ones(m, dtype=bool),
        kind=kinds.astype(np.int16),
        entry=entry.astype(np.int32),
        los=los,
        eta=hospital[owner],
        dp=dp,
        dr=np.full(m, -1, dtype=np.int64),
        emergency=rng.random(m) < 0.8,
        sor_mod=np.full(m, 8, dtype=np.int8),
        age=(entry - birth[owner]) / YEAR,
        sex=sex[owner],
    )
    return Foreigners(sex=sex, birth=birth, hospital=hospital), stays
