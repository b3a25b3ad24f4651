"""The effect planted by the synthetic generator, recovered end to end: SNDS-layout claims
→ border → ETL → warehouse → the example study's cohorts (CIP13 dispensings selected by
ATC through CONCEPT_ANCESTOR, PMSI diagnoses by CIM-10) → Cox model. The 95% interval of
the hazard ratio must hold the true one, read from the generator's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bastide.cohorts import build_cohort
from bastide.engines import open_engine
from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.storage import Warehouse
from bastide.studies import compare, load_study
from bastide.synth import SynthOptions, generate

EXAMPLE = Path(__file__).resolve().parents[2] / "studies" / "nsaid_gi_bleeding.yaml"
PERSONS = 20_000  # about 950 new users and 45 GI bleeds on treatment
SEED = 5


@pytest.mark.slow
def test_the_planted_hazard_ratio_is_recovered(tmp_path: Path) -> None:
    extract = tmp_path / "extract"
    generate(SynthOptions(persons=PERSONS, seed=SEED, out=extract, hospitals=1))
    hub = Hub.init(tmp_path / "hub")
    ingest(hub, extract / "snds", "snds")
    planted = json.loads((extract / "ground_truth" / "effects.json").read_text())["planted_effect"]

    study = load_study(EXAMPLE)
    engine = open_engine(threads=2)
    try:
        snapshot = Warehouse(hub).current()
        assert snapshot is not None
        snapshot.register(engine)
        cohorts = {c.name: build_cohort(engine, c) for c in study.cohorts}
        result = compare(
            engine,
            cohorts["celecoxib"],
            cohorts["diclofenac"],
            cohorts["gi_bleeding"],
            adjust=("age", "sex"),
        )
    finally:
        engine.close()

    # Every new user the generator made is found from the claims (first dispensing).
    for arm in ("celecoxib", "diclofenac"):
        first = cohorts[arm].attrition.to_pylist()[0]
        assert first["persons"] == planted["realised"][arm]["new_users"], arm
        assert not cohorts[arm].warnings
    hr = result.adjusted_hazard_ratio
    assert hr is not None
    truth = planted["parameters"]["hazard_ratio"]
    assert hr.lower < truth < hr.upper, (hr, truth)
    assert hr.hazard_ratio < 1
