"""Drug dispensings in town pharmacies (what DCIR's ER_PHA_F records).

- Chronic treatments follow conditions; a patient renews all of them together, monthly
  or every three months, at their usual pharmacy.
- Acute drugs follow GP consultations.
- New users of celecoxib or diclofenac carry the planted effect: during their exposure
  the hazard of a GI bleeding admission is set by ``clinical.EFFECT``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastide.synth import clinical
from bastide.synth.arrays import day, ragged, rng_for
from bastide.synth.catalogue import Drugs
from bastide.synth.population import COND_INDEX, END, NEVER, YEAR, People

CHRONIC, ACUTE, STUDY = 0, 1, 2


@dataclass
class Dispensings:
    person: np.ndarray  # row in the chunk
    day: np.ndarray
    presentation: np.ndarray  # index into Drugs.presentations
    boxes: np.ndarray
    prescriber_spe: np.ndarray  # PSP_SPE_COD
    origin: np.ndarray  # CHRONIC, ACUTE or STUDY


@dataclass
class StudyCourses:
    """One row per new user of the study drugs: the planted exposure and its outcome."""

    person: np.ndarray
    exposed: np.ndarray  # True for celecoxib, False for diclofenac
    index: np.ndarray  # day of the first dispensing
    end: np.ndarray  # first day after the risk window (censoring included)
    event: np.ndarray  # day of the GI bleeding admission, NEVER if none
    age: np.ndarray  # age at index


def _pick(
    rng: np.random.Generator, lists: tuple[np.ndarray, ...], substance: np.ndarray
) -> np.ndarray:
    out = np.empty(len(substance), dtype=np.int64)
    for s in np.unique(substance):
        rows = substance == s
        options = lists[s]
        out[rows] = options[rng.integers(0, len(options), int(rows.sum()))]
    return out


def _boxes(units: np.ndarray, interval: np.ndarray) -> np.ndarray:
    # One unit a day when the box says how many; devices and solutions: one box.
    per = np.where((units >= 7) & (units <= 120), np.rint(interval / np.maximum(units, 1)), 1)
    return np.clip(per, 1, 3).astype(np.int16)


def chronic(seed: int, people: People, drugs: Drugs) -> Dispensings:
    rng = rng_for(seed, people.chunk, "pharmacy.chronic")
    persons, subst, starts = [], [], []
    for j, cond in enumerate(clinical.CONDITIONS):
        treatments = list(cond.treatments)
        if cond.name == "cancer":
            treatments = [clinical.BREAST_CANCER_TREATMENT]
        onset = people.onset[:, j]
        for atc, prob in treatments:
            take = (onset < NEVER) & (rng.random(people.n) < prob)
            if cond.name == "cancer":
                take &= (people.sex == 2) & (people.variant[:, j] == 0)
            rows = np.flatnonzero(take)
            delay = rng.integers(0, 60, len(rows))
            persons.append(rows)
            subst.append(np.full(len(rows), drugs.index[atc]))
            starts.append(np.maximum(onset[rows] + delay, people.entry[rows]))
    person = np.concatenate(persons)
    substance = np.concatenate(subst)
    start = np.concatenate(starts)
    # One regimen per (person, substance): the earliest start.
    order = np.lexsort((start, substance, person))
    person, substance, start = person[order], substance[order], start[order]
    keep = np.ones(len(person), dtype=bool)
    keep[1:] = (person[1:] != person[:-1]) | (substance[1:] != substance[:-1])
    person, substance, start = person[keep], substance[keep], start[keep]
    keep = start < people.exit[person]
    person, substance, start = person[keep], substance[keep], start[keep]

    monthly = rng.random(people.n) < clinical.RATES.monthly_renewal_share
    interval = np.where(monthly, 30, 91)
    quarterly_pres = _pick(rng, drugs.large, substance)
    monthly_pres = _pick(rng, drugs.small, substance)
    presentation = np.where(monthly[person], monthly_pres, quarterly_pres)
    prescriber = np.where(rng.random(len(person)) < 0.85, 1, 3).astype(np.int16)

    # Renewal days of each treated person from their first start; people already treated
    # when the period opens renew on a day of their own.
    treated, first_idx, counts = np.unique(person, return_index=True, return_counts=True)
    first_start = np.minimum.reduceat(start, first_idx)
    phase = np.where(
        first_start <= people.entry[treated],
        rng.integers(0, 1_000_000, len(treated)) % interval[treated],
        rng.integers(0, 10, len(treated)),
    )
    t0 = first_start + phase
    n_events = (people.exit[treated] - 1 - t0) // interval[treated] + 1
    n_events = np.maximum(n_events, 0)
    ev_owner, k = ragged(n_events)
    ev_day = t0[ev_owner] + k * interval[treated][ev_owner] + rng.integers(-2, 5, len(k))
    ok = (ev_day < people.exit[treated][ev_owner]) & (ev_day >= people.entry[treated][ev_owner])
    ok &= rng.random(len(k)) >= clinical.RATES.skipped_renewal_share
    ev_owner, ev_day = ev_owner[ok], ev_day[ok]
    # Every renewal dispenses each regimen of that person already started.
    pair_event, within = ragged(counts[ev_owner])
    reg = first_idx[ev_owner][pair_event] + within
    ddays = ev_day[pair_event]
    ok = start[reg] <= ddays
    reg, ddays = reg[ok], ddays[ok]
    pres = presentation[reg]
    return Dispensings(
        person=person[reg],
        day=ddays.astype(np.int32),
        presentation=pres,
        boxes=_boxes(drugs.units[pres], interval[person[reg]]),
        prescriber_spe=prescriber[reg],
        origin=np.full(len(reg), CHRONIC, dtype=np.int8),
    )


def acute(
    seed: int, chunk: int, person: np.ndarray, when: np.ndarray, exit_: np.ndarray, drugs: Drugs
) -> Dispensings:
    """Dispensings after GP consultations (``person``, ``when``): one or two drugs."""
    rng = rng_for(seed, chunk, "pharmacy.acute")
    prescribed = rng.random(len(person)) < clinical.RATES.acute_prescription_share
    person, when = person[prescribed], when[prescribed]
    n_drugs = 1 + (rng.random(len(person)) < 0.3)
    owner, _ = ragged(n_drugs)
    atcs = [a for a, _ in clinical.ACUTE_DRUGS]
    w = np.array([p for _, p in clinical.ACUTE_DRUGS])
    substance = np.array([drugs.index[a] for a in atcs])[
        rng.choice(len(atcs), len(owner), p=w / w.sum())
    ]
    lag = (rng.random(len(owner)) < 0.2).astype(np.int32)
    ddays = when[owner] + lag
    ok = ddays < exit_[person[owner]]
    owner, substance, ddays = owner[ok], substance[ok], ddays[ok]
    pres = _pick(rng, drugs.small, substance)
    return Dispensings(
        person=person[owner],
        day=ddays.astype(np.int32),
        presentation=pres,
        boxes=np.where(rng.random(len(owner)) < 0.15, 2, 1).astype(np.int16),
        prescriber_spe=np.ones(len(owner), dtype=np.int16),
        origin=np.full(len(owner), ACUTE, dtype=np.int8),
    )


def study(seed: int, people: People, drugs: Drugs) -> tuple[Dispensings, StudyCourses]:
    """New-user courses of celecoxib or diclofenac, and when they end in a GI bleed."""
    eff = clinical.EFFECT
    rng = rng_for(seed, people.chunk, "pharmacy.study")
    oa = people.onset[:, COND_INDEX["osteoarthritis"]]
    lo = np.maximum(people.entry, day(*eff.index_from))
    hi = np.minimum(people.exit - 1, day(*eff.index_until))
    age0 = people.age_at(lo)
    has_oa = oa < NEVER
    lo = np.where(has_oa, np.maximum(lo, oa), lo)
    p = np.where(
        has_oa, eff.start_prob_osteoarthritis, np.where(age0 >= 40, eff.start_prob_other_40plus, 0)
    )
    starts = (rng.random(people.n) < p) & (hi > lo)
    rows = np.flatnonzero(starts)
    index = lo[rows] + (rng.random(len(rows)) * (hi[rows] - lo[rows])).astype(np.int64)
    exposed = rng.random(len(rows)) < eff.exposure_share
    n_disp = rng.geometric(eff.refill_stop_prob, len(rows))
    owner, k = ragged(n_disp)
    gaps = rng.integers(25, eff.days_per_dispensing + 1, len(k))
    gaps[k == 0] = 0
    cum = np.cumsum(gaps)
    first = np.cumsum(n_disp) - n_disp
    offset = cum - cum[first][owner]
    ddays = index[owner] + offset
    last = np.full(len(rows), 0, dtype=np.int64)
    np.maximum.at(last, owner, ddays)

    age = people.age_at(index, rows)
    hazard = eff.comparator_rate * np.exp(eff.age_slope * (age - 65))
    hazard = np.where(exposed, hazard * eff.hazard_ratio, hazard)
    window_end = np.minimum(last + eff.days_per_dispensing, people.exit[rows])
    window_end = np.minimum(window_end, END + 1)
    t = index + rng.exponential(1 / hazard) * YEAR
    event = np.where(t < window_end, np.floor(t), NEVER).astype(np.int64)
    end = np.where(event < NEVER, event, window_end)
    # Dispensings stop at the bleed, and at death.
    keep = ddays <= np.minimum(np.minimum(event, people.exit[rows] - 1), END)[owner]
    owner, ddays = owner[keep], ddays[keep]
    substance = np.where(exposed, drugs.index[eff.exposure], drugs.index[eff.comparator])[owner]
    courses = StudyCourses(
        person=rows,
        exposed=exposed,
        index=index.astype(np.int32),
        end=end.astype(np.int32),
        event=event.astype(np.int32),
        age=age,
    )
    disp = Dispensings(
        person=rows[owner],
        day=ddays.astype(np.int32),
        presentation=_pick(rng, drugs.small, substance),
        boxes=np.ones(len(owner), dtype=np.int16),
        prescriber_spe=np.where(rng.random(len(owner)) < 0.8, 1, 14).astype(np.int16),
        origin=np.full(len(owner), STUDY, dtype=np.int8),
    )
    return disp, courses


def concat(parts: list[Dispensings]) -> Dispensings:
    return Dispensings(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in Dispensings.__dataclass_fields__)
    )
