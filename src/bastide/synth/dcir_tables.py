"""ER_PRS_F, ER_PHA_F and ER_CAM_F rows from assembled claims."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bastide.synth import geography
from bastide.synth.ambulatory import CCAM_ORDER, GP, LAB, NURSE, SPECIALIST
from bastide.synth.arrays import (
    DIGITS,
    digit_matrix,
    luhn_digit,
    rng_for,
    strings_from_matrix,
    take,
    yyyymm,
)
from bastide.synth.catalogue import Catalogue
from bastide.synth.dcir import INFORMATION, PHARMACY, Claims
from bastide.synth.identity import Identity
from bastide.synth.layout import snds_table
from bastide.synth.population import People

REM_RATE = {3313: 65.0, 3312: 30.0, 3341: 15.0, 3311: 100.0}
KIND_RATE = {GP: 70.0, SPECIALIST: 70.0, NURSE: 60.0, LAB: 60.0}
# Category digit of health-professional numbers (synthetic convention).
CATEGORY = {GP: 1, SPECIALIST: 1, NURSE: 6, LAB: 9, PHARMACY: 2}
OTHER_CATEGORY = 8


PER_DEPARTMENT = 2000  # professionals of each category per department


def _ps_numbers(dep: np.ndarray, category: np.ndarray, serial: np.ndarray) -> pa.StringArray:
    """Nine-character professional numbers: department, category, serial, Luhn key."""
    payload = np.concatenate([dep, digit_matrix(category, 1), digit_matrix(serial, 5)], axis=1)
    key = luhn_digit(payload - 48)
    return strings_from_matrix(np.concatenate([payload, DIGITS[key][:, None]], axis=1))


@lru_cache(maxsize=1)
def _professionals() -> pa.StringArray:
    """Every professional number, indexed (department, category index, serial)."""
    geo = geography.geography()
    codes = [d[:2] if d[:2].isdigit() else "20" for d in geo.dep_codes]
    digits = np.array(codes, dtype="S2").view(np.uint8).reshape(-1, 2)
    cats = np.array(sorted(set(CATEGORY.values()) | {OTHER_CATEGORY}))
    dep, cat, serial = np.meshgrid(
        np.arange(len(codes)), np.arange(len(cats)), np.arange(PER_DEPARTMENT), indexing="ij"
    )
    return _ps_numbers(digits[dep.ravel()], cats[cat.ravel()], 1 + serial.ravel())


def _professional(dep: np.ndarray, category: np.ndarray, serial: np.ndarray) -> pa.Array:
    cats = sorted(set(CATEGORY.values()) | {OTHER_CATEGORY})
    cat_index = np.searchsorted(np.array(cats), category)
    index = (dep.astype(np.int64) * len(cats) + cat_index) * PER_DEPARTMENT + serial
    return take(_professionals(), index)


def build(
    seed: int, claims: Claims, people: People, identity: Identity, cat: Catalogue
) -> dict[str, pa.Table]:
    rng = rng_for(seed, people.chunk, "dcir.tables")
    lines = claims.lines
    n = len(lines.person)
    person = lines.person
    psa, rng_gem = identity.psa_at(person, lines.day)
    geo = geography.geography()
    res_dpt = take(geo.res_dpt_pool, people.dep[person])
    res_com = take(geo.res_com_pool, people.commune[person])
    org = take(geo.org_pool, people.dep[person])

    # Who executed and who prescribed: the person's own GP and pharmacy, else someone
    # of their department; copies of a line (cancellations) keep the same people.
    gp = rng.integers(0, PER_DEPARTMENT, people.n)
    pharmacy = rng.integers(0, PER_DEPARTMENT, people.n)
    n_src = int(lines.source.max(initial=-1)) + 1
    other = rng.integers(0, PER_DEPARTMENT, n_src)[lines.source]
    kind = lines.kind
    serial = np.where(kind == GP, gp[person], np.where(kind == PHARMACY, pharmacy[person], other))
    category = np.array([CATEGORY.get(k, OTHER_CATEGORY) for k in range(6)])[kind]
    dep = people.dep[person]
    exe = _professional(dep, category, serial)
    prescribed = kind >= NURSE
    pre_serial = np.where(lines.psp_spe == 1, gp[person], other)
    pre = _professional(dep, np.ones(n, dtype=np.int64), pre_serial)
    rate = np.full(n, 60.0)
    for k, r in KIND_RATE.items():
        rate[kind == k] = r
    for nat, r in REM_RATE.items():
        rate[lines.nat == nat] = r
    age_days = lines.day - people.birth[person]
    ama = np.where(age_days < 730, 1000 + age_days // 30, age_days // 365.25).astype(np.int64)
    dpn = np.where(lines.role == INFORMATION, 71, 0)
    pre_day = lines.day - (lines.source * 7919) % 11
    keys = {
        "FLX_DIS_DTD": claims.flx_dis,
        "FLX_TRT_DTD": claims.flx_trt,
        "FLX_EMT_TYP": np.ones(n, dtype=np.int64),
        "FLX_EMT_NUM": 1 + people.dep[person] % 20,
        "FLX_EMT_ORD": claims.emt_ord,
        "ORG_CLE_NUM": org,
        "DCT_ORD_NUM": claims.dct,
        "PRS_ORD_NUM": claims.prs_ord,
        "REM_TYP_AFF": np.ones(n, dtype=np.int64),
    }
    amount = np.round(lines.amount, 2)
    prs = snds_table(
        "ER_PRS_F",
        {
            "BEN_AMA_COD": ama,
            "BEN_CDI_NIR": np.full(n, "00", dtype=object),
            "BEN_NAI_ANN": (
                people.birth[person]
                .astype("datetime64[D]")
                .astype("datetime64[Y]")
                .astype(np.int64)
                + 1970
            ),
            "BEN_NIR_PSA": strings_from_matrix(psa),
            "BEN_RNG_GEM": rng_gem,
            "BEN_RES_COM": res_com,
            "BEN_RES_DPT": res_dpt,
            "BEN_SEX_COD": people.sex[person],
            "ORG_AFF_BEN": org,
            "EXE_SOI_AMD": yyyymm(lines.day),
            "EXE_SOI_DTD": lines.day,
            "EXE_SOI_DTF": lines.day,
            "PRE_PRE_DTD": pa.array(pre_day.astype(np.int32), mask=~prescribed).cast(pa.date32()),
            "BSE_REM_MNT": np.round(amount * rate / 100, 2),
            "PRS_ACT_QTE": lines.qty.astype(float),
            "PRS_PAI_MNT": amount,
            "CPL_MAJ_TOP": np.zeros(n, dtype=np.int64),
            "DPN_QLF": dpn,
            "ORG_CLE_NEW": org,
            "PRS_DPN_QLP": dpn,
            "PRS_NAT_REF": lines.nat,
            "RGO_REM_TAU": rate,
            "PFS_EXE_NUM": exe,
            "PFS_PRE_NUM": pc.if_else(pa.array(prescribed), pre, pa.nulls(n, pa.string())),
            "PSE_SPE_COD": pa.array(lines.pse_spe.astype(np.int64), mask=kind == PHARMACY),
            "PSP_SPE_COD": pa.array(lines.psp_spe.astype(np.int64), mask=~prescribed),
            **keys,
        },
    )

    d = claims.details
    drugs = cat.drugs
    pha = snds_table(
        "ER_PHA_F",
        {
            "ORG_CLE_NEW": _at(org, d.line),
            "PHA_ACT_PRU": drugs.price[d.presentation],
            "PHA_ACT_QSN": d.boxes,
            "PHA_ORD_NUM": claims.pha_ord,
            "PHA_PRS_C13": drugs.cip13[d.presentation],
            "PHA_PRS_IDE": drugs.cip7[d.presentation],
            **{k: _at(v, d.line) for k, v in keys.items()},
        },
    )

    acts = np.flatnonzero(lines.ccam >= 0)
    codes = [cat.ccam[name][0] for name in CCAM_ORDER]
    cam = snds_table(
        "ER_CAM_F",
        {
            "CAM_ACT_COD": np.full(len(acts), "1", dtype=object),
            "CAM_ACT_PRU": np.abs(amount[acts]),
            "CAM_ORD_NUM": np.ones(len(acts), dtype=np.int64),
            "CAM_PRS_IDE": take(codes, lines.ccam[acts]),
            "CAM_REM_BSE": np.abs(amount[acts]),
            "CAM_TRT_PHA": np.zeros(len(acts), dtype=np.int64),
            "ORG_CLE_NEW": _at(org, acts),
            **{k: _at(v, acts) for k, v in keys.items()},
        },
    )
    return {"ER_PRS_F": prs, "ER_PHA_F": pha, "ER_CAM_F": cam}


def _at(values: np.ndarray | pa.Array, idx: np.ndarray) -> np.ndarray | pa.Array:
    if isinstance(values, pa.Array):
        return values.take(pa.array(idx, type=pa.int64()))
    return np.asarray(values)[idx]
