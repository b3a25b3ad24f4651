"""Secondary suppression: properties over generated tables, and the cases that motivate
the exact audit.

For any table (one, two or three dimensions, with every margin) and every built-in
profile: no released count is below the threshold, before or after rounding; and every
suppressed cell keeps a feasible interval of positive width given everything published,
computed independently by linear programming (scipy).
"""

from __future__ import annotations

import itertools

import pyarrow as pa
import pytest
from disclosure_tables import TOTAL, feasible_intervals, with_margins
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastide.disclosure import ACRO, BUILTIN, OPENSAFELY, SNDS, Output, Profile, assess
from bastide.disclosure.grid import ALL, Grid, Line
from bastide.disclosure.protection import unprotected

# Small counts are the interesting ones: most cells below or near the thresholds.
COUNT = st.one_of(st.integers(0, 15), st.integers(0, 60), st.integers(100, 400))


@st.composite
def tables(draw: st.DrawFn, max_dims: int = 2) -> tuple[tuple[str, ...], pa.Table]:
    ndims = draw(st.integers(1, max_dims))
    sizes = [draw(st.integers(1, 4 if ndims < 3 else 2)) for _ in range(ndims)]
    dims = tuple(f"d{i}" for i in range(ndims))
    cells = {
        tuple(f"c{j}" for j in coord): draw(COUNT)
        for coord in itertools.product(*[range(s) for s in sizes])
    }
    return dims, with_margins(dims, cells)


def _released_counts(table: pa.Table) -> list[int]:
    return [v for v in table.column("count").to_pylist() if v is not None]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_dims=3), st.sampled_from(sorted(BUILTIN)))
def test_no_released_count_below_the_threshold(case, name) -> None:
    dims, table = case
    profile = BUILTIN[name]
    result = assess(Output.of("t", table, dims=dims), profile)
    for value in _released_counts(result.released):
        assert value == 0 or value >= profile.threshold
        if profile.rounding > 1:
            assert value % profile.rounding == 0
    if profile.zeros.value == "suppress":
        assert 0 not in _released_counts(result.released)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_dims=3), st.sampled_from(sorted(BUILTIN)))
def test_suppressed_cells_cannot_be_recovered_from_the_margins(case, name) -> None:
    dims, table = case
    result = assess(Output.of("t", table, dims=dims), BUILTIN[name])
    if result.record.status.value == "fail":
        return  # nothing is released
    for cell, (low, high) in feasible_intervals(dims, table, result.released).items():
        assert high - low > 1e-6, f"{cell} is pinned to {low}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(max_dims=2))
def test_two_dimensional_intervals_hold_two_integers(case) -> None:
    """In one and two dimensions perturbations are +1/-1 around cycles of suppressed
    cells, all at least 1 (zeros are never chosen as partners), so the interval holds the
    true value and a neighbour."""
    dims, table = case
    result = assess(Output.of("t", table, dims=dims), SNDS)
    for low, high in feasible_intervals(dims, table, result.released).values():
        assert high - low >= 1 - 1e-6


def test_a_small_cell_takes_a_partner_in_its_row_and_column() -> None:
    table = with_margins(
        ("sex", "age"), {("F", "a"): 3, ("F", "b"): 40, ("M", "a"): 25, ("M", "b"): 30}
    )
    result = assess(Output.of("t", table, dims=("sex", "age")), SNDS)
    hidden = {
        (s, a)
        for s, a, v in zip(
            result.released.column("sex").to_pylist(),
            result.released.column("age").to_pylist(),
            result.released.column("count").to_pylist(),
            strict=True,
        )
        if v is None
    }
    assert hidden == {("F", "a"), ("F", "b"), ("M", "a"), ("M", "b")}
    reasons = {tuple(s.cell.values()): s.reasons for s in result.record.suppressed}
    assert reasons[("F", "a")] == ("threshold",)
    assert reasons[("M", "a")] == ("secondary",)
    assert result.record.status.value == "pass"


