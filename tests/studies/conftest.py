"""Fixtures of the study tests: an engine session per engine; the simulated world; the
Eunomia database as OMOP-typed Arrow tables."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from study_world import World, simulate

from bastide.cdm.omop_csv import read_omop_csv
from bastide.engines import Engine, open_engine
from shared_data import shared_data_path

# Spark joins with pytest.param("spark", marks=pytest.mark.spark) once it is an engine.
ENGINES = ["duckdb"]
EUNOMIA_TABLES = (
    "person", "observation_period", "visit_occurrence", "condition_occurrence",
    "drug_exposure", "procedure_occurrence", "measurement", "observation", "death",
    "concept", "concept_ancestor",
)  # fmt: skip


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    session = open_engine(request.param, threads=1)
    yield session
    session.close()


@pytest.fixture(scope="session")
def world() -> World:
    return simulate()


@pytest.fixture(scope="session")
def eunomia_dir() -> Path:
    return shared_data_path("eunomia-synthea27nj")


@pytest.fixture(scope="session")
def eunomia(eunomia_dir: Path) -> dict[str, pa.Table]:
    return {name: read_omop_csv(eunomia_dir / f"{name.upper()}.csv") for name in EUNOMIA_TABLES}
