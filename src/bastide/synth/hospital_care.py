"""What a hospital records during a stay: coded diagnoses, lab results, drugs given.

Diagnoses are the stay's CIM-10 codes (DP, DR, DAS). Lab results follow the patient:
HbA1c and glucose higher for diabetics, creatinine for kidney disease, haemoglobin low
after a GI bleed or chemotherapy, CRP high in infections. Drugs are in-hospital
administrations by UCD code: ropivacaine for surgery, an antibiotic for infections,
chemotherapy by cancer site.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bastide.synth import inpatient
from bastide.synth.arrays import take, timestamps
from bastide.synth.catalogue import Catalogue
from bastide.synth.counters import Counters
from bastide.synth.layout import omop_table
from bastide.synth.population import COND_INDEX, People
from bastide.synth.stays import KIND, Coded

EHR = 32817  # type concept "EHR"
EHR_ADMINISTRATION = 32818
INFECTIONS = ("pneumonia", "urinary_infection", "appendicitis", "copd_exacerbation")


def conditions(
    coded: Coded,
    sel: np.ndarray,
    pid: np.ndarray,
    vid: np.ndarray,
    counters: Counters,
    finess: str,
    cat: Catalogue,
) -> pa.Table:
    s = coded.stays
    local = np.full(len(s), -1)
    local[sel] = np.arange(len(sel))
    das = np.flatnonzero(local[coded.das_stay] >= 0)
    has_dr = np.flatnonzero(s.dr[sel] >= 0)
    rows = np.concatenate([np.arange(len(sel)), has_dr, local[coded.das_stay[das]]])
    code = np.concatenate([s.dp[sel], s.dr[sel][has_dr], coded.das_code[das]])
    role = np.concatenate([np.zeros(len(sel)), np.ones(len(has_dr)), np.full(len(das), 2)]).astype(
        np.int64
    )
    order = np.lexsort((role, rows))
    rows, code, role = rows[order], code[order], role[order]
    start = s.entry[sel][rows]
    return omop_table(
        "condition_occurrence",
        {
            "condition_occurrence_id": counters.take(f"{finess}.condition", len(rows)),
            "person_id": pid[rows],
            "condition_concept_id": 0,
            "condition_start_date": start,
            "condition_start_datetime": timestamps(start),
            "condition_end_date": (s.entry + s.los)[sel][rows],
            "condition_type_concept_id": EHR,
            "condition_status_concept_id": np.array([32902, 32908, 32908])[role],
            "visit_occurrence_id": vid[rows],
            "condition_source_value": take(pa.array(cat.cim10), code),
            "condition_source_concept_id": 0,
            "condition_status_source_value": take(["DP", "DR", "DAS"], role),
        },
    )


def _lab_values(
    rng: np.random.Generator,
    lab: np.ndarray,
    kind: np.ndarray,
    sex: np.ndarray,
    diabetic: np.ndarray,
    ckd: np.ndarray,
) -> np.ndarray:
    labs = inpatient.LABS
    mean = np.array([x.mean for x in labs])[lab]
    sd = np.array([x.sd for x in labs])[lab]
    loinc = np.array([x.loinc for x in labs])[lab]
    women = sex == 2
    hb, creat, crp = loinc == "718-7", loinc == "14682-9", loinc == "1988-5"
    glucose, a1c = loinc == "14749-6", loinc == "4548-4"
    mean = mean - hb * (
        1.2 * women
        + 4.5 * (kind == KIND["gi_bleeding"])
        + 1.5 * (kind == KIND["chemotherapy"])
        + ckd
    )
    mean = mean * np.where(creat, np.where(women, 0.8, 1.0) * np.where(ckd, 2.3, 1.0), 1.0)
    mean = mean + glucose * diabetic * 3.5 + a1c * diabetic * 2.2
    sd = sd + glucose * diabetic * 2.0 + a1c * diabetic * 0.85
    value = mean + sd * rng.standard_normal(len(lab))
    infection = np.isin(kind, [KIND[k] for k in INFECTIONS])
    crp_value = np.exp(
        np.where(infection, np.log(90), np.log(3))
        + np.where(infection, 0.6, 0.8) * rng.standard_normal(len(lab))
    )
    value = np.where(crp, crp_value, value)
    decimals = np.array([x.decimals for x in labs])[lab]
    value = np.maximum(value, 0.1)
    return np.where(decimals == 0, np.rint(value), np.round(value, 1))


def measurements(
    rng: np.random.Generator,
    coded: Coded,
    people: People,
    sel: np.ndarray,
    pid: np.ndarray,
    vid: np.ndarray,
    start_ts: np.ndarray,
    counters: Counters,
    finess: str,
) -> pa.Table:
    s = coded.stays
    labs = inpatient.LABS
    n = len(sel)
    nat = ~s.foreign[sel]
    person = np.where(nat, s.person[sel], 0)
    entry = s.entry[sel]
    diabetic = nat & (people.onset[person, COND_INDEX["diabetes_t2"]] <= entry)
    ckd = nat & (people.onset[person, COND_INDEX["ckd"]] <= entry)
    short = s.los[sel] == 0
    core = np.array([x.loinc in ("718-7", "14682-9") for x in labs])
    a1c = np.array([x.loinc == "4548-4" for x in labs])
    take_lab = np.where(short[:, None], core[None, :], ~a1c[None, :])
    take_lab |= a1c[None, :] & (~short & (diabetic | (rng.random(n) < 0.15)))[:, None]
    rows, lab = np.nonzero(take_lab)
    value = _lab_values(rng, lab, s.kind[sel][rows], s.sex[sel][rows], diabetic[rows], ckd[rows])
    when = start_ts[rows] + rng.integers(1, 7, len(rows)) * 3600
    day = when // 86_400
    return omop_table(
        "measurement",
        {
            "measurement_id": counters.take(f"{finess}.measurement", len(rows)),
            "person_id": pid[rows],
            "measurement_concept_id": 0,
            "measurement_date": day,
            "measurement_datetime": pa.array(when).cast(pa.timestamp("s")),
            "measurement_type_concept_id": EHR,
            "value_as_number": value,
            "unit_source_value": take([x.unit for x in labs], lab),
            "range_low": np.array([x.low for x in labs], dtype=float)[lab],
            "range_high": np.array([x.high for x in labs], dtype=float)[lab],
            "visit_occurrence_id": vid[rows],
            "measurement_source_value": take([x.loinc for x in labs], lab),
            "measurement_source_concept_id": 0,
            "value_source_value": pa.array(value).cast(pa.string()),
        },
    )


def drugs(
    rng: np.random.Generator,
    coded: Coded,
    sel: np.ndarray,
    pid: np.ndarray,
    vid: np.ndarray,
    counters: Counters,
    finess: str,
    cat: Catalogue,
) -> pa.Table:
    s = coded.stays
    kinds = inpatient.STAY_KINDS
    kind = s.kind[sel]
    surgical = np.array([k.surgical for k in kinds])[kind]
    infection = np.array([k.antibiotic for k in kinds])[kind]
    chemo = kind == KIND["chemotherapy"]
    cim = np.array(cat.cim10, dtype=object)
    rows, codes, days, route = [], [], [], []
    for mask, group, n_days, how in (
        (surgical, "anaesthesia", None, "perineurale"),
        (infection, "antibiotic", 7, "IV"),
    ):
        r = np.flatnonzero(mask)
        options = cat.ucd[group]
        rows.append(r)
        codes.append(options[rng.integers(0, len(options), len(r))])
        days.append(
            np.minimum(s.los[sel][r], n_days) if n_days else np.zeros(len(r), dtype=np.int32)
        )
        route.append(np.full(len(r), how, dtype=object))
    r = np.flatnonzero(chemo)
    site = cim[np.maximum(s.dr[sel][r], 0)]
    for group in ("C509", "C61", "C349", "C189"):
        g = r[site == group]
        options = cat.ucd[group]
        rows.append(g)
        codes.append(options[rng.integers(0, len(options), len(g))])
        days.append(np.zeros(len(g), dtype=np.int32))
        route.append(np.full(len(g), "IV", dtype=object))
    row = np.concatenate(rows)
    order = np.argsort(row, kind="stable")
    row = row[order]
    code = np.concatenate(codes)[order]
    length = np.concatenate(days)[order].astype(np.int64)
    start = s.entry[sel][row].astype(np.int64)
    return omop_table(
        "drug_exposure",
        {
            "drug_exposure_id": counters.take(f"{finess}.drug", len(row)),
            "person_id": pid[row],
            "drug_concept_id": 0,
            "drug_exposure_start_date": start,
            "drug_exposure_start_datetime": timestamps(start, 10 * 3600),
            "drug_exposure_end_date": start + length,
            "drug_exposure_end_datetime": timestamps(start + length, 18 * 3600),
            "drug_type_concept_id": EHR_ADMINISTRATION,
            "quantity": (length + 1).astype(float),
            "route_source_value": np.concatenate(route)[order],
            "visit_occurrence_id": vid[row],
            "drug_source_value": code,
            "drug_source_concept_id": 0,
        },
    )
