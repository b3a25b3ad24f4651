"""Hospital (MCO) stays: who is admitted, why, where, for how long.

Stays are drawn per kind (``inpatient.STAY_KINDS``) at rates that depend on age, sex and
conditions; GI bleeding admissions come from the planted effect (``pharmacy.study``) plus
a background rate outside exposure; cancer patients have chemotherapy sessions; a share of
deaths end a hospital stay. People are admitted to their usual hospital mostly, otherwise
to another one of their department, rarely anywhere in France.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from bastide.synth import clinical, geography, inpatient
from bastide.synth.arrays import ragged, rng_for
from bastide.synth.catalogue import Catalogue
from bastide.synth.deaths import Deaths
from bastide.synth.pharmacy import StudyCourses
from bastide.synth.population import COND_INDEX, END, NEVER, YEAR, People

OK, RET_FLAG, PLACEHOLDER = 0, 1, 2
KIND = inpatient.STAY_INDEX


@dataclass
class Stays:
    person: np.ndarray  # row among nationals of the chunk, or among foreigners
    foreign: np.ndarray  # bool
    kind: np.ndarray
    entry: np.ndarray  # day of admission
    los: np.ndarray  # nights
    eta: np.ndarray  # establishment index (geography.finess)
    dp: np.ndarray  # CIM-10 index
    dr: np.ndarray  # CIM-10 index, -1 if none
    emergency: np.ndarray  # admitted through the emergency department
    sor_mod: np.ndarray  # 8 home, 7 transfer, 9 death
    age: np.ndarray  # years at admission
    sex: np.ndarray

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, idx: np.ndarray) -> Stays:
        return Stays(*(getattr(self, f.name)[idx] for f in fields(self)))


def concat(parts: list[Stays]) -> Stays:
    return Stays(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Stays)))


@dataclass
class Coded:
    """Stays with their associated diagnoses, GHM level and PMSI chaining artefacts."""

    stays: Stays
    das_stay: np.ndarray  # stay index of each associated diagnosis
    das_code: np.ndarray  # CIM-10 index
    level: np.ndarray  # GHM suffix, one character
    chaining: np.ndarray  # OK, RET_FLAG or PLACEHOLDER
    ghm_error: np.ndarray  # grouped in error (GHM 90Z00Z)
    inter_establishment: np.ndarray  # SEJ_TYP 'B'


def _los(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    drawn = np.rint(rng.gamma(2.0, np.maximum(mean, 1e-9) / 2.0))
    return np.where(mean > 0, np.maximum(drawn, 1), 0).astype(np.int32)


def _hospital(rng: np.random.Generator, people: People, rows: np.ndarray) -> np.ndarray:
    geo = geography.geography()
    eta = people.home[rows].copy()
    u = rng.random(len(rows))
    local = (u >= 0.75) & (u < 0.95)
    for d in np.unique(people.dep[rows[local]]):
        sel = np.flatnonzero(local & (people.dep[rows] == d))
        options = geo.dep_hospitals[d]
        eta[sel] = options[rng.integers(0, len(options), len(sel))]
    far = u >= 0.95
    eta[far] = rng.integers(0, len(geo.finess), int(far.sum()))
    return eta


def _make(
    rng: np.random.Generator,
    people: People,
    cat: Catalogue,
    rows: np.ndarray,
    entry: np.ndarray,
    kind: int,
    los: np.ndarray | None = None,
) -> Stays:
    spec = inpatient.STAY_KINDS[kind]
    n = len(rows)
    if los is None:
        los = _los(rng, np.full(n, spec.los_mean))
    los = np.minimum(los, people.exit[rows] - 1 - entry).astype(np.int32)
    dp = np.array([cat.cim_index[c] for c in spec.dp])[
        rng.choice(len(spec.dp), n, p=_first_heavy(len(spec.dp)))
    ]
    dr = np.full(n, -1, dtype=np.int64)
    if spec.dr_from_condition:
        j = COND_INDEX[spec.dr_from_condition]
        codes = np.array([cat.cim_index[c] for c in clinical.CONDITIONS[j].codes])
        dr = codes[people.variant[rows, j]]
    transfer = rng.random(n) < spec.transfer
    return Stays(
        person=rows,
        foreign=np.zeros(n, dtype=bool),
        kind=np.full(n, kind, dtype=np.int16),
        entry=entry.astype(np.int32),
        los=los,
        eta=_hospital(rng, people, rows),
        dp=dp,
        dr=dr,
        emergency=rng.random(n) < spec.emergency,
        sor_mod=np.where(transfer, 7, 8).astype(np.int8),
        age=people.age_at(entry, rows),
        sex=people.sex[rows],
    )


def _first_heavy(k: int) -> np.ndarray:
    p = np.array([0.75, 0.25, 0.1, 0.05][:k]) if k > 1 else np.array([1.0])
    return p / p.sum()


def _poisson_days(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, rate: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    span = np.maximum(hi - lo, 0)
    counts = rng.poisson(rate * span / YEAR)
    owner, _ = ragged(counts)
    return owner, lo[owner] + (rng.random(len(owner)) * span[owner]).astype(np.int64)


def national_stays(
    seed: int, people: People, deaths: Deaths, courses: StudyCourses, cat: Catalogue
) -> Stays:
    rng = rng_for(seed, people.chunk, "stays")
    mid = (people.entry + people.exit) // 2
    age = people.age_at(mid)
    parts: list[Stays] = []
    for k, spec in enumerate(inpatient.STAY_KINDS):
        if spec.rate <= 0:
            continue
        rate = spec.rate * np.exp(spec.age_slope * (age - 65))
        rate *= np.where(people.sex == 1, spec.male, spec.female)
        rate *= (age >= spec.age_range[0]) & (age < spec.age_range[1])
        for other, mult in spec.raised_by:
            rate *= np.where(people.onset[:, COND_INDEX[other]] < NEVER, mult, 1.0)
        lo = people.entry
        if spec.requires:
            lo = np.maximum(lo, people.onset[:, COND_INDEX[spec.requires]])
        owner, days = _poisson_days(rng, lo, people.exit, rate)
        parts.append(_make(rng, people, cat, owner, days, k))

    # GI bleeding: the planted events, and a background rate outside exposure windows.
    eff = clinical.EFFECT
    planted = courses.event < NEVER
    parts.append(
        _make(
            rng, people, cat, courses.person[planted], courses.event[planted], KIND["gi_bleeding"]
        )
    )
    rate = eff.background_rate * np.exp(eff.age_slope * (age - 65))
    owner, days = _poisson_days(rng, people.entry, people.exit, rate)
    inside = np.zeros(len(owner), dtype=bool)
    if len(courses.person):
        # Each person has at most one course: look it up by person row.
        course_of = np.full(people.n, -1)
        course_of[courses.person] = np.arange(len(courses.person))
        c = course_of[owner]
        inside = (c >= 0) & (days >= courses.index[c]) & (days < courses.end[np.maximum(c, 0)])
    parts.append(_make(rng, people, cat, owner[~inside], days[~inside], KIND["gi_bleeding"]))

    # Chemotherapy: half of cancer patients have a series of sessions three weeks apart.
    onset = people.onset[:, COND_INDEX["cancer"]]
    treated = np.flatnonzero((onset < NEVER) & (rng.random(people.n) < 0.5))
    lo = np.maximum(onset[treated], people.entry[treated])
    first = lo + (rng.random(len(treated)) * np.maximum(people.exit[treated] - lo, 1)).astype(
        np.int64
    )
    series, nth = ragged(rng.integers(4, 9, len(treated)))
    session = first[series] + 21 * nth
    ok = session < people.exit[treated[series]]
    parts.append(_make(rng, people, cat, treated[series][ok], session[ok], KIND["chemotherapy"]))

    parts.append(_terminal(rng, people, deaths, cat))
    return concat(parts)


def _terminal(rng: np.random.Generator, people: People, deaths: Deaths, cat: Catalogue) -> Stays:
    """Stays that end with the patient's death (SOR_MOD 9)."""
    rows = deaths.rows[deaths.in_hospital]
    cause = deaths.cause[deaths.in_hospital]
    codes = np.array(cat.cim10, dtype=object)[cause]
    kind = np.full(len(rows), KIND[inpatient.TERMINAL_DEFAULT])
    for prefix, name in inpatient.TERMINAL_STAY.items():
        kind[np.array([c.startswith(prefix) for c in codes], dtype=bool)] = KIND[name]
    los = _los(rng, np.full(len(rows), 8.0))
    death = people.death[rows]
    entry = np.maximum(death - los, people.entry[rows])
    parts = []
    for k in np.unique(kind):
        sel = kind == k
        s = _make(rng, people, cat, rows[sel], entry[sel], int(k), los=(death - entry)[sel] + 1)
        s.los = (death - entry)[sel].astype(np.int32)
        s.sor_mod[:] = 9
        if inpatient.STAY_KINDS[k].name == inpatient.TERMINAL_DEFAULT:
            s.dr = cause[sel]
        parts.append(s)
    return concat(parts) if parts else _make(rng, people, cat, rows[:0], entry[:0], 0)


