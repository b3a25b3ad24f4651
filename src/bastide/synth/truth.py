"""Ground truth: who is who across the extracts, what was planted, what the ETL must drop.

Written beside the extracts (``ground_truth/``), never read by the ingestion: tests and
the linkage evaluation compare their results with it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bastide.synth import clinical, geography, inpatient
from bastide.synth.arrays import date32, digit_matrix, strings_from_matrix, take
from bastide.synth.catalogue import Catalogue
from bastide.synth.dcir import Claims
from bastide.synth.foreigners import Foreigners
from bastide.synth.hospitals import STATUS_NAMES, HospitalRows
from bastide.synth.identity import Identity
from bastide.synth.pharmacy import StudyCourses
from bastide.synth.pmsi import PmsiRows
from bastide.synth.population import NEVER, START, People
from bastide.synth.stays import OK, PLACEHOLDER, RET_FLAG, Coded

CHAINING = ["ok", "ret_flag", "placeholder"]


def person_keys(prefix: str, numbers: np.ndarray) -> pa.StringArray:
    mat = np.concatenate(
        [np.full((len(numbers), 1), ord(prefix), np.uint8), digit_matrix(numbers, 9)], axis=1
    )
    return strings_from_matrix(mat)


def hospital_columns(extract: list[int]) -> list[str]:
    finess = [geography.geography().finess[e] for e in extract]
    return [c for f in finess for c in (f"hospital_{f}_person_id", f"hospital_{f}_source")]


def persons_table(
    people: People,
    identity: Identity,
    hosp: HospitalRows,
    foreigners: Foreigners,
    foreign_numbers: np.ndarray,
    extract: list[int],
) -> pa.Table:
    n, m = people.n, foreigners.n
    status = pa.array([None, *STATUS_NAMES.values()], pa.string())
    switched = identity.switch < NEVER
    twin = people.twin_of >= 0
    nulls = pa.nulls(m, pa.string())
    cols: dict[str, pa.Array] = {
        "true_person_key": pa.concat_arrays(
            [person_keys("P", people.key), person_keys("F", foreign_numbers)]
        ),
        "kind": pa.array(["national"] * n + ["foreign"] * m, pa.string()),
        "nir": pa.concat_arrays([identity.strings("nir"), nulls]),
        "sex": pa.array(np.concatenate([people.sex, foreigners.sex]).astype(np.int64)),
        "birth_date": date32(np.concatenate([people.birth, foreigners.birth])),
        "death_date": date32(
            np.concatenate([people.death, np.full(m, NEVER)]),
            np.concatenate([people.death == NEVER, np.ones(m, bool)]),
        ),
        "ben_nir_ano": pa.concat_arrays([identity.strings("nir_ano"), nulls]),
        "ben_idt_ano": pa.concat_arrays([identity.strings("nir_ano"), nulls]),
        "ben_nir_psa_1": pa.concat_arrays([identity.strings("psa1"), nulls]),
        "ben_rng_gem_1": pa.array(
            np.concatenate([identity.rng1, np.zeros(m)]).astype(np.int64),
            mask=np.concatenate([np.zeros(n, bool), np.ones(m, bool)]),
        ),
        "ben_nir_psa_2": pa.concat_arrays(
            [
                pc.if_else(pa.array(switched), identity.strings("psa2"), pa.nulls(n, pa.string())),
                nulls,
            ]
        ),
        "ben_rng_gem_2": pa.array(
            np.ones(n + m, dtype=np.int64), mask=np.concatenate([~switched, np.ones(m, bool)])
        ),
        "psa_2_from": date32(
            np.concatenate([identity.switch, np.full(m, NEVER)]),
            np.concatenate([~switched, np.ones(m, bool)]),
        ),
        "twin_of": pa.concat_arrays(
            [take(person_keys("P", people.key), np.maximum(people.twin_of, 0), ~twin), nulls]
        ),
    }
    names = hospital_columns(extract)
    for h in range(len(extract)):
        pid = np.concatenate(
            [
                hosp.person_id[:, h],
                np.where(foreigners.hospital == extract[h], hosp.foreign_person_id, 0),
            ]
        )
        st = np.concatenate(
            [hosp.status[:, h], np.where(foreigners.hospital == extract[h], hosp.foreign_status, 0)]
        )
        cols[names[2 * h]] = pa.array(pid, mask=pid == 0)
        cols[names[2 * h + 1]] = take(status, st)
    return pa.table(cols)


def stays_table(
    coded: Coded,
    pmsi: PmsiRows,
    hosp: HospitalRows,
    people: People,
    foreign_numbers: np.ndarray,
    hospital_person: np.ndarray,
) -> pa.Table:
    s = coded.stays
    geo = geography.geography()
    national = person_keys("P", people.key[np.where(s.foreign, 0, s.person)])
    foreign = (
        person_keys("F", foreign_numbers[np.where(s.foreign, s.person, 0)])
        if len(foreign_numbers)
        else national
    )
    return pa.table(
        {
            "true_person_key": pc.if_else(pa.array(s.foreign), foreign, national),
            "pmsi_year": pa.array(pmsi.year.astype(np.int64)),
            "eta_num": take(list(geo.finess), s.eta),
            "rsa_num": pa.array(pmsi.rsa),
            "nir_ano_17": pmsi.nir_ano_17,
            "chaining": take(CHAINING, coded.chaining),
            "ghm_error": pa.array(coded.ghm_error.astype(np.int8)),
            "inter_establishment": pa.array(coded.inter_establishment.astype(np.int8)),
            "stay_kind": take([k.name for k in inpatient.STAY_KINDS], s.kind),
            "entry_date": date32(s.entry),
            "exit_date": date32(s.entry + s.los),
            "hospital_person_id": pa.array(hospital_person, mask=hospital_person == 0),
            "visit_occurrence_id": pa.array(hosp.visit_id, mask=hosp.visit_id == 0),
        }
    )


class Tally:
    """Counts accumulated over chunks for effects.json."""

    def __init__(self) -> None:
        self.n: dict[str, int] = {}
        self.persons_at_start = 0
        self.prevalent = np.zeros(len(clinical.CONDITIONS), dtype=np.int64)
        self.ever = np.zeros(len(clinical.CONDITIONS), dtype=np.int64)
        self.arms = {
            arm: {"new_users": 0, "events": 0, "events_in_extract": 0, "person_days": 0}
            for arm in ("celecoxib", "diclofenac")
        }

    def add(self, key: str, value: int) -> None:
        self.n[key] = self.n.get(key, 0) + int(value)

    def chunk(
        self,
        people: People,
        courses: StudyCourses,
        coded: Coded,
        claims: Claims,
        expected: dict[str, int],
        hosp: HospitalRows,
        foreigners: Foreigners,
    ) -> None:
        alive = (people.entry <= START) & (people.exit > START)
        self.persons_at_start += int(alive.sum())
        self.prevalent += (people.onset[alive] <= START).sum(axis=0)
        self.ever += (people.onset < NEVER).sum(axis=0)
        self.add("persons", people.n)
        self.add("deaths", int((people.death < NEVER).sum()))
        self.add("person_years", int((people.exit - people.entry).sum() / 365.25))
        # Planted GI bleeds visible to an ETL: the stay is in the extract with a usable id.
        s = coded.stays
        bleed = (s.kind == inpatient.STAY_INDEX["gi_bleeding"]) & ~s.foreign
        usable = bleed & (coded.chaining == OK) & ~coded.ghm_error & ~coded.inter_establishment
        visible = set(zip(s.person[usable].tolist(), s.entry[usable].tolist(), strict=True))
        for arm, mask in (("celecoxib", courses.exposed), ("diclofenac", ~courses.exposed)):
            a = self.arms[arm]
            a["new_users"] += int(mask.sum())
            ev = mask & (courses.event < NEVER)
            a["events"] += int(ev.sum())
            a["events_in_extract"] += sum(
                (p, d) in visible
                for p, d in zip(
                    courses.person[ev].tolist(), courses.event[ev].tolist(), strict=True
                )
            )
            a["person_days"] += int((courses.end[mask] - courses.index[mask]).sum())
        self.add("pmsi_stays", len(s))
        self.add("pmsi_placeholder_nir", int((coded.chaining == PLACEHOLDER).sum()))
        self.add("pmsi_ret_flag", int((coded.chaining == RET_FLAG).sum()))
        self.add("pmsi_error_ghm", int(coded.ghm_error.sum()))
        self.add(
            "pmsi_error_ghm_with_usable_id", int((coded.ghm_error & (coded.chaining == OK)).sum())
        )
        self.add("pmsi_foreign_stays", int(s.foreign.sum()))
        self.add("pmsi_sej_typ_b", int(coded.inter_establishment.sum()))
        dropped = (coded.chaining != OK) | coded.ghm_error | coded.inter_establishment
        self.add("pmsi_dropped_any", int(dropped.sum()))
        for k, v in claims.counts.items():
            self.add(f"dcir_{k}", v)
        for k, v in expected.items():
            self.add(k, v)
        for code, name in STATUS_NAMES.items():
            self.add(
                f"hospital_persons_{name}",
                int((hosp.status == code).sum() + (hosp.foreign_status == code).sum()),
            )
        self.add("hospital_foreign_persons", foreigners.n)
        self.add("hospital_visits", int((hosp.visit_id > 0).sum()))

    def effects(self, cat: Catalogue) -> dict[str, Any]:
        eff = clinical.EFFECT
        n = self.n
        arms: dict[str, dict[str, float]] = {k: dict(v) for k, v in self.arms.items()}
        for a in arms.values():
            a["rate_per_person_year"] = a["events"] / max(a["person_days"] / 365.25, 1e-9)
        crude = arms["celecoxib"]["rate_per_person_year"] / max(
            arms["diclofenac"]["rate_per_person_year"], 1e-12
        )
        return {
            "prevalence_at_start": {
                c.name: round(float(self.prevalent[i] / max(self.persons_at_start, 1)), 5)
                for i, c in enumerate(clinical.CONDITIONS)
            },
            "ever_in_period": {
                c.name: round(float(self.ever[i] / max(n.get("persons", 1), 1)), 5)
                for i, c in enumerate(clinical.CONDITIONS)
            },
            "planted_effect": {
                "name": "GI bleeding, new users of celecoxib vs diclofenac",
                "parameters": asdict(eff),
                "definition": _definition(),
                "realised": {**arms, "crude_rate_ratio": round(crude, 4)},
            },
            "etl_drops": {
                "pmsi_rows_placeholder_nir_ano_17": n.get("pmsi_placeholder_nir", 0),
                "pmsi_rows_ret_flag_nonzero": n.get("pmsi_ret_flag", 0),
                "pmsi_rows_unusable_identifier": n.get("pmsi_placeholder_nir", 0)
                + n.get("pmsi_ret_flag", 0),
                "pmsi_rows_error_ghm_90": n.get("pmsi_error_ghm", 0),
                "pmsi_rows_error_ghm_90_with_usable_identifier": n.get(
                    "pmsi_error_ghm_with_usable_id", 0
                ),
                "pmsi_rows_sej_typ_b_inter_establishment": n.get("pmsi_sej_typ_b", 0),
                "pmsi_rows_dropped_by_any_rule": n.get("pmsi_dropped_any", 0),
                "pmsi_stays_quarantined_at_the_border": n.get("pmsi_stays_quarantined", 0),
                "dcir_lines_total": n.get("dcir_lines", 0),
                "dcir_true_lines": n.get("dcir_true_lines", 0),
                "dcir_corrected_lines": n.get("dcir_corrected_lines", 0),
                "dcir_cancelled_duplicates": n.get("dcir_cancelled_duplicates", 0),
                "dcir_cancelling_lines": n.get("dcir_corrected_lines", 0)
                + n.get("dcir_cancelled_duplicates", 0),
                "dcir_information_only_lines_dpn_qlf_71": n.get("dcir_information_lines", 0),
                "er_prs_f_groups_after_netting": n.get("prs_groups", 0),
                "er_pha_f_groups_after_netting": n.get("pha_groups", 0),
                "er_cam_f_groups_after_netting": n.get("cam_groups", 0),
                "netting_keys": {
                    "ER_PRS_F": [
                        "BEN_NIR_PSA",
                        "BEN_RNG_GEM",
                        "EXE_SOI_DTD",
                        "PRS_NAT_REF",
                        "PSE_SPE_COD",
                        "PSP_SPE_COD",
                    ],
                    "ER_PHA_F": ["BEN_NIR_PSA", "BEN_RNG_GEM", "EXE_SOI_DTD", "PHA_PRS_C13"],
                    "ER_CAM_F": ["BEN_NIR_PSA", "BEN_RNG_GEM", "EXE_SOI_DTD", "CAM_PRS_IDE"],
                    "rule": (
                        "sum PRS_ACT_QTE (ER_PRS_F) or PHA_ACT_QSN (ER_PHA_F) or the joined "
                        "PRS_ACT_QTE (ER_CAM_F) per key, lines with DPN_QLF 71 excluded; "
                        "keep sums > 0"
                    ),
                },
            },
            "hospital_noise": {
                "persons_linkable": n.get("hospital_persons_ok", 0),
                "persons_source_value_missing": n.get("hospital_persons_missing", 0),
                "persons_source_value_corrupted": n.get("hospital_persons_corrupted", 0),
                "persons_source_value_not_national": n.get("hospital_persons_not_national", 0),
                "foreign_persons": n.get("hospital_foreign_persons", 0),
                "visits": n.get("hospital_visits", 0),
            },
            "population": {
                "persons": n.get("persons", 0),
                "deaths": n.get("deaths", 0),
                "person_years": n.get("person_years", 0),
                "pmsi_stays": n.get("pmsi_stays", 0),
            },
            "code_lists": {"cim10": list(cat.cim10), "atc": list(cat.drugs.atc)},
        }


def _definition() -> dict[str, Any]:
    eff = clinical.EFFECT
    days = eff.days_per_dispensing
    return {
        "exposure": (
            f"first dispensing (ER_PHA_F) of celecoxib (ATC {eff.exposure}) or diclofenac "
            f"(ATC {eff.comparator}) with index date between {_iso(eff.index_from)} and "
            f"{_iso(eff.index_until)}; no dispensing of either in the {eff.washout_days} days "
            "before (the world has none before the index)"
        ),
        "exposure_window": (
            f"each dispensing covers {days} days; refills come 25-{days} days apart, so an "
            f"episode runs from the index date to {days} days after the last dispensing"
        ),
        "outcome": (
            f"first MCO stay with DGN_PAL {eff.outcome_code} (CIM-10 K92.2) admitted "
            "(EXE_SOI_DTD) in the risk window"
        ),
        "risk_window": "index date to end of exposure episode; censored at death and 2023-12-31",
        "true_hazard_ratio": eff.hazard_ratio,
        "hazard": (
            f"{eff.comparator_rate} per person-year x exp({eff.age_slope} x (age at index - 65)),"
            f" x {eff.hazard_ratio} under celecoxib; choice of drug independent of covariates"
        ),
        "background": (
            f"{eff.background_rate} {eff.outcome_code} stays per person-year at 65 outside "
            "exposure windows"
        ),
    }


def _iso(d: tuple[int, int, int]) -> str:
    return f"{d[0]:04d}-{d[1]:02d}-{d[2]:02d}"


def netted_groups(
    claims: Claims, cat: Catalogue, spoiled: dict[str, np.ndarray] | None = None
) -> dict[str, int]:
    """How many groups an ETL keeps after netting cancellations (true lines only: noise
    nets to zero). Person and day identify (BEN_NIR_PSA, BEN_RNG_GEM, EXE_SOI_DTD).

    ``spoiled`` marks the rows of ER_PRS_F, ER_PHA_F and ER_CAM_F the border quarantines
    (only true lines and their rows are spoiled): a group without a surviving true row is
    lost, and so are the detail rows of a quarantined line, which join no claim."""
    lines = claims.lines
    d = claims.details
    true = lines.role == 0
    true_detail = true[d.line]
    with_act = lines.ccam >= 0
    true_act = true & with_act
    if spoiled is not None:
        true = true & ~spoiled["ER_PRS_F"]
        true_detail = true[d.line] & ~spoiled["ER_PHA_F"]
        act_lost = np.zeros(len(true), dtype=bool)
        act_lost[np.flatnonzero(with_act)[spoiled["ER_CAM_F"]]] = True
        true_act = true & with_act & ~act_lost
    pd = lines.person.astype(np.int64) << 20 | (lines.day.astype(np.int64) & 0xFFFFF)
    prs = (
        pd << 27
        | lines.nat.astype(np.int64) << 14
        | lines.pse_spe.astype(np.int64) << 7
        | lines.psp_spe
    )
    pha = pd[d.line] << 12 | d.presentation.astype(np.int64)
    cam = pd << 4 | (lines.ccam.astype(np.int64) & 0xF)
    return {
        "prs_groups": _distinct(prs[true]),
        "pha_groups": _distinct(pha[true_detail]),
        "cam_groups": _distinct(cam[true_act]),
    }


def _distinct(values: np.ndarray) -> int:
    ordered = np.sort(values)
    return int(len(ordered) > 0) + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
