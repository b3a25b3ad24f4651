"""Magnitude, rate and survival outputs, and output validation."""

from __future__ import annotations

import pyarrow as pa
import pytest
from disclosure_tables import TOTAL

from bastide.disclosure import ACRO, OPENSAFELY, SNDS, InvalidOutput, Output, assess


def _magnitudes(rows: list[tuple[str, float, int, float, float]]) -> pa.Table:
    return pa.table(
        {
            "region": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "contributors": [r[2] for r in rows],
            "largest": [r[3] for r in rows],
            "second_largest": [r[4] for r in rows],
        }
    )


def test_magnitudes_apply_threshold_dominance_and_p_percent() -> None:
    table = _magnitudes(
        [
            ("north", 1000.0, 40, 60.0, 50.0),  # fine
            ("south", 2000.0, 30, 1500.0, 300.0),  # two largest make 90%: dominance
            ("east", 1000.0, 25, 500.0, 460.0),  # rest 40 < 10% of 500: p-percent
            ("west", 300.0, 5, 80.0, 70.0),  # 5 contributors: threshold
            ("centre", 900.0, 35, 40.0, 35.0),
            (TOTAL, 5200.0, 135, 1500.0, 500.0),
        ]
    )
    result = assess(Output.of("costs", table, "magnitude"), ACRO)
    reasons = {s.cell["region"]: s.reasons for s in result.record.suppressed}
    assert reasons["south"] == ("dominance",)
    assert reasons["east"] == ("dominance", "p_percent")
    assert reasons["west"] == ("threshold",)
    assert "contributors" not in result.released.column_names
    assert "largest" not in result.released.column_names
    assert result.released.column("value").to_pylist()[-1] == 5200.0
    assert result.record.status.value == "pass"
    # The margin can still be published: three hidden cells share the line.
    values = result.released.column("value").to_pylist()
    assert values[0] == 1000.0 and values[4] == 900.0


def test_negative_magnitudes_go_to_review() -> None:
    table = _magnitudes([("north", -50.0, 20, 10.0, 5.0), ("south", 500.0, 20, 60.0, 50.0)])
    result = assess(Output.of("net", table, "magnitude"), ACRO)
    assert result.record.check("dominance").result.value == "review"
    assert result.record.status.value == "review"


def test_rate_tables_hide_rates_with_their_counts() -> None:
    table = pa.table(
        {
            "age": ["18-39", "40-64", "65+"],
            "events": [4, 40, 90],
            "persons": [500, 800, 600],
            "person_years": [1200.0, 2000.0, 1400.0],
            "rate": [3.3, 20.0, 64.3],
        }
    )
    output = Output.of("incidence", table, "rate")
    assert output.counts == ("events", "persons") and output.derived == ("person_years", "rate")
    result = assess(output, SNDS)
    assert result.released.column("events").to_pylist() == [None, 40, 90]
    assert result.released.column("persons").to_pylist() == [None, 800, 600]
    assert result.released.column("rate").to_pylist() == [None, 20.0, 64.3]


def _survival(at_risk, events, censored) -> pa.Table:
    return pa.table(
        {
            "arm": ["a"] * len(at_risk),
            "time": list(range(1, len(at_risk) + 1)),
            "at_risk": at_risk,
            "events": events,
            "censored": censored,
            "km": [0.9] * len(at_risk),
        }
    )


def test_survival_time_points_merge_until_every_count_may_be_released() -> None:
    table = _survival(
        at_risk=[100, 94, 80, 66, 50, 45],
        events=[3, 12, 4, 8, 5, 2],
        censored=[3, 2, 10, 8, 0, 4],
    )
    result = assess(Output.of("km", table, "survival"), SNDS)
    released = result.released.to_pylist()
    for row in released:
        for column in ("at_risk", "events", "censored"):
            assert row[column] == 0 or row[column] >= 11
    assert [(r["time"], r["time_end"]) for r in released] == [(1, 3), (4, 6)]
    assert [(r["at_risk"], r["events"], r["censored"]) for r in released] == [
        (100, 19, 15),
        (66, 15, 12),
    ]
    # The estimate comes from the released counts only.
    assert released[0]["survival"] == pytest.approx(1 - 19 / 100)
    assert released[1]["survival"] == pytest.approx((1 - 19 / 100) * (1 - 15 / 66))
    assert "km" not in result.released.column_names
    assert "columns km are not released" in result.record.check("structure").reason


def test_a_stratum_with_too_few_events_is_suppressed_whole() -> None:
    table = _survival(at_risk=[9, 8], events=[1, 1], censored=[0, 0])
    result = assess(Output.of("km", table, "survival"), SNDS)
    assert result.released.num_rows == 0
    assert result.record.suppressed[0].cell == {"arm": "a"}


def test_survival_counts_are_rounded_under_a_rounding_profile() -> None:
    table = _survival(at_risk=[103, 91], events=[12, 14], censored=[0, 0])
    result = assess(Output.of("km", table, "survival"), OPENSAFELY)
    rows = result.released.to_pylist()
    assert [(r["at_risk"], r["events"], r["censored"]) for r in rows] == [
        (105, 10, 0),
        (90, 15, 0),
    ]
    # Two censorings at the end cannot be released: the curve cannot either.
    late = _survival(at_risk=[103, 91], events=[12, 14], censored=[0, 2])
    assert assess(Output.of("km", late, "survival"), OPENSAFELY).released.num_rows == 0


@pytest.mark.parametrize(
    ("table", "kind", "message"),
    [
        (pa.table({"sex": ["F"], "total": [3]}), "frequency", "no count column"),
        (pa.table({"sex": ["F", "F"], "count": [3, 4]}), "frequency", "same dimension values"),
        (pa.table({"sex": ["F"], "count": [-1]}), "frequency", "non-counts"),
        (pa.table({"sex": ["F"], "count": [1.5]}), "frequency", "non-counts"),
        (pa.table({"sex": ["F"], "count": pa.array([None], pa.int64())}), "frequency", "missing"),
        (pa.table({"sex": ["F"], "persons": [3]}), "rate", "'events'"),
        (
            pa.table({"sex": pa.array([], pa.string()), "count": pa.array([], pa.int64())}),
            "frequency",
            "empty",
        ),
        (pa.table({"sex": ["F"], "count": [3]}), "pie", "use one of"),
        (pa.table({"region": ["n"], "value": [3.0]}), "magnitude", "no column contributors"),
    ],
)
def test_invalid_outputs_are_refused(table, kind, message) -> None:
    with pytest.raises(InvalidOutput, match=message):
        Output.of("t", table, kind)
