"""Fixtures of the data-quality tests: an engine session, a runner, eunomia as Arrow."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pyarrow as pa
import pytest
from omop_samples import EUNOMIA_TABLES, TODAY, Check

from bastide.cdm.omop_csv import read_omop_csv
from bastide.engines import Engine, open_engine
from bastide.quality import QualityReport, Settings, run_checks
from shared_data import shared_data_path


@pytest.fixture
def engine() -> Iterator[Engine]:
    session = open_engine(threads=1)
    yield session
    session.close()


@pytest.fixture
def check(engine: Engine) -> Check:
    """Register tables in the session and run every check on them."""

    def run(tables: Mapping[str, pa.Table], **options: object) -> QualityReport:
        for name, table in tables.items():
            engine.register(name, table)
        settings = Settings(today=TODAY)
        return run_checks(engine, tables, settings=settings, **options)  # type: ignore[arg-type]

    return run


@pytest.fixture(scope="session")
def eunomia() -> dict[str, pa.Table]:
    directory = shared_data_path("eunomia-synthea27nj")
    return {name: read_omop_csv(directory / f"{name.upper()}.csv") for name in EUNOMIA_TABLES}
