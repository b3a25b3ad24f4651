"""PMSI MCO tables of one year: T_MCOaaB (stay), T_MCOaaC (chaining, dates), T_MCOaaD
(associated diagnoses).

NIR_ANO_17 is the person's BEN_NIR_PSA current at admission. Some rows carry what real
PMSI carries and the ETL must drop: a placeholder identifier, a non-zero ``*_RET`` flag
(the identifier is then unusable), an error grouping (GHM 90Z00Z), or an
inter-establishment service record (SEJ_TYP 'B'). SEJ_TYP is otherwise empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from bastide.synth import clinical, geography, inpatient
from bastide.synth.arrays import (
    civil,
    ddmmyyyy,
    month_text,
    random_codes,
    rng_for,
    sas_datetime,
    strings_from_matrix,
    take,
    yyyymm,
)
from bastide.synth.catalogue import Catalogue
from bastide.synth.counters import Counters
from bastide.synth.identity import PSEUDONYM_WIDTH, Identity
from bastide.synth.layout import snds_table
from bastide.synth.stays import OK, PLACEHOLDER, RET_FLAG, Coded

RET_COLUMNS = (
    "NIR_RET",
    "NAI_RET",
    "SEX_RET",
    "SEJ_RET",
    "FHO_RET",
    "PMS_RET",
    "COH_NAI_RET",
    "COH_SEX_RET",
)
_PLACEHOLDER = np.array([np.frombuffer(p.encode(), np.uint8) for p in inpatient.PLACEHOLDERS])


@dataclass
class PmsiRows:
    year: np.ndarray  # discharge year of each stay
    rsa: np.ndarray  # RSA_NUM
    nir_ano_17: pa.StringArray
    tables: dict[str, pa.Table]  # T_MCOyyB/C/D by name


def chaining_ids(seed: int, chunk: int, coded: Coded, identity: Identity) -> pa.StringArray:
    rng = rng_for(seed, chunk, "pmsi.ids")
    stays = coded.stays
    n = len(stays)
    mat = random_codes(rng, n, PSEUDONYM_WIDTH)  # unusable values behind a RET flag
    ok = np.flatnonzero(coded.chaining == OK)
    mat[ok] = identity.psa_at(stays.person[ok], stays.entry[ok])[0]
    ph = np.flatnonzero(coded.chaining == PLACEHOLDER)
    mat[ph] = _PLACEHOLDER[(rng.random(len(ph)) < 0.1).astype(int)]
    return strings_from_matrix(mat)


def build(
    seed: int,
    chunk: int,
    coded: Coded,
    nir_ano_17: pa.StringArray,
    counters: Counters,
    cat: Catalogue,
) -> PmsiRows:
    rng = rng_for(seed, chunk, "pmsi.flags")
    stays = coded.stays
    n = len(stays)
    geo = geography.geography()
    exit_day = stays.entry + stays.los
    year = civil(exit_day)[0]
    # RSA_NUM: ten digits, unique within a year (ETA_NUM + RSA_NUM is the PMSI key).
    rsa = np.zeros(n, dtype=np.int64)
    for y in clinical.PMSI_YEARS:
        rows = year == y
        rsa[rows] = 1_000_000_000 + counters.take(f"rsa{y}", int(rows.sum()))
    eta = take(list(geo.finess), stays.eta)
    cim = pa.array(cat.cim10, pa.string())
    kinds = inpatient.STAY_KINDS
    ghm = np.array([k.ghm for k in kinds], dtype=object)[stays.kind] + coded.level
    ghm = np.where(coded.ghm_error, inpatient.ERROR_GHM, ghm)
    session = np.array([k.level == "Z" for k in kinds])[stays.kind]
    n_das = np.bincount(coded.das_stay, minlength=n)
    age = np.floor(stays.age).astype(np.int64)
    infant = age < 1
    # Transfers go to follow-up care (SSR, "2") mostly, else to another MCO unit ("1").
    sor_des = take(["1", "2"], (rng.random(n) < 0.7).astype(np.int64), stays.sor_mod != 7)
    dep = np.array([d[:2] for d in geo.dep_codes], dtype=object)[geo.finess_dep[stays.eta]]

    flags = {c: np.zeros(n, dtype=np.int8) for c in RET_COLUMNS}
    ret = np.flatnonzero(coded.chaining == RET_FLAG)
    which = rng.integers(0, len(RET_COLUMNS), len(ret))
    for i, col in enumerate(RET_COLUMNS):
        flags[col][ret[which == i]] = 1
    flags["NIR_RET"][coded.chaining == PLACEHOLDER] = 1

    b = {
        "ETA_NUM": eta,
        "RSA_NUM": rsa,
        "AGE_ANN": pa.array(age, mask=infant),
        "AGE_JOU": pa.array(np.floor(stays.age * 365.25).astype(np.int64), mask=~infant),
        "COD_SEX": take(["", "1", "2"], stays.sex),
        "DGN_PAL": take(cim, stays.dp),
        "DGN_REL": take(cim, np.maximum(stays.dr, 0), stays.dr < 0),
        "ENT_MOD": np.full(n, "8", dtype=object),
        "ENT_PRV": take(["5"], np.zeros(n, dtype=np.int64), ~stays.emergency),
        "GRG_GHM": ghm,
        "NBR_DGN": n_das,
        "NBR_RUM": np.ones(n, dtype=np.int64),
        "SEJ_NBJ": pa.array(stays.los.astype(np.int64), mask=session),
        "SEJ_TYP": take(["B"], np.zeros(n, dtype=np.int64), ~coded.inter_establishment),
        "SOR_ANN": year,
        "SOR_MOI": month_text(exit_day),
        "SOR_MOD": stays.sor_mod.astype(str).astype(object),
        "SOR_DES": sor_des,
        "BDI_DEP": dep,
    }
    c = {
        "ETA_NUM": eta,
        "RSA_NUM": rsa,
        "NIR_ANO_17": nir_ano_17,
        "EXE_SOI_DTD": sas_datetime(stays.entry),
        "EXE_SOI_DTF": sas_datetime(exit_day),
        "EXE_SOI_AMD": yyyymm(stays.entry),
        "EXE_SOI_AMF": yyyymm(exit_day),
        "ENT_DAT": ddmmyyyy(stays.entry),
        "SOR_DAT": ddmmyyyy(exit_day),
        "SOR_ANN": year,
        "SOR_MOI": month_text(exit_day),
        "DAT_RET": np.full(n, "0", dtype=object),
        **{k: (v.astype(str).astype(object) if k == "NAI_RET" else v) for k, v in flags.items()},
    }
    das_rank = np.arange(len(coded.das_stay)) - np.searchsorted(coded.das_stay, coded.das_stay)
    d = {
        "ETA_NUM": take(eta, coded.das_stay),
        "RSA_NUM": rsa[coded.das_stay].astype(str).astype(object),
        "ASS_DGN": take(cim, coded.das_code),
        "DGN_ASS_NUM": das_rank + 1,
    }
    tables: dict[str, pa.Table] = {}
    das_year = year[coded.das_stay]
    for y in clinical.PMSI_YEARS:
        yy = f"{y % 100:02d}"
        rows = pa.array(np.flatnonzero(year == y))
        drows = pa.array(np.flatnonzero(das_year == y))
        tables[f"T_MCO{yy}B"] = snds_table(f"T_MCO{yy}B", b).take(rows)
        tables[f"T_MCO{yy}C"] = snds_table(f"T_MCO{yy}C", c).take(rows)
        tables[f"T_MCO{yy}D"] = snds_table(f"T_MCO{yy}D", d).take(drows)
    return PmsiRows(year=year, rsa=rsa, nir_ano_17=nir_ano_17, tables=tables)
