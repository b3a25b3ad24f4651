"""The synthetic world is plausible, and the planted effect is where effects.json says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from synth_checks import read_strings


def test_population_looks_like_france(synth_dir: Path, effects: dict[str, Any]) -> None:
    ben = read_strings(synth_dir / "snds" / "IR_BEN_R.csv").to_pylist()
    people = {r["BEN_NIR_ANO"]: r for r in ben}.values()
    women = sum(r["BEN_SEX_COD"] == "2" for r in people) / len(people)
    assert 0.47 < women < 0.55
    ages = [2019 - int(r["BEN_NAI_ANN"]) for r in people]
    assert 36 < sum(ages) / len(ages) < 45
    assert sum(a >= 65 for a in ages) / len(ages) > 0.15
    departments = Counter(r["BEN_RES_DPT"] for r in people)
    assert len(departments) > 60 and departments.most_common(1)[0][1] / len(people) < 0.08
    prevalence = effects["prevalence_at_start"]
    assert 0.04 < prevalence["diabetes_t2"] < 0.075
    assert prevalence["hypertension"] > prevalence["diabetes_t2"]


def test_diabetics_get_metformin_and_higher_hba1c(synth_dir: Path) -> None:
    values: dict[bool, list[float]] = {True: [], False: []}
    for hospital in (synth_dir / "hospitals").iterdir():
        diabetic_visits = {
            r["visit_occurrence_id"]
            for r in read_strings(hospital / "CONDITION_OCCURRENCE.csv", ",").to_pylist()
            if r["condition_source_value"].startswith("E11")
        }
        for m in read_strings(hospital / "MEASUREMENT.csv", ",").to_pylist():
            if m["measurement_source_value"] == "4548-4":
                values[m["visit_occurrence_id"] in diabetic_visits].append(
                    float(m["value_as_number"])
                )
    assert values[True] and values[False]
    assert sum(values[True]) / len(values[True]) > sum(values[False]) / len(values[False]) + 1


def test_planted_effect_is_described_and_visible(synth_dir: Path, effects: dict[str, Any]) -> None:
    planted = effects["planted_effect"]
    assert planted["definition"]["true_hazard_ratio"] == 0.6
    realised = planted["realised"]
    assert realised["celecoxib"]["new_users"] > 0 and realised["diclofenac"]["new_users"] > 0
    events = realised["celecoxib"]["events"] + realised["diclofenac"]["events"]
    stays = read_strings(synth_dir / "ground_truth" / "stays.csv", ",").to_pylist()
    bleeds = [s for s in stays if s["stay_kind"] == "gi_bleeding"]
    assert len(bleeds) >= events > 0
    pmsi_k922 = sum(
        r["DGN_PAL"] == "K922"
        for yy in ("19", "20", "21", "22", "23")
        for r in read_strings(synth_dir / "snds" / f"T_MCO{yy}B.csv").to_pylist()
    )
    assert pmsi_k922 == len(bleeds)
