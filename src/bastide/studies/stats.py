"""Statistics of the analyses: exact Poisson intervals for rates, exact intervals for rate
ratios, age bands, standardised differences. Pure functions over numbers."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import beta, chi2

from bastide.studies.errors import StudyError

DAYS_PER_YEAR = 365.25
DEFAULT_AGE_BANDS = (0, 18, 40, 50, 60, 70, 80)


@dataclass(frozen=True)
class Estimate:
    value: float
    lower: float
    upper: float


def poisson_interval(events: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson count: chi-square quantiles
    ½χ²(α/2; 2k) and ½χ²(1−α/2; 2k+2); the lower bound is 0 when k = 0."""
    if events < 0:
        raise ValueError("a count cannot be negative")
    alpha = 1 - level
    lower = 0.0 if events == 0 else float(chi2.ppf(alpha / 2, 2 * events)) / 2
    upper = float(chi2.ppf(1 - alpha / 2, 2 * events + 2)) / 2
    return lower, upper


def incidence_rate(
    events: int, person_years: float, *, per: float = 1000.0, level: float = 0.95
) -> Estimate:
    """Events per ``per`` person-years with the exact Poisson interval (NaN without
    person-time)."""
    if person_years <= 0:
        return Estimate(math.nan, math.nan, math.nan)
    lower, upper = poisson_interval(events, level)
    scale = per / person_years
    return Estimate(events * scale, lower * scale, upper * scale)


def rate_ratio(
    events_1: int, person_years_1: float, events_0: int, person_years_0: float, level: float = 0.95
) -> Estimate:
    """Incidence rate ratio (group 1 over group 0) with the exact conditional interval:
    given n = k1 + k0 events, k1 is binomial with p = r·T1 / (r·T1 + T0); the
    Clopper-Pearson bounds of p become bounds of r = p/(1−p) · T0/T1."""
    if person_years_1 <= 0 or person_years_0 <= 0:
        return Estimate(math.nan, math.nan, math.nan)
    n = events_1 + events_0
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan)
    alpha = 1 - level
    p_low = 0.0 if events_1 == 0 else float(beta.ppf(alpha / 2, events_1, n - events_1 + 1))
    p_high = 1.0 if events_1 == n else float(beta.ppf(1 - alpha / 2, events_1 + 1, n - events_1))
    scale = person_years_0 / person_years_1

    def odds(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p) * scale

    value = math.inf if events_0 == 0 else (events_1 / person_years_1) / (events_0 / person_years_0)
    return Estimate(value, odds(p_low), odds(p_high))


def age_band_labels(breaks: Sequence[int]) -> list[str]:
    """``(0, 18, 40)`` → ``['0-17', '18-39', '40+']``."""
    validate_age_bands(breaks)
    labels = [f"{a}-{b - 1}" for a, b in itertools.pairwise(breaks)]
    return [*labels, f"{breaks[-1]}+"]


def validate_age_bands(breaks: Sequence[int]) -> None:
    if not breaks or breaks[0] != 0 or any(b >= c for b, c in itertools.pairwise(breaks)):
        raise StudyError(f"age bands {list(breaks)} must start at 0 and increase")


def age_band(age: int | None, breaks: Sequence[int]) -> str:
    """The label of the band holding ``age`` (``unknown`` without an age)."""
    if age is None or age < 0:
        return "unknown"
    labels = age_band_labels(breaks)
    for i in range(len(breaks) - 1, -1, -1):
        if age >= breaks[i]:
            return labels[i]
    return labels[0]


def standardised_difference(p1: float, p0: float) -> float:
    """Standardised mean difference of two proportions (0 when both are 0 or 1)."""
    variance = (p1 * (1 - p1) + p0 * (1 - p0)) / 2
    return 0.0 if variance == 0 else (p1 - p0) / math.sqrt(variance)


SEX_LABELS = {8507: "male", 8532: "female"}


def sex_label(concept_id: int | None) -> str:
    return (
        SEX_LABELS.get(concept_id, "other or unknown")
        if concept_id is not None
        else ("other or unknown")
    )
