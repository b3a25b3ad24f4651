"""Drug utilisation in a cohort of new users: new users per calendar year, and treatment
episodes — the exposure era (exposures joined across gaps of ``gap_days``) that holds
each cohort start, extended by ``extend_days``.

An episode's observed duration runs from cohort start to the episode end or to the
cohort end, whichever comes first (both days included); it is *stopped* when the episode
ends by then, *censored* otherwise (end of observation, death). Persistence (the share
still treated after 30, 90, 180, 365 days) is a Kaplan-Meier estimate over episodes.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.cohorts import Cohort, ExposureEndExit
from bastide.studies import data, plots
from bastide.studies.errors import StudyError
from bastide.studies.results import AnalysisOutput, Figure, OutputTable, with_total
from bastide.studies.survival import kaplan_meier

if TYPE_CHECKING:
    from bastide.engines import Engine

DURATION_BANDS = ((1, 30), (31, 90), (91, 180), (181, 365), (366, None))
PERSISTENCE_DAYS = (30, 90, 180, 365)


@dataclass(frozen=True)
class Episode:
    start: Any
    days: int
    stopped: bool
    exposures: int


@dataclass(frozen=True)
class Utilisation:
    new_users: pa.Table  # year, new_users
    duration: pa.Table  # episodes, stopped, mean_days, sd_days, p25_days, median_days, ...
    duration_bands: pa.Table  # band, episodes, percent
    persistence: pa.Table  # day, at_risk, persistent, lower, upper
    curve: pa.Table  # day, at_risk, events (stops), persistent, lower, upper (KM steps)
    gap_days: int
    extend_days: int
    cohort: str

    def to_output(self, name: str, title: str = "Drug utilisation") -> AnalysisOutput:
        population = self.cohort
        new_users = OutputTable(
            f"{name}.new_users",
            "New users by calendar year",
            with_total(self.new_users, "year", ("new_users",)),
            count_columns=("new_users",),
            kind="frequency",
            dims=("year",),
            population=population,
        )
        curve = OutputTable(
            f"{name}.persistence_curve",
            "Persistence (Kaplan-Meier): episodes still followed (at_risk) and stopping "
            "(events) at each day",
            self.curve,
            count_columns=("at_risk", "events"),
            statistic_columns=("persistent", "lower", "upper"),
            kind="survival",
            time="day",
            population=population,
        )
        tables = (
            new_users,
            OutputTable(
                f"{name}.duration",
                "Treatment episode duration (days)",
                self.duration,
                count_columns=("episodes", "stopped"),
                statistic_columns=(
                    "mean_days",
                    "sd_days",
                    "p25_days",
                    "median_days",
                    "p75_days",
                    "mean_exposures",
                ),
                description=f"Exposures joined across gaps of up to {self.gap_days} days, "
                f"episode extended by {self.extend_days} days.",
                population=population,
            ),
            OutputTable(
                f"{name}.duration_bands",
                "Episodes by duration",
                with_total(self.duration_bands, "band", ("episodes",), percent="percent"),
                count_columns=("episodes",),
                kind="frequency",
                dims=("band",),
                population=population,
            ),
            OutputTable(
                f"{name}.persistence",
                "Persistence at fixed days (Kaplan-Meier, 95% CI)",
                self.persistence,
                count_columns=("at_risk",),
                statistic_columns=("persistent", "lower", "upper"),
                population=population,
            ),
            curve,
        )
        rows = self.new_users.to_pylist()
        figures = (
            Figure(
                f"{name}.new_users_plot",
                "New users by calendar year",
                plots.bars(
                    [str(r["year"]) for r in rows],
                    [r["new_users"] for r in rows],
                    title="New users by calendar year",
                    ylabel="new users",
                ),
                tables=(new_users.name,),
            ),
            Figure(
                f"{name}.persistence_plot",
                "Persistence on treatment",
                plots.step_curves(
                    [
                        plots.Curve(
                            "on treatment",
                            self.curve.column("day").to_pylist(),
                            self.curve.column("persistent").to_pylist(),
                            self.curve.column("lower").to_pylist(),
                            self.curve.column("upper").to_pylist(),
                        )
                    ],
                    title="Persistence on treatment (Kaplan-Meier, 95% CI)",
                    xlabel="days since treatment start",
                    ylabel="share still treated",
                ),
                tables=(curve.name,),
            ),
        )
        return AnalysisOutput(name, "utilisation", title, tables, figures)


def drug_utilisation(
    engine: Engine,
    cohort: Cohort,
    *,
    concept_set: str | None = None,
    gap_days: int | None = None,
    extend_days: int | None = None,
) -> Utilisation:
    """Utilisation of the drugs of ``concept_set`` (one of the cohort definition's sets;
    by default that of its ``exposure_end`` exit, with its gap and extension)."""
    rule = cohort.definition.exit.rule
    if isinstance(rule, ExposureEndExit):
        concept_set = concept_set or rule.concept_set
        gap_days = rule.gap_days if gap_days is None else gap_days
        extend_days = rule.extend_days if extend_days is None else extend_days
    if concept_set is None:
        raise StudyError(
            f"drug utilisation of cohort {cohort.name!r}: name a concept set (the cohort "
            "does not end with exposure)"
        )
    cohort.definition.concept_set(concept_set)  # must exist
    gap, extend = gap_days or 0, extend_days or 0
    with data.registered(engine, [cohort]) as (name,):
        rows = data.treatment_episodes(engine, cohort, name, concept_set, gap).to_pylist()
    episodes = []
    for r in rows:
        start, end = r["cohort_start_date"], r["cohort_end_date"]
        episode_end = r["era_end"] + timedelta(days=extend) if r["era_end"] else start
        stop = min(episode_end, end)
        episodes.append(
            Episode(start, (stop - start).days + 1, episode_end <= end, r["exposures"] or 0)
        )
    return Utilisation(
        new_users=_new_users(episodes),
        duration=_duration(episodes),
        duration_bands=_bands(episodes),
        persistence=_persistence(episodes),
        curve=_curve(episodes),
        gap_days=gap,
        extend_days=extend,
        cohort=cohort.name,
    )


def _new_users(episodes: Sequence[Episode]) -> pa.Table:
    years = Counter(e.start.year for e in episodes)
    return pa.table(
        {
            "year": pa.array(sorted(years), pa.int64()),
            "new_users": pa.array([years[y] for y in sorted(years)], pa.int64()),
        }
    )


def _quantile(values: list[int], q: float) -> float:
    if not values:
        return math.nan
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=4, method="inclusive")[int(q * 4) - 1])


def _duration(episodes: Sequence[Episode]) -> pa.Table:
    days = sorted(e.days for e in episodes)
    return pa.Table.from_pylist(
        [
            {
                "episodes": len(days),
                "stopped": sum(e.stopped for e in episodes),
                "mean_days": round(statistics.fmean(days), 2) if days else math.nan,
                "sd_days": round(statistics.stdev(days), 2) if len(days) > 1 else math.nan,
                "p25_days": _quantile(days, 0.25),
                "median_days": float(statistics.median(days)) if days else math.nan,
                "p75_days": _quantile(days, 0.75),
                "mean_exposures": round(statistics.fmean(e.exposures for e in episodes), 2)
                if episodes
                else math.nan,
            }
        ]
    )


def _band_label(low: int, high: int | None) -> str:
    return f"{low}-{high} days" if high is not None else f"{low}+ days"


def _bands(episodes: Sequence[Episode]) -> pa.Table:
    rows = []
    for low, high in DURATION_BANDS:
        n = sum(1 for e in episodes if e.days >= low and (high is None or e.days <= high))
        rows.append(
            {
                "band": _band_label(low, high),
                "episodes": n,
                "percent": round(100 * n / len(episodes), 2) if episodes else math.nan,
            }
        )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [("band", pa.string()), ("episodes", pa.int64()), ("percent", pa.float64())]
        ),
    )


def _km(episodes: Sequence[Episode]) -> Any:
    return kaplan_meier([e.days for e in episodes], [e.stopped for e in episodes])


def _persistence(episodes: Sequence[Episode]) -> pa.Table:
    km = _km(episodes)
    rows = [{"day": d, **km.at(d, "persistent")} for d in PERSISTENCE_DAYS]
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("day", pa.int64()),
                ("at_risk", pa.int64()),
                ("persistent", pa.float64()),
                ("lower", pa.float64()),
                ("upper", pa.float64()),
            ]
        ),
    )


def _curve(episodes: Sequence[Episode]) -> pa.Table:
    km = _km(episodes)
    return km.table(value_name="persistent", event_name="events")
