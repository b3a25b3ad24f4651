"""The same tables through ACRO (PyPI ``acro``) and bastide, where the rules coincide.

ACRO works on microdata; bastide on the aggregated table a study produces. From random
microdata we build both: ACRO's ``crosstab`` (counts, and sums of a value with its
checks), and bastide's long tables with the count, the sum, the number of contributors
and the two largest contributions per cell. With bastide's ``acro`` profile (threshold
10, dominance n=2 k=0.9, p-percent 10%, zeros disclosive), the cells each rule flags must
be the same: ACRO's MinimumThresholdCheck against bastide's threshold and zero rules
(ACRO counts an empty cell as below the threshold), NKCheck against dominance,
PPercentCheck against p-percent.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastide.disclosure import ACRO, Output
from bastide.disclosure import rules as bastide_rules

acro_module = pytest.importorskip("acro")


pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # pandas, inside ACRO


@pytest.fixture(scope="module")
def acro_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("acro"))  # ACRO may write its outputs here
    logging.getLogger("acro").setLevel(logging.WARNING)
    try:
        yield acro_module.ACRO(suppress=False)
    finally:
        os.chdir(here)


def _acro_flags(outcome: pd.DataFrame) -> dict[tuple[str, str], set[str]]:
    flags = {}
    for row in outcome.index:
        for column in outcome.columns:
            text = str(outcome.loc[row, column])
            names = {t.strip() for t in text.split(";") if t.strip() and t.strip() != "ok"}
            flags[(str(row), str(column))] = names
    return flags


def _microdata(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], n, p=[0.6, 0.3, 0.07, 0.03]),
            "sex": rng.choice(["F", "M"], n),
            # Skewed values: a few large contributions make dominance happen.
            "cost": np.round(rng.pareto(1.2, n) * 100 + 1).astype(float),
        }
    )


def _aggregate(df: pd.DataFrame) -> pa.Table:
    rows = []
    for region in sorted(df.region.unique()):
        for sex in sorted(df.sex.unique()):
            values = sorted(df.cost[(df.region == region) & (df.sex == sex)], reverse=True)
            rows.append(
                {
                    "region": region,
                    "sex": sex,
                    "count": len(values),
                    "value": float(sum(values)),
                    "contributors": len(values),
                    "largest": values[0] if values else 0.0,
                    "second_largest": values[1] if len(values) > 1 else 0.0,
                }
            )
    return pa.Table.from_pylist(rows)


def _bastide_flags(output: Output) -> dict[tuple[str, str], set[str]]:
    primary = bastide_rules.primary(output, ACRO)
    names = {
        bastide_rules.THRESHOLD: "MinimumThresholdCheck",
        bastide_rules.ZERO: "MinimumThresholdCheck",
        bastide_rules.DOMINANCE: "NKCheck",
        bastide_rules.P_PERCENT: "PPercentCheck",
    }
    flags = {}
    for row in range(output.num_rows):
        key = (output.column("region")[row], output.column("sex")[row])
        flags[key] = {names[r] for r in primary.reasons.get(row, [])}
    return flags


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.integers(0, 2**32 - 1), st.integers(20, 160))
def test_counts_flag_the_same_cells(acro_session, seed: int, n: int) -> None:
    df = _microdata(seed, n)
    acro_session.crosstab(df.region, df.sex)
    outcome = list(acro_session.results.results.values())[-1].outcome
    table = _aggregate(df)
    output = Output.of("t", table.select(["region", "sex", "count"]), dims=("region", "sex"))
    theirs = _acro_flags(outcome)
    ours = _bastide_flags(output)
    assert ours == {k: v & {"MinimumThresholdCheck"} for k, v in theirs.items()}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.integers(0, 2**32 - 1), st.integers(20, 160))
def test_magnitudes_flag_the_same_cells(acro_session, seed: int, n: int) -> None:
    df = _microdata(seed, n)
    acro_session.crosstab(df.region, df.sex, values=df.cost, aggfunc="sum")
    outcome = list(acro_session.results.results.values())[-1].outcome
    table = _aggregate(df).drop_columns(["count"])
    output = Output.of("t", table, "magnitude", dims=("region", "sex"))
    theirs = _acro_flags(outcome)
    ours = _bastide_flags(output)
    relevant = {"MinimumThresholdCheck", "NKCheck", "PPercentCheck"}
    assert ours == {k: v & relevant for k, v in theirs.items()}
    assert any(ours.values())  # the data do exercise the rules


def test_the_generated_data_exercise_every_rule() -> None:
    seen: set[str] = set()
    for seed in range(10):
        table = _aggregate(_microdata(seed, 120)).drop_columns(["count"])
        output = Output.of("t", table, "magnitude", dims=("region", "sex"))
        seen.update(*_bastide_flags(output).values())
    assert seen == {"MinimumThresholdCheck", "NKCheck", "PPercentCheck"}
