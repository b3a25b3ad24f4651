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

from bastide.synth import clinical, geography, hospital_care
from bastide.synth.arrays import (
    ALPHANUM,
    random_codes,
    rng_for,
    strings_from_matrix,
    timestamps,
)
from bastide.synth.catalogue import Catalogue
from bastide.synth.counters import Counters
from bastide.synth.foreigners import Foreigners
from bastide.synth.identity import PSEUDONYM_WIDTH, Identity
from bastide.synth.layout import omop_table
from bastide.synth.population import People
from bastide.synth.stays import Coded

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
EHR = hospital_care.EHR


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
        tables[(finess, "CONDITION_OCCURRENCE")] = hospital_care.conditions(
            coded, sel, pid[inverse], vid, counters, finess, cat
        )
        tables[(finess, "MEASUREMENT")] = hospital_care.measurements(
            rng, coded, people, sel, pid[inverse], vid, start_ts, counters, finess
        )
        tables[(finess, "DRUG_EXPOSURE")] = hospital_care.drugs(
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
