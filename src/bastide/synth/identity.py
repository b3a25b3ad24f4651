"""Identifiers of each person, as the French systems hold them.

- NIR (15 characters): sex, year and month of birth, department and commune of birth
  (``99`` + country for people born abroad), order number, key = 97 - (number mod 97),
  with Corsica's 2A/2B counted as 19/18.
- BEN_NIR_ANO: pseudonym of the person's own NIR, stable; BEN_IDT_ANO carries the same
  value (the identifier causes of death are filed under).
- BEN_NIR_PSA: pseudonym of (rights-opener's NIR, birth date, sex). Children on a parent's
  cover share the parent's opener NIR, so same-sex twins get the same BEN_NIR_PSA and are
  told apart by BEN_RNG_GEM. Young people who move to their own cover during the period
  have two BEN_NIR_PSA; claims use the one current at the care date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from bastide.synth import clinical, geography
from bastide.synth.arrays import civil, digit_matrix, random_codes, rng_for, strings_from_matrix
from bastide.synth.population import END, NEVER, START, YEAR, People

PSEUDONYM_WIDTH = 17


@dataclass
class Identity:
    nir: np.ndarray  # (n, 15) uint8
    nir_ano: np.ndarray  # (n, 17) uint8, also BEN_IDT_ANO
    psa1: np.ndarray  # (n, 17) uint8, cover at the start
    rng1: np.ndarray  # BEN_RNG_GEM of the first cover
    ass1: np.ndarray  # (n, 17) opener's pseudonymised NIR of the first cover
    psa2: np.ndarray  # (n, 17) own cover after a switch (meaningful where switch < NEVER)
    switch: np.ndarray  # first day under psa2, NEVER if no switch

    def psa_at(self, rows: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(BEN_NIR_PSA matrix, BEN_RNG_GEM) of people ``rows`` on ``days``."""
        second = days >= self.switch[rows]
        mat = np.where(second[:, None], self.psa2[rows], self.psa1[rows])
        return mat, np.where(second, 1, self.rng1[rows]).astype(np.int8)

    def strings(self, field: str, rows: np.ndarray | None = None) -> pa.StringArray:
        mat = getattr(self, field)
        return strings_from_matrix(mat if rows is None else mat[rows])


def _birth_places(rng: np.random.Generator, people: People) -> tuple[np.ndarray, np.ndarray]:
    """(department, commune) of birth as (n, 2) and (n, 3) uint8 matrices."""
    geo = geography.geography()
    n = people.n
    elsewhere = rng.random(n) < clinical.SHARE_BORN_ELSEWHERE
    abroad = (rng.random(n) < clinical.SHARE_BORN_ABROAD) & (people.birth < START)
    commune = np.where(elsewhere, geography.draw_communes(rng, n), people.commune)
    codes = geo.commune_codes[commune]
    dep = np.array([c[:2] for c in codes], dtype="S2").view(np.uint8).reshape(n, 2)
    com = np.array([c[2:] for c in codes], dtype="S3").view(np.uint8).reshape(n, 3)
    countries = np.array(geography.BIRTH_COUNTRIES, dtype="S3").view(np.uint8).reshape(-1, 3)
    country = countries[rng.integers(0, len(countries), n)]
    dep = np.where(abroad[:, None], np.frombuffer(b"99", np.uint8)[None, :], dep)
    com = np.where(abroad[:, None], country, com)
    twin = people.twin_of >= 0
    dep[twin], com[twin] = dep[people.twin_of[twin]], com[people.twin_of[twin]]
    return dep, com


def _number(body: np.ndarray) -> np.ndarray:
    digits = body[:, :13].astype(np.int64) - 48
    # Corsican departments 2A and 2B count as 19 and 18.
    digits[body[:, 6] == ord("A"), 5:7] = (1, 9)
    digits[body[:, 6] == ord("B"), 5:7] = (1, 8)
    number = np.zeros(len(body), dtype=np.int64)
    for k in range(13):
        number = number * 10 + digits[:, k]
    return number


def nir_key(body: np.ndarray) -> np.ndarray:
    """Keys of NIR bodies (uint8 matrix, 13 first characters used)."""
    return 97 - _number(body) % 97


def nir_number(nir: np.ndarray) -> np.ndarray:
    """The 13-character bodies of NIRs as integers, to test uniqueness."""
    return _number(nir)


def set_order(nir: np.ndarray, rows: np.ndarray, order: np.ndarray) -> None:
    """Write order numbers (1-999) into NIRs and recompute their keys."""
    nir[rows, 10:13] = digit_matrix(order, 3)
    nir[rows, 13:15] = digit_matrix(nir_key(nir[rows, :13]), 2)


def draw_identity(seed: int, people: People) -> Identity:
    rng = rng_for(seed, people.chunk, "identity")
    n = people.n
    year, month, _ = civil(people.birth)
    dep, com = _birth_places(rng, people)
    nir = np.empty((n, 15), dtype=np.uint8)
    nir[:, 0] = ord("0") + people.sex
    nir[:, 1:3] = digit_matrix(year % 100, 2)
    nir[:, 3:5] = digit_matrix(month, 2)
    nir[:, 5:7] = dep
    nir[:, 7:10] = com
    set_order(nir, np.arange(n), rng.integers(1, 1000, n))

    nir_ano = random_codes(rng, n, PSEUDONYM_WIDTH)
    own = random_codes(rng, n, PSEUDONYM_WIDTH)
    parent = random_codes(rng, n, PSEUDONYM_WIDTH)
    parent_nir = random_codes(rng, n, PSEUDONYM_WIDTH)
    age = (START - people.birth) / YEAR
    young = (age >= 14) & (age < 25)
    switch_day = START + 30 + (rng.random(n) * (END - START - 60)).astype(np.int64)
    switches = young & (rng.random(n) < clinical.SHARE_COVER_SWITCH_14_24)
    switches &= (switch_day > people.entry + 30) & (switch_day < people.exit - 30)
    on_parent = (age < 14) | (young & ((age < 18) | switches))

    rng1 = np.ones(n, dtype=np.int8)
    twin = np.flatnonzero(people.twin_of >= 0)
    elder = people.twin_of[twin]
    shared = on_parent[twin] & on_parent[elder]
    parent[twin[shared]] = parent[elder[shared]]
    parent_nir[twin[shared]] = parent_nir[elder[shared]]
    rng1[twin[shared]] = 2

    psa1 = np.where(on_parent[:, None], parent, own)
    ass1 = np.where(on_parent[:, None], parent_nir, nir_ano)
    return Identity(
        nir=nir,
        nir_ano=nir_ano,
        psa1=psa1,
        rng1=rng1,
        ass1=ass1,
        psa2=own,
        switch=np.where(switches, switch_day, NEVER).astype(np.int32),
    )
