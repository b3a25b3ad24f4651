"""The clean extract every corpus case spoils, built once per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.ingest.border_run import pseudonymisers
from bastide.ingest.national import _code_sets, warehouse_vocabulary
from bastide.sources import read_source
from bastide.synth import SynthOptions, generate

PERSONS = 300


@pytest.fixture(scope="session")
def clean_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "clean"
    generate(SynthOptions(persons=PERSONS, seed=5, out=out, hospitals=2, defects=0))
    shutil.rmtree(out / "ground_truth")
    return out


@pytest.fixture(scope="session")
def code_sets(clean_extract: Path) -> dict[str, pa.Array]:
    """The codes an ingest of the clean extract would know (its IR_PHA_R included)."""
    reader = read_source(clean_extract / "snds" / "IR_PHA_R.csv", pseudonymise=lambda a: a)
    ir_pha_r = pa.Table.from_batches([b.valid for b in reader])
    return _code_sets(warehouse_vocabulary(ir_pha_r), ir_pha_r)


@pytest.fixture(scope="session")
def baseline_hub(clean_extract: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub whose current snapshot holds the clean extract (cases copy it)."""
    root = tmp_path_factory.mktemp("corpus-hub") / "hub"
    ingest(Hub.init(root), clean_extract / "snds", "snds")
    return root


@pytest.fixture(scope="session")
def keys() -> dict:
    return pseudonymisers(b"k" * 32)
