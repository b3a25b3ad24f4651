"""Underlying causes of death and where people die."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastide.synth import clinical, inpatient
from bastide.synth.arrays import rng_for
from bastide.synth.catalogue import Catalogue
from bastide.synth.population import COND_INDEX, NEVER, People


@dataclass
class Deaths:
    rows: np.ndarray  # people who die in the period
    cause: np.ndarray  # CIM-10 index (Catalogue.cim10)
    in_hospital: np.ndarray  # bool: the death ends a hospital stay


def draw_deaths(seed: int, people: People, cat: Catalogue) -> Deaths:
    rng = rng_for(seed, people.chunk, "deaths")
    rows = np.flatnonzero(people.death < NEVER)
    cause = np.full(len(rows), -1, dtype=np.int64)
    for condition, code in clinical.DEATH_CAUSES:
        j = COND_INDEX[condition]
        # A condition is the underlying cause for most, not all, of those who have it.
        held = (people.onset[rows, j] <= people.death[rows]) & (rng.random(len(rows)) < 0.7)
        todo = (cause < 0) & held
        if condition == "cancer":
            variant = people.variant[rows, j]
            codes = np.array([cat.cim_index[c] for c in clinical.CONDITIONS[j].codes])
            cause[todo] = codes[variant[todo]]
        else:
            cause[todo] = cat.cim_index[code]
    fallback = np.array([cat.cim_index[c] for c, _ in clinical.DEATH_FALLBACK])
    p = np.array([w for _, w in clinical.DEATH_FALLBACK])
    todo = cause < 0
    cause[todo] = fallback[rng.choice(len(fallback), int(todo.sum()), p=p / p.sum())]
    in_hospital = rng.random(len(rows)) < inpatient.SHARE_DEATH_IN_HOSPITAL
    return Deaths(rows=rows, cause=cause, in_hospital=in_hospital)
