"""Hospital extracts in OMOP CDM v5.4: one per participating establishment (FINESS).

A hospital knows the patients it admitted and their stays (the same stays PMSI has for
that FINESS, same dates), the diagnoses coded, lab results and in-hospital drugs. Its
PERSON table holds a local person_id and, as person_source_value, the 17-character
chaining identifier the hospital computed (the patient's BEN_NIR_PSA at the last stay),
with real-life noise: some empty, some with one character wrong, and foreign patients
absent from the national extract.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bastide.synth import clinical, geography
from bastide.synth.arrays import (
    ALPHANUM,
    random_codes,
    rng_for,
    strings_from_matrix,
    take,
    timestamps,
)
from bastide.synth.catalogue import Catalogue
from bastide.synth.counters import Counters
from bastide.synth.foreigners import Foreigners
from bastide.synth.identity import PSEUDONYM_WIDTH, Identity
from bastide.synth.layout import omop_table
from bastide.synth.population import COND_INDEX, People
from bastide.synth.stays import KIND, Coded

ABSENT, LINKABLE, MISSING, CORRUPTED, UNKNOWN_ID = 0, 1, 2, 3, 4
STATUS_NAMES = {
    LINKABLE: "ok",
    MISSING: "missing",
    CORRUPTED: "corrupted",
    UNKNOWN_ID: "not_national",
}
TABLES = (
    "PERSON",
    "VISIT_OCCURRENCE",
    "CONDITION_OCCURRENCE",
    "MEASUREMENT",
    "DRUG_EXPOSURE",
    "OBSERVATION_PERIOD",
)
EHR = 32817  # type concept "EHR"
EHR_ADMINISTRATION = 32818
INFECTIONS = ("pneumonia", "urinary_infection", "appendicitis", "copd_exacerbation")


@dataclass
class HospitalRows:
    tables: dict[tuple[str, str], pa.Table]  # (FINESS, TABLE) -> rows of this chunk
    person_id: np.ndarray  # (people, hospitals) local person_id, 0 if not a patient
    status: np.ndarray  # (people, hospitals) ABSENT, LINKABLE, MISSING or CORRUPTED
    foreign_person_id: np.ndarray
    foreign_status: np.ndarray  # MISSING or UNKNOWN_ID
    visit_id: np.ndarray  # per stay, 0 if not at a participating hospital


def _corrupt(rng: np.random.Generator, mat: np.ndarray) -> np.ndarray:
    """Change one character of each row to another alphanumeric character."""
    out = mat.copy()
    pos = rng.integers(0, mat.shape[1], len(mat))
    current = np.searchsorted(np.sort(ALPHANUM), mat[np.arange(len(mat)), pos])
    shifted = np.sort(ALPHANUM)[
        (current + rng.integers(1, len(ALPHANUM), len(mat))) % len(ALPHANUM)
    ]
    out[np.arange(len(mat)), pos] = shifted
    return out


def build(
    seed: int,
    chunk: int,
    coded: Coded,
    people: People,
    identity: Identity,
    foreigners: Foreigners,
    extract: list[int],
    counters: Counters,
    cat: Catalogue,
) -> HospitalRows:
    rng = rng_for(seed, chunk, "hospitals")
    stays = coded.stays
    geo = geography.geography()
    person_id = np.zeros((people.n, len(extract)), dtype=np.int64)
    status = np.zeros((people.n, len(extract)), dtype=np.int8)
    f_person = np.zeros(foreigners.n, dtype=np.int64)
    f_status = np.zeros(foreigners.n, dtype=np.int8)
    visit_id = np.zeros(len(stays), dtype=np.int64)
    tables: dict[tuple[str, str], pa.Table] = {}
    for h, eta in enumerate(extract):
        finess = geo.finess[eta]
        sel = np.flatnonzero(stays.eta == eta)
        # Patients: nationals and foreigners, numbered in a random order.
        key = stays.person[sel] * 2 + stays.foreign[sel]
        patients, inverse = np.unique(key, return_inverse=True)
        shuffled = rng.permutation(len(patients))
        pid = np.empty(len(patients), dtype=np.int64)
        pid[shuffled] = counters.take(f"{finess}.person", len(patients))
        is_foreign = (patients % 2).astype(bool)
        row = patients // 2
        order = np.lexsort((stays.entry[sel], pid[inverse]))
        sel, inverse = sel[order], inverse[order]
        vid = counters.take(f"{finess}.visit", len(sel))
        visit_id[sel] = vid

        # The identifier the hospital holds: BEN_NIR_PSA current at the last stay here.
        last = np.zeros(len(patients), dtype=np.int64)
        np.maximum.at(last, inverse, stays.entry[sel])
        src = random_codes(rng, len(patients), PSEUDONYM_WIDTH)
        nat = np.flatnonzero(~is_foreign)
        src[nat] = identity.psa_at(row[nat], last[nat])[0]
        u = rng.random(len(patients))
        state = np.where(
            u < clinical.SHARE_SOURCE_MISSING,
            MISSING,
            np.where(
                u < clinical.SHARE_SOURCE_MISSING + clinical.SHARE_SOURCE_CORRUPT,
                CORRUPTED,
                LINKABLE,
            ),
        )
        state = np.where(is_foreign, np.where(u < 0.6, MISSING, UNKNOWN_ID), state)
        bad = np.flatnonzero(state == CORRUPTED)
        src[bad] = _corrupt(rng, src[bad])
        person_id[row[nat], h] = pid[nat]
        status[row[nat], h] = state[nat]
        f_person[row[is_foreign]] = pid[is_foreign]
        f_status[row[is_foreign]] = state[is_foreign]

        sex = people.sex[np.where(is_foreign, 0, row)].copy()
        birth = people.birth[np.where(is_foreign, 0, row)].copy()
        sex[is_foreign] = foreigners.sex[row[is_foreign]]
        birth[is_foreign] = foreigners.birth[row[is_foreign]]
        by_id = np.argsort(pid)
        tables[(finess, "PERSON")] = _person(
            pid[by_id],
            sex[by_id],
            birth[by_id],
            strings_from_matrix(src[by_id]),
            state[by_id] == MISSING,
        )
        visits, start_ts = _visits(rng, coded, sel, pid[inverse], vid, finess)
        tables[(finess, "VISIT_OCCURRENCE")] = visits
        tables[(finess, "CONDITION_OCCURRENCE")] = _conditions(
            coded, sel, pid[inverse], vid, counters, finess, cat
        )
        tables[(finess, "MEASUREMENT")] = _measurements(
            rng, coded, people, sel, pid[inverse], vid, start_ts, counters, finess
        )
        tables[(finess, "DRUG_EXPOSURE")] = _drugs(
            rng, coded, sel, pid[inverse], vid, counters, finess, cat
        )
        tables[(finess, "OBSERVATION_PERIOD")] = _periods(
            coded, sel, inverse, pid, counters, finess
        )
    return HospitalRows(tables, person_id, status, f_person, f_status, visit_id)


def _person(
    pid: np.ndarray, sex: np.ndarray, birth: np.ndarray, source: pa.Array, missing: np.ndarray
) -> pa.Table:
    days = birth.astype("datetime64[D]")
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    return omop_table(
        "person",
        {
            "person_id": pid,
            "gender_concept_id": np.where(sex == 1, 8507, 8532),
            "year_of_birth": year,
            "month_of_birth": month,
            "day_of_birth": dom,
            "birth_datetime": timestamps(birth),
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
            "person_source_value": pc.if_else(
                pa.array(missing), pa.nulls(len(pid), pa.string()), source
            ),
            "gender_source_value": np.where(sex == 1, "M", "F").astype(object),
            "gender_source_concept_id": 0,
            "race_source_concept_id": 0,
            "ethnicity_source_concept_id": 0,
        },
    )


def _visits(
    rng: np.random.Generator,
    coded: Coded,
    sel: np.ndarray,
    pid: np.ndarray,
    vid: np.ndarray,
    finess: str,
) -> tuple[pa.Table, np.ndarray]:
    s = coded.stays
    n = len(sel)
    emergency = s.emergency[sel]
    hour = np.where(emergency, rng.integers(0, 24, n), rng.integers(7, 11, n))
    start = s.entry[sel].astype(np.int64) * 86_400 + hour * 3600 + rng.integers(0, 60, n) * 60
    exit_day = (s.entry + s.los)[sel].astype(np.int64)
    end = np.maximum(exit_day * 86_400 + rng.integers(9, 19, n) * 3600, start + 3600)
    end = np.where(s.los[sel] == 0, start + rng.integers(2, 9, n) * 3600, end)
    concept = np.where(emergency, 262, np.where(s.los[sel] == 0, 9202, 9201))
    discharged = np.array(
        ["", "", "", "", "", "", "", "transfert", "domicile", "deces"], dtype=object
    )
    table = omop_table(
        "visit_occurrence",
        {
            "visit_occurrence_id": vid,
            "person_id": pid,
            "visit_concept_id": concept,
            "visit_start_date": s.entry[sel],
            "visit_start_datetime": pa.array(start).cast(pa.timestamp("s")),
            "visit_end_date": exit_day,
            "visit_end_datetime": pa.array(end).cast(pa.timestamp("s")),
            "visit_type_concept_id": EHR,
            "visit_source_value": np.char.add(f"{finess}-", vid.astype(str)).astype(object),
            "visit_source_concept_id": 0,
            "admitted_from_concept_id": 0,
            "admitted_from_source_value": np.where(emergency, "urgences", "domicile").astype(
                object
            ),
            "discharged_to_concept_id": 0,
            "discharged_to_source_value": discharged[s.sor_mod[sel]],
        },
    )
    return table, start


def _conditions(
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
    labs = clinical.LABS
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


def _measurements(
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
    labs = clinical.LABS
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


def _drugs(
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
    kinds = clinical.STAY_KINDS
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


def _periods(
    coded: Coded,
    sel: np.ndarray,
    inverse: np.ndarray,
    pid: np.ndarray,
    counters: Counters,
    finess: str,
) -> pa.Table:
    s = coded.stays
    n = len(pid)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.zeros(n, dtype=np.int64)
    np.minimum.at(first, inverse, s.entry[sel])
    np.maximum.at(last, inverse, (s.entry + s.los)[sel])
    order = np.argsort(pid)
    return omop_table(
        "observation_period",
        {
            "observation_period_id": counters.take(f"{finess}.observation_period", n),
            "person_id": pid[order],
            "observation_period_start_date": first[order],
            "observation_period_end_date": last[order],
            "period_type_concept_id": EHR,
        },
    )
