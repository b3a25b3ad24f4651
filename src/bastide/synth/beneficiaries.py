"""IR_BEN_R (beneficiaries), KI_CCI_R (causes of death) and IR_PHA_R (the CIP13
nomenclature shipped with the extract)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bastide.synth import geography, nomenclatures
from bastide.synth.arrays import civil, day, month_text, strings_from_matrix, take, yyyymm
from bastide.synth.catalogue import Catalogue
from bastide.synth.deaths import Deaths
from bastide.synth.identity import Identity
from bastide.synth.layout import snds_table
from bastide.synth.population import END, NEVER, START, People

ALIVE = day(1600, 1, 1)  # BEN_DCD_DTE of people alive, as real SNDS writes it


def ir_ben_r(people: People, identity: Identity, consumer: np.ndarray) -> pa.Table:
    """One row per (BEN_NIR_PSA, BEN_RNG_GEM): a second row for people who changed cover."""
    switched = np.flatnonzero(identity.switch < NEVER)
    rows = np.concatenate([np.arange(people.n), switched])
    second = np.arange(len(rows)) >= people.n
    psa = np.where(second[:, None], identity.psa2[rows], identity.psa1[rows])
    ass = np.where(second[:, None], identity.nir_ano[rows], identity.ass1[rows])
    rng_gem = np.where(second, 1, identity.rng1[rows])
    dead = people.death[rows] < NEVER
    death = np.where(dead, people.death[rows], ALIVE)
    geo = geography.geography()
    # Registered a few weeks after birth, or at some date before the period (spread by
    # a fixed hash of the row so that it needs no random draw).
    spread = (people.key[rows] * 2_654_435_761 % 7_300).astype(np.int64)
    inserted = np.where(
        second, identity.switch[rows], np.maximum(people.birth[rows] + 15, START - 365 - spread)
    )
    updated = np.where(
        dead,
        people.death[rows] + 20,
        np.where(second | (identity.switch[rows] == NEVER), inserted, identity.switch[rows]),
    )
    updated = np.minimum(np.maximum(updated, inserted), END + 60)
    nir_ano = strings_from_matrix(identity.nir_ano[rows])
    order = np.argsort(rows, kind="stable")
    table = snds_table(
        "IR_BEN_R",
        {
            "BEN_NIR_PSA": strings_from_matrix(psa),
            "BEN_RNG_GEM": rng_gem,
            "BEN_NIR_ANO": nir_ano,
            "BEN_IDT_ANO": nir_ano,
            "BEN_IDT_TOP": np.ones(len(rows), dtype=np.int8),
            "ASS_NIR_ANO": strings_from_matrix(ass),
            "BEN_CDI_NIR": np.full(len(rows), "00", dtype=object),
            "BEN_NAI_ANN": civil(people.birth[rows])[0],
            "BEN_NAI_MOI": month_text(people.birth[rows]),
            "BEN_SEX_COD": people.sex[rows],
            "BEN_DCD_DTE": death,
            "BEN_DCD_AME": yyyymm(people.death[rows], ~dead),
            "ORG_AFF_BEN": take(geo.org_pool, people.dep[rows]),
            "BEN_RES_DPT": take(geo.res_dpt_pool, people.dep[rows]),
            "BEN_RES_COM": take(geo.res_com_pool, people.commune[rows]),
            "BEN_TOP_CNS": consumer[rows].astype(np.int8),
            "ORG_CLE_NEW": take(geo.org_pool, people.dep[rows]),
            "BEN_DTE_INS": inserted,
            "BEN_DTE_MAJ": updated,
        },
    )
    return table.take(pa.array(order))


def ki_cci_r(people: People, identity: Identity, deaths: Deaths, cat: Catalogue) -> pa.Table:
    rows = deaths.rows
    geo = geography.geography()
    nir_ano = strings_from_matrix(identity.nir_ano[rows])
    when = people.death[rows]
    return snds_table(
        "KI_CCI_R",
        {
            "BEN_IDT_ANO": nir_ano,
            "BEN_IDT_TOP": np.ones(len(rows), dtype=np.int64),
            "BEN_NIR_ANO": nir_ano,
            "FLX_PER_ANN": civil(when)[0],
            "DCD_DPT_COD": take(geo.res_dpt_pool, people.dep[rows]),
            "DCD_COM_COD": take(geo.res_com_pool, people.commune[rows]),
            "BEN_RES_DPT": take(geo.res_dpt_pool, people.dep[rows]),
            "BEN_RES_COM": take(geo.res_com_pool, people.commune[rows]),
            "BEN_DCD_DTE": when,
            "BEN_DCD_AME": yyyymm(when),
            "BEN_NAI_ANN": civil(people.birth[rows])[0],
            "BEN_NAI_MOI": month_text(people.birth[rows]),
            "BEN_SEX_COD": people.sex[rows],
            "DCD_CIM_COD": take(pa.array(cat.cim10), deaths.cause),
        },
    )


def ir_pha_r(cat: Catalogue) -> pa.Table:
    """Every presentation the generator can dispense, with its ATC class."""
    drugs = cat.drugs
    atc5, atc3 = nomenclatures.atc(5), nomenclatures.atc(3)
    atc = [drugs.atc[s] for s in drugs.substance]
    pres = drugs.presentations
    return snds_table(
        "IR_PHA_R",
        {
            "PHA_CIP_C13": drugs.cip13,
            "PHA_PRS_IDE": drugs.cip7,
            "PHA_MED_NOM": [p.name.split(",")[0].upper() for p in pres],
            "PHA_LAB_NOM": [p.holder for p in pres],
            "PHA_PRD_LIB1": [p.label for p in pres],
            "PHA_FRM_LIB": [p.form for p in pres],
            "PHA_TAU_COD": [str(p.rate) for p in pres],
            "PHA_PRI_UNI": [f"{p.price:.2f}" for p in pres],
            "PHA_UNT_NBR_DSES": [str(p.units) if p.units else None for p in pres],
            "PHA_ATC_C07": atc,
            "PHA_ATC_L07": [atc5[a] for a in atc],
            "PHA_ATC_C03": [a[:4] for a in atc],
            "PHA_ATC_L03": [atc3.get(a[:4], "") for a in atc],
        },
    )
