"""The ground truth agrees with the extracts: identities, hospital patients, stays and
the rows an ETL must drop."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from synth_checks import defect_lines, read_clean, read_strings


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, Any]]:
    return read_strings(path, delimiter).to_pylist()


@pytest.fixture(scope="module")
def persons(synth_dir: Path) -> list[dict[str, Any]]:
    return _rows(synth_dir / "ground_truth" / "persons.csv")


@pytest.fixture(scope="module")
def stays(synth_dir: Path) -> list[dict[str, Any]]:
    return _rows(synth_dir / "ground_truth" / "stays.csv")


def _nir_key_ok(nir: str) -> bool:
    body = nir[:13].replace("2A", "19").replace("2B", "18")
    return len(nir) == 15 and 97 - int(body) % 97 == int(nir[13:])


def test_nirs_are_valid_and_distinct(persons: list[dict[str, Any]]) -> None:
    nirs = [p["nir"] for p in persons if p["kind"] == "national"]
    assert all(_nir_key_ok(n) for n in nirs)
    assert len(set(nirs)) == len(nirs)
    assert all(n[0] == p["sex"] for n, p in zip(nirs, persons, strict=False))


def test_beneficiaries_match_identities(synth_dir: Path, persons: list[dict[str, Any]]) -> None:
    ben = read_clean(synth_dir, "snds/IR_BEN_R.csv").to_pylist()
    national = [p for p in persons if p["kind"] == "national"]
    by_psa = {(p["ben_nir_psa_1"], p["ben_rng_gem_1"]): p["ben_nir_ano"] for p in national}
    by_psa |= {(p["ben_nir_psa_2"], "1"): p["ben_nir_ano"] for p in national if p["ben_nir_psa_2"]}
    assert len(ben) == len(by_psa)
    for row in ben:
        assert (
            by_psa[(row["BEN_NIR_PSA"], row["BEN_RNG_GEM"])]
            == row["BEN_NIR_ANO"]
            == row["BEN_IDT_ANO"]
        )
    two = sum(1 for p in national if p["ben_nir_psa_2"])
    assert 0.015 < two / len(national) < 0.045, "about 3% of people have two BEN_NIR_PSA"
    per_ano = Counter(r["BEN_NIR_ANO"] for r in ben)
    assert sum(1 for c in per_ano.values() if c == 2) == two
    assert any(r["BEN_RNG_GEM"] == "2" for r in ben), "some twins share a BEN_NIR_PSA"
    alive = [r for r in ben if r["BEN_DCD_DTE"] == "1600-01-01"]
    assert len(alive) > 0.9 * len(ben)


def test_claims_use_the_cover_current_at_the_care_date(
    synth_dir: Path, persons: list[dict[str, Any]]
) -> None:
    switched = {p["ben_nir_psa_2"]: p for p in persons if p["ben_nir_psa_2"]}
    first = {p["ben_nir_psa_1"]: p for p in persons if p["ben_nir_psa_2"]}
    prs = read_clean(synth_dir, "snds/ER_PRS_F.csv")
    checked = 0
    for psa, day in zip(
        prs["BEN_NIR_PSA"].to_pylist(), prs["EXE_SOI_DTD"].to_pylist(), strict=True
    ):
        if psa in switched:
            assert day >= switched[psa]["psa_2_from"]
            checked += 1
        elif psa in first and first[psa]["ben_rng_gem_1"] == "1":
            assert day < first[psa]["psa_2_from"] or first[psa]["twin_of"] or _shared(persons, psa)
    assert checked > 0


def _shared(persons: list[dict[str, Any]], psa: str) -> bool:
    return sum(p["ben_nir_psa_1"] == psa for p in persons) > 1


def test_every_hospital_patient_is_known(synth_dir: Path, persons: list[dict[str, Any]]) -> None:
    for hospital in sorted((synth_dir / "hospitals").iterdir()):
        col = f"hospital_{hospital.name}_person_id"
        truth = {p[col]: p for p in persons if p[col]}
        patients = _rows(hospital / "PERSON.csv")
        assert {p["person_id"] for p in patients} == set(truth)
        for patient in patients:
            who = truth[patient["person_id"]]
            status = who[f"hospital_{hospital.name}_source"]
            value = patient["person_source_value"]
            psas = {who["ben_nir_psa_1"], who["ben_nir_psa_2"]} - {None}
            if status == "ok":
                assert value in psas
            elif status == "missing":
                assert value is None
            elif status == "corrupted":
                assert len(value) == 17 and value not in psas
                assert min(sum(a != b for a, b in zip(value, p, strict=True)) for p in psas) == 1
            else:
                assert status == "not_national" and who["kind"] == "foreign"
            assert patient["year_of_birth"] == who["birth_date"][:4]


def test_pmsi_stays_at_a_hospital_are_its_visits(
    synth_dir: Path, stays: list[dict[str, Any]]
) -> None:
    for hospital in sorted((synth_dir / "hospitals").iterdir()):
        visits = {v["visit_occurrence_id"]: v for v in _rows(hospital / "VISIT_OCCURRENCE.csv")}
        here = [s for s in stays if s["eta_num"] == hospital.name]
        assert len(here) == len(visits)
        for s in here:
            v = visits[s["visit_occurrence_id"]]
            assert (v["visit_start_date"], v["visit_end_date"]) == (s["entry_date"], s["exit_date"])
            assert v["person_id"] == s["hospital_person_id"]


def test_stays_truth_matches_pmsi(
    synth_dir: Path,
    stays: list[dict[str, Any]],
    persons: list[dict[str, Any]],
    effects: dict[str, Any],
) -> None:
    psas: defaultdict[str, set[str]] = defaultdict(set)
    for p in persons:
        psas[p["true_person_key"]] |= {p["ben_nir_psa_1"], p["ben_nir_psa_2"]} - {None}
    pmsi: dict[tuple[str, str, str], dict[str, Any]] = {}
    spoiled = 0  # C rows with a planted defect: set aside, the border quarantines them
    for yy in ("19", "20", "21", "22", "23"):
        for row in read_clean(synth_dir, f"snds/T_MCO{yy}C.csv").to_pylist():
            pmsi[("20" + yy, row["ETA_NUM"], row["RSA_NUM"])] = row
        spoiled += len(defect_lines(synth_dir).get(f"snds/T_MCO{yy}C.csv", {}))
    assert len(pmsi) + spoiled == len(stays)
    ret_cols = (
        "NIR_RET",
        "NAI_RET",
        "SEX_RET",
        "SEJ_RET",
        "FHO_RET",
        "PMS_RET",
        "COH_NAI_RET",
        "COH_SEX_RET",
    )
    for s in stays:
        row = pmsi.get((s["pmsi_year"], s["eta_num"], s["rsa_num"]))
        if row is None:
            assert s["chaining"] == "ok", "only stays an ETL keeps carry planted defects"
            continue
        assert row["NIR_ANO_17"] == s["nir_ano_17"]
        flagged = any(row[c] != "0" for c in ret_cols)
        if s["chaining"] == "ok":
            assert not flagged and row["NIR_ANO_17"] in psas[s["true_person_key"]]
        elif s["chaining"] == "placeholder":
            assert row["NIR_ANO_17"] in ("xxxxxxxxxxxxxxxxx", "XXXXXXXXXXXXXXXXD")
        else:
            assert flagged
    drops = effects["etl_drops"]
    assert (
        drops["pmsi_rows_placeholder_nir_ano_17"]
        == sum(s["chaining"] == "placeholder" for s in stays)
        > 0
    )
    assert (
        drops["pmsi_rows_ret_flag_nonzero"] == sum(s["chaining"] == "ret_flag" for s in stays) > 0
    )


def test_deaths_have_a_cause(synth_dir: Path, persons: list[dict[str, Any]]) -> None:
    dead = {p["ben_idt_ano"]: p["death_date"] for p in persons if p["death_date"]}
    cci = _rows(synth_dir / "snds" / "KI_CCI_R.csv", ";")
    assert {r["BEN_IDT_ANO"]: r["BEN_DCD_DTE"] for r in cci} == dead
    assert all(r["DCD_CIM_COD"] for r in cci)
