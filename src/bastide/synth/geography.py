"""Where people live and where they are hospitalised: departments, communes, FINESS.

Residence codes follow SNDS: BEN_RES_DPT is three characters (``075``; Corsica ``209``;
overseas ``097``) and BEN_RES_COM the last three digits of the INSEE commune code. Birth
places in the NIR keep INSEE's two-character department (``2A``, ``97``) and three-digit
commune. Hospitals get real-format FINESS numbers (department, serial, Luhn key).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from bastide.synth import nomenclatures
from bastide.synth.arrays import digit_matrix, luhn_digit

# Resident population by department, thousands (INSEE legal populations, about 2020).
DEPARTMENT_POPULATION: dict[str, int] = {
    "01": 657,
    "02": 529,
    "03": 335,
    "04": 165,
    "05": 141,
    "06": 1094,
    "07": 328,
    "08": 270,
    "09": 153,
    "10": 310,
    "11": 374,
    "12": 279,
    "13": 2043,
    "14": 694,
    "15": 144,
    "16": 352,
    "17": 651,
    "18": 302,
    "19": 240,
    "2A": 158,
    "2B": 182,
    "21": 534,
    "22": 600,
    "23": 116,
    "24": 413,
    "25": 543,
    "26": 516,
    "27": 599,
    "28": 431,
    "29": 915,
    "30": 748,
    "31": 1400,
    "32": 191,
    "33": 1623,
    "34": 1176,
    "35": 1079,
    "36": 219,
    "37": 610,
    "38": 1271,
    "39": 259,
    "40": 413,
    "41": 330,
    "42": 765,
    "43": 227,
    "44": 1429,
    "45": 680,
    "46": 174,
    "47": 331,
    "48": 76,
    "49": 818,
    "50": 496,
    "51": 566,
    "52": 172,
    "53": 307,
    "54": 733,
    "55": 184,
    "56": 759,
    "57": 1044,
    "58": 204,
    "59": 2608,
    "60": 829,
    "61": 279,
    "62": 1465,
    "63": 662,
    "64": 682,
    "65": 229,
    "66": 479,
    "67": 1140,
    "68": 767,
    "69": 1875,
    "70": 235,
    "71": 551,
    "72": 566,
    "73": 436,
    "74": 826,
    "75": 2166,
    "76": 1255,
    "77": 1421,
    "78": 1448,
    "79": 375,
    "80": 570,
    "81": 389,
    "82": 261,
    "83": 1076,
    "84": 561,
    "85": 685,
    "86": 438,
    "87": 373,
    "88": 364,
    "89": 335,
    "90": 141,
    "91": 1301,
    "92": 1624,
    "93": 1644,
    "94": 1407,
    "95": 1249,
    "971": 384,
    "972": 361,
    "973": 285,
    "974": 861,
    "976": 279,
}

# Countries of birth of people born abroad (INSEE country codes after the "99" department).
BIRTH_COUNTRIES = ("350", "352", "351", "139", "127", "134", "109", "131", "351", "392")

# Corsican FINESS begin with 2A/2B, which the integer ETA_NUM of the PMSI schema cannot
# carry: Corsican residents are hospitalised in these mainland departments instead.
CORSICA_REFERRAL = ("13", "06")
PEOPLE_PER_HOSPITAL = 90_000


@dataclass(frozen=True)
class Geography:
    dep_codes: tuple[str, ...]  # INSEE department codes
    dep_weights: np.ndarray  # population shares
    res_dpt: tuple[str, ...]  # BEN_RES_DPT per department
    commune_codes: np.ndarray  # all INSEE commune codes (str, object)
    commune_suffix: np.ndarray  # last three characters: BEN_RES_COM and the NIR commune
    commune_dep: np.ndarray  # department index of each commune
    commune_start: np.ndarray  # first commune index of each department
    commune_cum: list[np.ndarray]  # cumulative weights of communes within each department
    finess: tuple[str, ...]  # every MCO establishment, 9 characters
    finess_dep: np.ndarray  # department index of each establishment
    dep_hospitals: list[np.ndarray]  # establishments serving each department's residents
    res_dpt_pool: pa.StringArray  # BEN_RES_DPT of each department
    res_com_pool: pa.StringArray  # BEN_RES_COM of each commune
    org_pool: pa.StringArray  # health-insurance fund (ORG_AFF_BEN) of each department

    def res_codes(self, commune_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(BEN_RES_DPT, BEN_RES_COM) as object arrays."""
        dep = self.commune_dep[commune_idx]
        return np.array(self.res_dpt, dtype=object)[dep], self.commune_suffix[commune_idx]


