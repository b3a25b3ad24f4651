"""Fixtures of the study tests: an engine session per engine; the simulated world; the
Eunomia database as OMOP-typed Arrow tables."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from study_world import World, simulate

from bastide.cdm.spec import conform, table_spec
from bastide.engines import Engine, open_engine
from bastide.reference import shared_data_path

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


def read_omop_csv(path: Path) -> pa.Table:
    """One Eunomia CSV typed by the OMOP v5.4 specification (dates may carry a time)."""
    spec = table_spec(path.stem.lower())
    with path.open(encoding="utf-8") as fh:
        header = [h.strip().lower() for h in fh.readline().split(",")]
    types = {
        h: pa.timestamp("s") if spec.field(h).datatype == "date" else spec.field(h).arrow_type
        for h in header
    }
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=True
        ),
    )
    columns = {
        c: pc.cast(table[c], pa.date32()) if spec.field(c).datatype == "date" else table[c]
        for c in table.column_names
    }
    return conform(pa.table(columns), spec, strict=False)


@pytest.fixture(scope="session")
def eunomia_dir() -> Path:
    return shared_data_path("eunomia-synthea27nj")


@pytest.fixture(scope="session")
def eunomia(eunomia_dir: Path) -> dict[str, pa.Table]:
    return {name: read_omop_csv(eunomia_dir / f"{name.upper()}.csv") for name in EUNOMIA_TABLES}
