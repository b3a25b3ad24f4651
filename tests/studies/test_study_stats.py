"""The statistics against published values and against an independent computation."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from bastide.studies import StudyError
from bastide.studies.stats import (
    age_band,
    age_band_labels,
    incidence_rate,
    poisson_interval,
    rate_ratio,
    standardised_difference,
)


@pytest.mark.parametrize(
    ("events", "lower", "upper", "digits"),
    [
        # Exact Poisson limits (Garwood 1936), as tabulated to the digits given.
        (0, 0.0, 3.688879, 6),
        (1, 0.025318, 5.571643, 6),
        (2, 0.242209, 7.224688, 6),
        (5, 1.623486, 11.668332, 6),
        (10, 4.795389, 18.390356, 6),
        (100, 81.36, 121.63, 2),
    ],
)
def test_exact_poisson_limits(events: int, lower: float, upper: float, digits: int) -> None:
    low, high = poisson_interval(events)
    assert round(low, digits) == lower
    assert round(high, digits) == upper


def test_rates_per_1000_person_years() -> None:
    rate = incidence_rate(10, 2000.0)
    assert rate.value == pytest.approx(5.0)
    assert (rate.lower, rate.upper) == pytest.approx((4.795389 / 2, 18.390356 / 2), abs=1e-5)
    assert math.isnan(incidence_rate(3, 0.0).value)


@settings(max_examples=200, deadline=None)
@given(
    k1=st.integers(0, 60),
    k0=st.integers(0, 60),
    t1=st.floats(0.5, 500),
    t0=st.floats(0.5, 500),
)
def test_rate_ratio_interval_is_the_conditional_binomial_one(
    k1: int, k0: int, t1: float, t0: float
) -> None:
    estimate = rate_ratio(k1, t1, k0, t0)
    if k1 + k0 == 0:
        assert math.isnan(estimate.value)
        return
    # Independent route: scipy's Clopper-Pearson interval of k1 out of k1 + k0.
    ci = binomtest(k1, k1 + k0).proportion_ci(0.95, method="exact")

    def ratio(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * t0 / t1

    assert estimate.lower == pytest.approx(ratio(ci.low), rel=1e-6, abs=1e-12)
    if math.isinf(ratio(ci.high)):
        assert math.isinf(estimate.upper)
    else:
        assert estimate.upper == pytest.approx(ratio(ci.high), rel=1e-6)
    if k0:
        assert estimate.value == pytest.approx((k1 / t1) / (k0 / t0))
        assert estimate.lower <= estimate.value <= estimate.upper


def test_age_bands() -> None:
    assert age_band_labels((0, 18, 65)) == ["0-17", "18-64", "65+"]
    assert [age_band(a, (0, 18, 65)) for a in (0, 17, 18, 64, 65, 104)] == [
        "0-17",
        "0-17",
        "18-64",
        "18-64",
        "65+",
        "65+",
    ]
    assert age_band(None, (0, 18)) == "unknown"
    with pytest.raises(StudyError, match="must start at 0 and increase"):
        age_band_labels((5, 18))


def test_standardised_difference() -> None:
    assert standardised_difference(0.5, 0.5) == 0.0
    assert standardised_difference(0.6, 0.4) == pytest.approx(0.2 / math.sqrt(0.24))
    assert standardised_difference(1.0, 1.0) == 0.0