def _res_dpt(dep: str) -> str:
    return "209" if dep in ("2A", "2B") else "0" + dep[:2]


def _stable_order(codes: list[str]) -> list[str]:
    return sorted(codes, key=lambda c: zlib.crc32(c.encode()))


def _finess(dep: str, serial: np.ndarray) -> list[str]:
    # Metropolitan FINESS: 2-digit department + 6 digits + key; overseas: 3 + 5 + key.
    width = 8 - len(dep)
    payload = np.concatenate(
        [
            np.tile(np.frombuffer(dep.encode(), np.uint8) - 48, (len(serial), 1)),
            digit_matrix(serial, width) - 48,
        ],
        axis=1,
    )
    key = luhn_digit(payload)
    return [dep + f"{s:0{width}d}" + str(k) for s, k in zip(serial, key, strict=True)]


@lru_cache(maxsize=1)
def geography() -> Geography:
    deps = [d for d, _, _ in nomenclatures.departments() if d in DEPARTMENT_POPULATION]
    chef = {d: c for d, _, c in nomenclatures.departments()}
    pops = np.array([DEPARTMENT_POPULATION[d] for d in deps], dtype=float)
    by_dep = nomenclatures.communes()
    codes: list[str] = []
    dep_of: list[int] = []
    starts: list[int] = []
    cums: list[np.ndarray] = []
    for i, d in enumerate(deps):
        # The chef-lieu first, the rest in a fixed pseudo-random order; Zipf-like weights
        # give a few large towns and many villages.
        others = _stable_order([c for c in by_dep[d] if c != chef[d]])
        ordered = [chef[d], *others] if chef[d] in by_dep[d] else others
        weights = 1.0 / np.arange(1, len(ordered) + 1) ** 1.05
        starts.append(len(codes))
        codes.extend(ordered)
        dep_of.extend([i] * len(ordered))
        cums.append(np.cumsum(weights) / weights.sum())

    finess: list[str] = []
    finess_dep: list[int] = []
    own: list[np.ndarray] = []
    for i, d in enumerate(deps):
        if d in ("2A", "2B"):
            own.append(np.array([], dtype=np.int64))
            continue
        count = max(2, round(DEPARTMENT_POPULATION[d] * 1000 / PEOPLE_PER_HOSPITAL))
        first = len(finess)
        finess.extend(_finess(d, np.arange(1, count + 1) * 37 + 100))
        finess_dep.extend([i] * count)
        own.append(np.arange(first, first + count))
    referral = np.concatenate([own[deps.index(d)][:2] for d in CORSICA_REFERRAL])
    served = [h if len(h) else referral for h in own]
    return Geography(
        dep_codes=tuple(deps),
        dep_weights=pops / pops.sum(),
        res_dpt=tuple(_res_dpt(d) for d in deps),
        commune_codes=np.array(codes, dtype=object),
        commune_suffix=np.array([c[-3:] for c in codes], dtype=object),
        commune_dep=np.array(dep_of, dtype=np.int32),
        commune_start=np.array(starts, dtype=np.int64),
        commune_cum=cums,
        finess=tuple(finess),
        finess_dep=np.array(finess_dep, dtype=np.int32),
        dep_hospitals=served,
        res_dpt_pool=pa.array([_res_dpt(d) for d in deps], pa.string()),
        res_com_pool=pa.array([c[-3:] for c in codes], pa.string()),
        org_pool=pa.array([f"01C{_res_dpt(d)}000" for d in deps], pa.string()),
    )


def extract_hospitals(count: int) -> list[int]:
    """Indices of the establishments that deliver a hospital extract: the first (largest)
    establishment of each of the ``count`` most populous departments."""
    geo = geography()
    order = np.argsort(-geo.dep_weights, kind="stable")
    chosen = [int(geo.dep_hospitals[d][0]) for d in order if geo.dep_codes[d] not in ("2A", "2B")]
    return chosen[:count]


def draw_communes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Residence communes (global commune indices) of n people, population-weighted."""
    geo = geography()
    dep = rng.choice(len(geo.dep_codes), size=n, p=geo.dep_weights)
    u = rng.random(n)
    out = np.empty(n, dtype=np.int64)
    for d in np.unique(dep):
        rows = dep == d
        within = np.searchsorted(geo.commune_cum[d], u[rows], side="right")
        out[rows] = geo.commune_start[d] + np.minimum(within, len(geo.commune_cum[d]) - 1)
    return out