def test_a_bridge_between_two_blocks_is_found_by_the_audit() -> None:
    """Every row and column has two suppressed cells, yet the bridge cell is pinned."""
    dims = ("r", "c")
    hidden = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)}
    cells = [(i, j) for i in range(4) for j in range(4)]
    coords = [(f"r{i}", f"c{j}") for i, j in cells]
    coords += [(f"r{i}", ALL) for i in range(4)] + [(ALL, f"c{j}") for j in range(4)]
    coords += [(ALL, ALL)]
    grid = Grid.build(dims, coords)
    values = [5.0] * len(coords)
    index = {c: k for k, c in enumerate(coords)}
    hidden_cells = [index[(f"r{i}", f"c{j}")] for i, j in hidden]
    # Lines alone: each line holds 0 or at least 2 hidden cells.
    for line in grid.lines:
        assert sum(c in hidden_cells for c in line.cells) != 1
    assert unprotected(grid.lines, hidden_cells, values) == {index[("r0", "c2")]}


def test_the_audit_knows_a_hidden_zero_can_only_move_up() -> None:
    # x + y = T with T published: hiding x (zero) and y (positive) protects both.
    grid = Grid.build(("a",), [("x",), ("y",), (ALL,)])
    assert grid.lines == (Line(2, (0, 1)),)
    assert unprotected(grid.lines, [0, 1], [0.0, 7.0, 7.0]) == set()
    # Two hidden zeros with a published zero margin: both are pinned at 0.
    assert unprotected(grid.lines, [0, 1], [0.0, 0.0, 0.0]) == {0, 1}


def test_a_single_small_cell_and_the_total() -> None:
    table = pa.table({"sex": ["F", "M", TOTAL], "count": [4, 96, 100]})
    result = assess(Output.of("t", table), SNDS)
    assert result.released.column("count").to_pylist() == [None, None, 100]


def test_rounding_happens_after_suppression() -> None:
    table = pa.table({"sex": ["F", "M", "X", TOTAL], "count": [12, 13, 7, 32]})
    result = assess(Output.of("t", table), OPENSAFELY)
    # 7 is suppressed, its partner 12 too; the margin 32 is rounded to 30.
    assert result.released.column("count").to_pylist() == [None, 15, None, 30]
    assert result.record.check("rounding").reason == "every count rounded to the nearest 5"


def test_a_count_rounded_below_the_threshold_is_suppressed() -> None:
    profile = Profile("odd", threshold=11, rounding=5)
    assert profile.too_small(11) and profile.too_small(12) and not profile.too_small(13)
    table = pa.table({"sex": ["F", "M"], "count": [12, 200]})
    result = assess(Output.of("t", table), profile)
    assert result.released.column("count").to_pylist() == [None, 200]


def test_zeros_follow_the_profile() -> None:
    table = pa.table({"sex": ["F", "M", "X", TOTAL], "count": [0, 50, 60, 110]})
    allowed = assess(Output.of("t", table), SNDS)
    assert allowed.released.column("count").to_pylist() == [0, 50, 60, 110]
    flagged = assess(Output.of("t", table), Profile("f", threshold=11, zeros="flag"))
    assert flagged.record.status.value == "review"
    assert flagged.record.check("zeros").cells == ({"sex": "F"},)
    suppressed = assess(Output.of("t", table), ACRO)
    assert suppressed.released.column("count").to_pylist() == [None, None, 60, 110]


def test_margins_that_are_not_sums_go_to_review() -> None:
    # Persons with each condition: one person may have both.
    table = pa.table({"condition": ["asthma", "copd", TOTAL], "count": [40, 30, 55]})
    result = assess(Output.of("t", table), SNDS)
    assert result.record.check("structure").result.value == "review"
    assert result.record.status.value == "review"


@pytest.mark.parametrize("profile", [SNDS, ACRO])
def test_derived_columns_follow_their_row(profile: Profile) -> None:
    table = pa.table(
        {"sex": ["F", "M", TOTAL], "count": [5, 95, 100], "percent": [5.0, 95.0, 100.0]}
    )
    result = assess(Output.of("t", table), profile)
    assert result.released.column("percent").to_pylist() == [None, None, 100.0]


def test_derived_columns_with_rounding_go_to_review() -> None:
    table = pa.table({"sex": ["F", "M"], "count": [52, 48], "percent": [52.0, 48.0]})
    result = assess(Output.of("t", table), OPENSAFELY)
    assert result.record.check("rounding").result.value == "review"
