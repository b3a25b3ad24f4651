"""Differencing: a new output checked against what the project released before."""

from __future__ import annotations

import pyarrow as pa
from disclosure_tables import TOTAL, feasible_intervals, with_margins

from bastide.disclosure import SNDS, Fact, Output, Profile, assess


def _released(output: Output, profile: Profile = SNDS, history=(), release: int = 1):
    """Assess an output and return it with its cells as an approved release."""
    result = assess(output, profile, list(history))
    facts = [
        Fact(release, f.output, f.population, f.column, f.key, f.value, f.published, f.count)
        for f in result.facts
    ]
    return result, facts


def test_nested_totals_that_differ_by_less_than_the_threshold_are_flagged() -> None:
    # Released earlier: the whole cohort. Now: the cohort minus one subgroup of 2.
    _, earlier = _released(Output.of("all", pa.table({"sex": [TOTAL], "count": [120]})))
    later = Output.of("no_x", pa.table({"sex": [TOTAL], "count": [118]}), population="no-x")
    result = assess(later, SNDS, earlier)
    check = result.record.check("differencing")
    assert (result.record.status.value, check.result.value) == ("review", "review")
    assert "differ by fewer than 11" in check.reason and "release 1" in check.reason
    assert check.cells == ({},)  # the grand total
    # A profile may make it a failure; a gap of the threshold or more is not flagged.
    strict = Profile("strict", threshold=11, differencing="fail")
    assert assess(later, strict, earlier).record.status.value == "fail"
    far = Output.of("far", pa.table({"sex": [TOTAL], "count": [109]}), population="p2")
    assert assess(far, SNDS, earlier).record.check("differencing").result.value == "pass"


def test_the_same_cell_of_two_populations_is_compared() -> None:
    first = pa.table({"sex": ["F", "M", TOTAL], "count": [70, 50, 120]})
    _, earlier = _released(Output.of("a", first, population="cohort"))
    second = pa.table({"sex": ["F", "M", TOTAL], "count": [67, 50, 117]})
    result = assess(Output.of("b", second, population="cohort-minus-paris"), SNDS, earlier)
    check = result.record.check("differencing")
    assert check.result.value == "review"
    assert {tuple(c.items()) for c in check.cells} == {(("sex", "F"),), ()}


def test_an_earlier_margin_cannot_reveal_a_new_suppressed_cell() -> None:
    """F = 70 was released; now F by smoking without margins: F, non-smoker = 5 would be
    70 minus the published F, smoker."""
    one_way = pa.table({"sex": ["F", "M", TOTAL], "count": [70, 50, 120]})
    _, earlier = _released(Output.of("by_sex", one_way))
    two_way = pa.table(
        {
            "sex": ["F", "F", "M", "M"],
            "smoker": ["yes", "no", "yes", "no"],
            "count": [65, 5, 20, 30],
        }
    )
    alone = assess(Output.of("by_smoking", two_way), SNDS)
    assert alone.released.column("count").to_pylist() == [65, None, 20, 30]  # no margins
    result = assess(Output.of("by_smoking", two_way), SNDS, earlier)
    released = result.released.column("count").to_pylist()
    assert released[1] is None and released[0] is None  # 65 hidden with it
    check = result.record.check("differencing")
    assert check.result.value == "review" and "release 1" in check.reason
    reasons = {tuple(s.cell.values()): s.reasons for s in result.record.suppressed}
    assert reasons[("F", "yes")] == ("linked",)
    # Independently: with the earlier margins as constraints, nothing is pinned.
    combined = pa.table(
        {
            "sex": ["F", "F", "M", "M", "F", "M", TOTAL],
            "smoker": ["yes", "no", "yes", "no", TOTAL, TOTAL, TOTAL],
            "count": [65, 5, 20, 30, 70, 50, 120],
        }
    )
    published = pa.table(
        {
            "sex": combined.column("sex"),
            "smoker": combined.column("smoker"),
            "count": pa.array([*released, 70, 50, 120], pa.int64()),
        }
    )
    for low, high in feasible_intervals(("sex", "smoker"), combined, published).values():
        assert high > low


def test_a_new_table_cannot_publish_what_an_earlier_one_suppressed() -> None:
    table = with_margins(
        ("sex", "age"), {("F", "a"): 3, ("F", "b"): 40, ("M", "a"): 25, ("M", "b"): 30}
    )
    first, earlier = _released(Output.of("t1", table, dims=("sex", "age")))
    assert first.released.column("count").to_pylist()[0] is None  # F, a
    # The same cells again, as a one-way table of F by age (40 would be published alone,
    # revealing F, a = 43 - 40 and then everything).
    again = pa.table({"sex": ["F", "F"], "age": ["a", "b"], "count": [3, 40]})
    result = assess(Output.of("t2", again, dims=("sex", "age")), SNDS, earlier)
    assert result.released.column("count").to_pylist() == [None, None]
    reasons = {tuple(s.cell.values()): s.reasons for s in result.record.suppressed}
    assert reasons[("F", "b")] == ("earlier",)


def test_changed_values_under_one_population_go_to_review() -> None:
    _, earlier = _released(Output.of("a", pa.table({"sex": ["F", "M"], "count": [70, 50]})))
    changed = Output.of("b", pa.table({"sex": ["F", "M"], "count": [90, 50]}))
    check = assess(changed, SNDS, earlier).record.check("differencing")
    assert check.result.value == "review" and "another value" in check.reason


def test_consistent_tables_pass() -> None:
    table = with_margins(
        ("sex", "age"), {("F", "a"): 30, ("F", "b"): 40, ("M", "a"): 25, ("M", "b"): 30}
    )
    _, earlier = _released(Output.of("t1", table, dims=("sex", "age")))
    one_way = pa.table({"sex": ["F", "M", TOTAL], "count": [70, 55, 125]})
    result = assess(Output.of("t2", one_way), SNDS, earlier)
    assert result.record.status.value == "pass"
    assert "checked against 1 earlier release" in result.record.check("differencing").reason
