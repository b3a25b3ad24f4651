"""The ETL spec tests compare rows inside the harness: let pytest explain its asserts.
Every case runs once per engine."""

from collections.abc import Iterator

import pytest

from engine_choice import ENGINES

pytest.register_assert_rewrite("snds_spec")


@pytest.fixture(autouse=True, params=ENGINES)
def etl_engine(request: pytest.FixtureRequest) -> Iterator[str]:
    import snds_spec

    snds_spec.ENGINE["name"] = request.param
    yield request.param
    snds_spec.ENGINE["name"] = "duckdb"