def code(seed: int, chunk: int, stays: Stays, people: People, cat: Catalogue) -> Coded:
    """Associated diagnoses (chronic conditions held at admission, typical complications),
    GHM level, and the PMSI artefacts: unusable chaining identifiers, error groupings."""
    rng = rng_for(seed, chunk, "stays.coding")
    n = len(stays)
    nat = np.flatnonzero(~stays.foreign)
    owners, codes = [], []
    for j, cond in enumerate(clinical.CONDITIONS):
        rows = stays.person[nat]
        held = (people.onset[rows, j] <= stays.entry[nat]) & (rng.random(len(nat)) < 0.8)
        sel = nat[held]
        cidx = np.array([cat.cim_index[c] for c in cond.codes])[
            people.variant[stays.person[sel], j]
        ]
        keep = (cidx != stays.dp[sel]) & (cidx != stays.dr[sel])
        owners.append(sel[keep])
        codes.append(cidx[keep])
    for kind_name, (typical, p) in inpatient.TYPICAL_DAS.items():
        sel = np.flatnonzero((stays.kind == KIND[kind_name]) & (rng.random(n) < p))
        owners.append(sel)
        codes.append(np.full(len(sel), cat.cim_index[typical]))
    das_stay = np.concatenate(owners)
    das_code = np.concatenate(codes)
    order = np.lexsort((das_code, das_stay))
    das_stay, das_code = das_stay[order], das_code[order]
    n_das = np.bincount(das_stay, minlength=n)

    style = np.array([inpatient.STAY_KINDS[k].level for k in range(len(inpatient.STAY_KINDS))])[
        stays.kind
    ]
    severity = 1 + (n_das >= 1) + ((n_das >= 3) | ((stays.age >= 80) & (n_das >= 2)))
    severity += (stays.los > 14) & (n_das >= 3)
    digit = np.array(list("01234"))[severity]
    level = np.where(stays.los <= 1, "T", digit)
    level = np.where(style == "J", "J", np.where(style == "Z", "Z", level))
    obstetric = np.array(list("ABCD"))[rng.choice(4, n, p=[0.8, 0.15, 0.04, 0.01])]
    level = np.where(style == "obstetric", obstetric, level)

    u = rng.random(n)
    chaining = np.where(
        u < inpatient.SHARE_RET_FLAG,
        RET_FLAG,
        np.where(u < inpatient.SHARE_RET_FLAG + inpatient.SHARE_PLACEHOLDER, PLACEHOLDER, OK),
    )
    chaining = np.where(stays.foreign, PLACEHOLDER, chaining).astype(np.int8)
    return Coded(
        stays=stays,
        das_stay=das_stay,
        das_code=das_code,
        level=level.astype(object),
        chaining=chaining,
        ghm_error=rng.random(n) < inpatient.SHARE_ERROR_GHM,
        inter_establishment=rng.random(n) < inpatient.SHARE_INTER_ESTABLISHMENT,
    )


def within_period(stays: Stays) -> Stays:
    """Stays discharged by the end of the extraction period."""
    return stays.take(np.flatnonzero(stays.entry + stays.los <= END))
