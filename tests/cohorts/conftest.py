"""Fixtures of the cohort tests: an engine session per engine, and ``check``, which runs a
definition on the engine and on the reference interpreter and compares both with the
expected cohort."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Protocol

import pytest

from bastide.cohorts import CohortDefinition, build_cohort, compile_cohort, interpret
from bastide.cohorts import text_tables as tt
from bastide.engines import Engine, open_engine

# Every engine runs every spec test.
from engine_choice import ENGINES

Expected = set[tuple[int, str, str]]


class Check(Protocol):
    def __call__(
        self,
        definition: CohortDefinition,
        data: dict[str, tt.Rows],
        expected: Expected,
        *,
        attrition: list[tuple[int, int]] | None = None,
    ) -> None: ...


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    session = open_engine(request.param, threads=1)
    yield session
    session.close()


def as_rows(expected: Expected) -> set[tuple[int, date, date]]:
    return {(p, date.fromisoformat(s), date.fromisoformat(e)) for p, s, e in expected}


@pytest.fixture
def check(engine: Engine) -> Check:
    def run(
        definition: CohortDefinition,
        data: dict[str, tt.Rows],
        expected: Expected,
        *,
        attrition: list[tuple[int, int]] | None = None,
    ) -> None:
        reference = interpret(definition, data)
        tt.register(engine, data, compile_cohort(definition).tables)
        built = build_cohort(engine, definition)
        want = as_rows(expected)
        assert set(reference.rows) == want, "reference interpreter"
        assert built.rows == want, f"engine {engine.name}"
        assert len(reference.rows) == len(want) == built.table.num_rows
        ref_attrition = [(a.persons, a.entries) for a in reference.attrition]
        got_attrition = [(r["persons"], r["entries"]) for r in built.attrition.to_pylist()]
        assert got_attrition == ref_attrition
        if attrition is not None:
            assert ref_attrition == attrition

    return run
