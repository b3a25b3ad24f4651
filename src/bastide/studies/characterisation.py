"""Characterisation ("Table 1"): age bands, sex, and the most frequent conditions and drugs
in a window before the index date, for one cohort or side by side for several."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from bastide.cohorts import Cohort
from bastide.studies import data
from bastide.studies.results import TOTAL, AnalysisOutput, OutputTable
from bastide.studies.stats import (
    DEFAULT_AGE_BANDS,
    age_band,
    age_band_labels,
    sex_label,
    standardised_difference,
)

if TYPE_CHECKING:
    from bastide.engines import Engine

TABLE1_SCHEMA = pa.schema(
    [
        ("cohort", pa.string()),
        ("section", pa.string()),
        ("characteristic", pa.string()),
        ("concept_id", pa.int64()),
        ("n", pa.int64()),
        ("percent", pa.float64()),
    ]
)
BASELINE_DOMAINS = (("conditions", "condition_occurrence"), ("drugs", "drug_exposure"))


@dataclass(frozen=True)
class Characterisation:
    table1: pa.Table  # cohort, section, characteristic, concept_id, n, percent
    age: pa.Table  # cohort, n, mean, sd
    differences: pa.Table | None  # section, characteristic, concept_id, smd (two cohorts)
    window: tuple[int, int]

    def to_output(self, name: str, title: str = "Characterisation") -> AnalysisOutput:
        """One Table 1 per cohort (its own population for the disclosure checks); the
        report shows them side by side."""
        tables = []
        for cohort in dict.fromkeys(self.table1.column("cohort").to_pylist()):
            rows = [r for r in self.table1.to_pylist() if r["cohort"] == cohort]
            table = pa.Table.from_pylist(rows, schema=TABLE1_SCHEMA).drop_columns(["cohort"])
            tables.append(
                OutputTable(
                    f"{name}.{cohort}",
                    f"Table 1: {cohort}",
                    table,
                    count_columns=("n",),
                    statistic_columns=("percent",),
                    kind="frequency",
                    dims=("section", "characteristic"),
                    population=cohort,
                    description=f"Cohort entries by age band and sex at index, and with "
                    f"each of the most frequent conditions and drugs in [{self.window[0]}, "
                    f"{self.window[1]}] days around the index date (percent of the cohort).",
                )
            )
        tables += [
            OutputTable(
                f"{name}.age",
                "Age at index",
                self.age,
                count_columns=("n",),
                statistic_columns=("mean", "sd"),
            ),
        ]
        if self.differences is not None:
            tables.append(
                OutputTable(
                    f"{name}.differences",
                    "Standardised differences (first cohort minus second)",
                    self.differences,
                    statistic_columns=("smd",),
                )
            )
        return AnalysisOutput(name, "characterisation", title, tuple(tables))


def characterise(
    engine: Engine,
    cohorts: Sequence[Cohort],
    *,
    window: tuple[int, int] = (-365, -1),
    top: int = 10,
    age_bands: Sequence[int] = DEFAULT_AGE_BANDS,
) -> Characterisation:
    """Table 1 of each cohort. With several cohorts, each shows the union of their most
    frequent concepts, so rows line up."""
    labels = age_band_labels(age_bands)
    per_cohort: list[dict[str, Any]] = []
    with data.registered(engine, cohorts) as names:
        for cohort, name in zip(cohorts, names, strict=True):
            entries = data.entries(engine, name).to_pylist()
            concepts = {
                section: data.baseline_concepts(engine, name, domain, window).to_pylist()
                for section, domain in BASELINE_DOMAINS
            }
            per_cohort.append({"cohort": cohort, "entries": entries, "concepts": concepts})
    chosen: dict[str, list[int]] = {}
    for section, _ in BASELINE_DOMAINS:
        ids: list[int] = []
        for c in per_cohort:
            for row in c["concepts"][section][:top]:
                if row["concept_id"] not in ids:
                    ids.append(row["concept_id"])
        chosen[section] = ids
    rows: list[dict[str, Any]] = []
    ages = []
    for c in per_cohort:
        entries = c["entries"]
        n = len(entries)

        def add(
            section: str,
            label: str,
            count: int,
            concept_id: int | None = None,
            cohort: str = c["cohort"].name,
            n: int = n,
        ) -> None:
            rows.append(
                {
                    "cohort": cohort,
                    "section": section,
                    "characteristic": label,
                    "concept_id": concept_id,
                    "n": count,
                    "percent": round(100 * count / n, 2) if n else math.nan,
                }
            )

        bands = Counter(age_band(e["age"], age_bands) for e in entries)
        for label in [*labels, "unknown"]:
            if label != "unknown" or bands[label]:
                add("age band", label, bands[label])
        add("age band", TOTAL, n)
        sexes = Counter(sex_label(e["gender_concept_id"]) for e in entries)
        for label in ("female", "male", "other or unknown"):
            if label != "other or unknown" or sexes[label]:
                add("sex", label, sexes[label])
        add("sex", TOTAL, n)
        for section, _ in BASELINE_DOMAINS:
            found = {r["concept_id"]: r for r in c["concepts"][section]}
            concept_labels = _concept_labels(per_cohort, section)
            for concept_id in chosen[section]:
                count = found[concept_id]["n"] if concept_id in found else 0
                add(section, concept_labels[concept_id], count, concept_id)
        known = [e["age"] for e in entries if e["age"] is not None]
        ages.append(
            {
                "cohort": c["cohort"].name,
                "n": len(known),
                "mean": round(statistics.fmean(known), 2) if known else math.nan,
                "sd": round(statistics.stdev(known), 2) if len(known) > 1 else math.nan,
            }
        )
    table1 = pa.Table.from_pylist(rows, schema=TABLE1_SCHEMA)
    age = pa.Table.from_pylist(
        ages,
        schema=pa.schema(
            [
                ("cohort", pa.string()),
                ("n", pa.int64()),
                ("mean", pa.float64()),
                ("sd", pa.float64()),
            ]
        ),
    )
    return Characterisation(table1, age, _differences(rows, cohorts), window)


def _concept_labels(per_cohort: list[dict[str, Any]], section: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for c in per_cohort:
        for r in c["concepts"][section]:
            code = f"{r['vocabulary_id']} {r['concept_code']}" if r["concept_code"] else ""
            name = r["concept_name"] or ""
            names.setdefault(
                r["concept_id"], " — ".join(x for x in (code, name) if x) or str(r["concept_id"])
            )
    return names


def _differences(rows: list[dict[str, Any]], cohorts: Sequence[Cohort]) -> pa.Table | None:
    if len(cohorts) != 2:
        return None
    first, second = cohorts[0].name, cohorts[1].name
    share = {
        (r["cohort"], r["section"], r["characteristic"]): (r["percent"], r["concept_id"])
        for r in rows
        if r["characteristic"] != TOTAL
    }
    out = []
    for (cohort, section, label), (percent, concept_id) in share.items():
        if cohort != first:
            continue
        other = share.get((second, section, label), (0.0, concept_id))[0]
        if math.isnan(percent) or math.isnan(other):
            continue
        out.append(
            {
                "section": section,
                "characteristic": label,
                "concept_id": concept_id,
                "smd": round(standardised_difference(percent / 100, other / 100), 4),
            }
        )
    return pa.Table.from_pylist(
        out,
        schema=pa.schema(
            [
                ("section", pa.string()),
                ("characteristic", pa.string()),
                ("concept_id", pa.int64()),
                ("smd", pa.float64()),
            ]
        ),
    )
