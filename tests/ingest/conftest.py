"""One synthetic extract and one hub ingested from it, shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import Ingested

from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.synth import SynthOptions, generate

PERSONS = 3000


@pytest.fixture(scope="session")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("extract") / "x"
    generate(SynthOptions(persons=PERSONS, seed=11, out=out, hospitals=3))
    return out


@pytest.fixture(scope="session")
def ingested(extract: Path, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    hub = Hub.init(tmp_path_factory.mktemp("hub") / "hub")
    results = [ingest(hub, extract / "snds", "snds")]
    for hospital in sorted((extract / "hospitals").iterdir()):
        results.append(ingest(hub, hospital, "omop", truth=extract / "ground_truth"))
    return Ingested(extract, hub, results)
