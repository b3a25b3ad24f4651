"""Survival estimates through lifelines: Kaplan-Meier curves and Cox models."""

from __future__ import annotations

import math
import warnings
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan-Meier estimate: one row per distinct time (0 first) with the number at
    risk just before it, the events at it, the estimate and its 95% interval
    (Greenwood variance, exponential log-log bounds as lifelines computes them)."""

    times: tuple[float, ...]
    at_risk: tuple[int, ...]
    events: tuple[int, ...]
    estimate: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    durations: tuple[float, ...]  # sorted

    def at(self, day: float, value_name: str = "estimate") -> dict[str, Any]:
        """The estimate in force on ``day`` and the number still followed on that day."""
        i = bisect_right(self.times, day) - 1
        still = len(self.durations) - bisect_left(self.durations, day)
        return {
            "at_risk": still,
            value_name: self.estimate[i],
            "lower": self.lower[i],
            "upper": self.upper[i],
        }

    def table(self, *, value_name: str = "survival", event_name: str = "events") -> pa.Table:
        return pa.table(
            {
                "day": pa.array(self.times, pa.float64()),
                "at_risk": pa.array(self.at_risk, pa.int64()),
                event_name: pa.array(self.events, pa.int64()),
                value_name: pa.array(self.estimate, pa.float64()),
                "lower": pa.array(self.lower, pa.float64()),
                "upper": pa.array(self.upper, pa.float64()),
            }
        )


def kaplan_meier(durations: Sequence[float], events: Sequence[bool]) -> KaplanMeier:
    if not durations:
        return KaplanMeier((0.0,), (0,), (0,), (1.0,), (math.nan,), (math.nan,), ())
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf.fit(list(durations), event_observed=[bool(e) for e in events])
    table = kmf.event_table
    interval = kmf.confidence_interval_survival_function_
    times = [float(t) for t in kmf.survival_function_.index]
    return KaplanMeier(
        times=tuple(times),
        at_risk=tuple(
            int(table.loc[t, "at_risk"]) if t in table.index else len(durations) for t in times
        ),
        events=tuple(int(table.loc[t, "observed"]) if t in table.index else 0 for t in times),
        estimate=tuple(float(v) for v in kmf.survival_function_.iloc[:, 0]),
        lower=tuple(_nan(v) for v in interval.iloc[:, 0]),
        upper=tuple(_nan(v) for v in interval.iloc[:, 1]),
        durations=tuple(sorted(float(d) for d in durations)),
    )


def _nan(value: Any) -> float:
    v = float(value)
    return v if math.isfinite(v) else math.nan


@dataclass(frozen=True)
class CoxTerm:
    term: str
    hazard_ratio: float
    lower: float
    upper: float
    p: float


def cox_model(rows: list[dict[str, Any]], covariates: Sequence[str]) -> list[CoxTerm]:
    """A Cox proportional-hazards model (Efron ties) of ``duration`` and ``event`` on
    ``covariates``; hazard ratios with Wald 95% intervals."""
    import pandas as pd
    from lifelines import CoxPHFitter

    frame = pd.DataFrame(rows, columns=["duration", "event", *covariates])
    model = CoxPHFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame, duration_col="duration", event_col="event")
    summary = model.summary
    return [
        CoxTerm(
            term=str(term),
            hazard_ratio=float(summary.loc[term, "exp(coef)"]),
            lower=float(summary.loc[term, "exp(coef) lower 95%"]),
            upper=float(summary.loc[term, "exp(coef) upper 95%"]),
            p=float(summary.loc[term, "p"]),
        )
        for term in covariates
    ]


def logrank_p(
    durations_1: Sequence[float],
    events_1: Sequence[bool],
    durations_0: Sequence[float],
    events_0: Sequence[bool],
) -> float:
    from lifelines.statistics import logrank_test

    if not durations_1 or not durations_0:
        return math.nan
    result = logrank_test(
        durations_1, durations_0, event_observed_A=events_1, event_observed_B=events_0
    )
    return float(result.p_value)
