"""People of one chunk: age and sex, residence, chronic conditions and death.

Ages follow France's population pyramid on 1 January 2019; about 5 % of people are born
during the period. Conditions are drawn prevalent at the start of the period by age and
sex (plus a shared frailty that correlates them), and incident afterwards; mortality is
Gompertz by age and sex, raised by conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bastide.synth import clinical, geography
from bastide.synth.arrays import day, rng_for

START = day(*clinical.PERIOD_START)
END = day(*clinical.PERIOD_END)  # inclusive
NEVER = np.iinfo(np.int32).max
YEAR = 365.25

# Population by five-year age group (0-4 ... 95-99, 100+), thousands, men then women
# (INSEE estimate for 1 January 2019, rounded).
PYRAMID_MEN = (
    1830,
    2000,
    2100,
    2080,
    1890,
    1830,
    1960,
    2060,
    2070,
    2210,
    2170,
    2110,
    1950,
    1800,
    1600,
    1050,
    760,
    470,
    180,
    35,
    4,
)
PYRAMID_WOMEN = (
    1750,
    1910,
    2010,
    1980,
    1850,
    1890,
    2060,
    2150,
    2120,
    2250,
    2260,
    2230,
    2110,
    2000,
    1850,
    1300,
    1060,
    830,
    430,
    120,
    20,
)
BORN_IN_PERIOD = 0.053
FRAILTY_WEIGHT = 0.6


@dataclass
class People:
    chunk: int
    key: np.ndarray  # global person number
    sex: np.ndarray  # 1 man, 2 woman
    birth: np.ndarray  # day
    death: np.ndarray  # day, NEVER if alive at the end of the period
    entry: np.ndarray  # first day in the period
    exit: np.ndarray  # first day after the period or of death
    commune: np.ndarray  # global commune index
    dep: np.ndarray  # department index
    frailty: np.ndarray
    onset: np.ndarray  # (n, conditions) onset day, NEVER if never
    variant: np.ndarray  # (n, conditions) which CIM-10 code of the condition
    home: np.ndarray  # usual hospital (establishment index)
    twin_of: np.ndarray  # row of the elder twin for a second twin, else -1

    @property
    def n(self) -> int:
        return len(self.key)

    def age_at(self, when: np.ndarray | int, idx: np.ndarray | None = None) -> np.ndarray:
        birth = self.birth if idx is None else self.birth[idx]
        return (np.asarray(when) - birth) / YEAR

    def has(
        self, condition: str, when: np.ndarray | int, idx: np.ndarray | None = None
    ) -> np.ndarray:
        col = self.onset[:, COND_INDEX[condition]]
        return (col if idx is None else col[idx]) <= when

    def years_alive(self) -> np.ndarray:
        return (self.exit - self.entry) / YEAR


COND_INDEX = {c.name: i for i, c in enumerate(clinical.CONDITIONS)}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _ages(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    weights = np.array(PYRAMID_MEN + PYRAMID_WOMEN, dtype=float)
    cell = rng.choice(len(weights), size=n, p=weights / weights.sum())
    sex = np.where(cell < len(PYRAMID_MEN), 1, 2).astype(np.int8)
    group = cell % len(PYRAMID_MEN)
    age = group * 5 + rng.random(n) * 5
    return sex, age


def _prevalence(
    cond: clinical.Condition,
    age: np.ndarray,
    sex: np.ndarray,
    frailty: np.ndarray,
    factor: np.ndarray,
) -> np.ndarray:
    sexf = np.where(sex == 1, cond.male, cond.female)
    p = (
        cond.pmax
        * sexf
        * factor
        * _sigmoid((age - cond.a50) / cond.scale + FRAILTY_WEIGHT * frailty)
    )
    return np.where(age >= cond.min_age, np.minimum(p, 0.95), 0.0)


def _conditions(
    rng: np.random.Generator,
    age0: np.ndarray,
    sex: np.ndarray,
    frailty: np.ndarray,
    birth: np.ndarray,
    exit_: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(age0)
    onset = np.full((n, len(clinical.CONDITIONS)), NEVER, dtype=np.int32)
    variant = np.zeros((n, len(clinical.CONDITIONS)), dtype=np.int8)
    for j, cond in enumerate(clinical.CONDITIONS):
        factor = np.ones(n)
        for other, mult in cond.raised_by:
            factor *= np.where(onset[:, COND_INDEX[other]] < NEVER, mult, 1.0)
        p0 = _prevalence(cond, age0, sex, frailty, factor)
        prevalent = rng.random(n) < p0
        # Incidence: the rise of prevalence over the next five years of age.
        p5 = _prevalence(cond, age0 + 5, sex, frailty, factor)
        hazard = np.maximum(p5 - p0, 1e-6) / 5 / np.maximum(1 - p0, 0.05)
        eligible = np.maximum(START, birth + int(cond.min_age * YEAR))
        incident_day = eligible + rng.exponential(1 / hazard) * YEAR
        start = START - (rng.random(n) * 12 * YEAR).astype(np.int64)
        onset[:, j] = np.where(
            prevalent,
            np.maximum(start, birth + int(cond.min_age * YEAR)),
            np.where(incident_day < exit_, incident_day, NEVER),
        ).astype(np.int32)
        k = len(cond.codes)
        pv = np.array([0.7, 0.2, 0.1, 0.0][:k]) if k > 1 else np.array([1.0])
        variant[:, j] = rng.choice(k, size=n, p=pv / pv.sum())
    cancer = COND_INDEX["cancer"]
    site = np.empty(n, dtype=np.int8)
    for s, options in clinical.CANCER_SITES.items():
        rows = sex == s
        codes = np.array([o[0] for o in options])
        p = np.array([o[1] for o in options])
        site[rows] = codes[rng.choice(len(codes), size=int(rows.sum()), p=p)]
    variant[:, cancer] = site
    return onset, variant


def _deaths(
    rng: np.random.Generator,
    sex: np.ndarray,
    birth: np.ndarray,
    entry: np.ndarray,
    onset: np.ndarray,
) -> np.ndarray:
    n = len(sex)
    death = np.full(n, NEVER, dtype=np.int64)
    mort = np.array([c.mortality for c in clinical.CONDITIONS])
    for year in range(clinical.PMSI_YEARS[0], clinical.PMSI_YEARS[-1] + 1):
        y0, y1 = day(year, 1, 1), day(year + 1, 1, 1)
        seg0 = np.maximum(entry, y0)
        length = y1 - seg0
        at_risk = (death == NEVER) & (length > 0)
        age = (seg0 + length / 2 - birth) / YEAR
        hazard = np.exp(-11.4 + 0.094 * np.maximum(age, 0)) * np.where(sex == 1, 1.6, 1.0)
        hazard += np.where(age < 1, 0.0035, 0.0)
        held = onset <= seg0[:, None]
        hazard *= np.prod(np.where(held, mort[None, :], 1.0), axis=1)
        t = rng.exponential(1 / hazard) * YEAR
        dies = at_risk & (t < length)
        death[dies] = seg0[dies] + t[dies].astype(np.int64)
    return death


def draw_people(seed: int, chunk: int, first_key: int, n: int) -> People:
    rng = rng_for(seed, chunk, "population")
    sex, age0 = _ages(rng, n)
    born = rng.random(n) < BORN_IN_PERIOD
    sex = np.where(born, np.where(rng.random(n) < 0.512, 1, 2), sex).astype(np.int8)
    birth = np.where(
        born,
        START + rng.integers(0, END - START + 1, n),
        START - (age0 * YEAR).astype(np.int64) - 1,
    ).astype(np.int64)
    twin_of = _twins(rng, birth)
    second = twin_of >= 0
    sex[second] = sex[twin_of[second]]
    birth[second] = birth[twin_of[second]]
    entry = np.maximum(birth, START)
    frailty = rng.standard_normal(n)
    age_start = (START - birth) / YEAR
    onset, variant = _conditions(rng, age_start, sex, frailty, birth, np.full(n, END + 1))
    death = _deaths(rng, sex, birth, entry, onset)
    exit_ = np.minimum(death, END + 1)
    onset = np.where(onset < exit_[:, None], onset, NEVER).astype(np.int32)
    commune = geography.draw_communes(rng, n)
    commune[second] = commune[twin_of[second]]
    geo = geography.geography()
    dep = geo.commune_dep[commune]
    home = np.empty(n, dtype=np.int32)
    for d in np.unique(dep):
        rows = np.flatnonzero(dep == d)
        options = geo.dep_hospitals[d]
        main = rng.random(len(rows)) < 0.5
        home[rows] = np.where(main, options[0], options[rng.integers(0, len(options), len(rows))])
    return People(
        chunk=chunk,
        key=np.arange(first_key, first_key + n, dtype=np.int64),
        sex=sex,
        birth=birth.astype(np.int32),
        death=np.where(death == NEVER, NEVER, death).astype(np.int32),
        entry=entry.astype(np.int32),
        exit=exit_.astype(np.int32),
        commune=commune,
        dep=dep,
        frailty=frailty,
        onset=onset,
        variant=variant,
        home=home,
        twin_of=twin_of,
    )


def _twins(rng: np.random.Generator, birth: np.ndarray) -> np.ndarray:
    """Pairs of same-sex twins among the young: row j+1 becomes the twin of row j."""
    n = len(birth)
    young = (START - birth) / YEAR < 20
    first = young & (rng.random(n) < clinical.SHARE_TWINS_UNDER_20 / 2)
    first[-1:] = False
    first[1:] &= ~first[:-1]  # a second twin is not also an elder twin
    twin_of = np.full(n, -1, dtype=np.int64)
    rows = np.flatnonzero(first)
    twin_of[rows + 1] = rows
    return twin_of
