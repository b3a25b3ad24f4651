"""Cohort counts and attrition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from bastide.cohorts import Cohort
from bastide.studies.results import AnalysisOutput, OutputTable
from bastide.studies.stats import DAYS_PER_YEAR


@dataclass(frozen=True)
class CohortCounts:
    summary: pa.Table  # cohort, version, persons, periods, person_years
    attrition: pa.Table  # cohort, step, criterion, persons, entries

    def to_output(self, name: str, title: str = "Cohort counts and attrition") -> AnalysisOutput:
        return AnalysisOutput(
            name=name,
            kind="counts",
            title=title,
            tables=(
                OutputTable(
                    f"{name}.cohorts",
                    "Persons and cohort periods",
                    self.summary,
                    count_columns=("persons", "periods"),
                    kind="frequency",
                    dims=("cohort",),
                    description="Persons in each cohort, periods (a person may have several "
                    "when entries are 'all'), and person-years between start and end.",
                ),
                OutputTable(
                    f"{name}.attrition",
                    "Attrition",
                    self.attrition,
                    count_columns=("persons", "entries"),
                    kind="frequency",
                    dims=("cohort", "criterion"),
                    description="Persons and entries remaining after each step, in order.",
                ),
            ),
        )


def cohort_counts(cohorts: Sequence[Cohort]) -> CohortCounts:
    summary = []
    attrition = []
    for cohort in cohorts:
        t = cohort.table
        days = pc.sum(
            pc.add(pc.days_between(t.column("cohort_start_date"), t.column("cohort_end_date")), 1)
        ).as_py()
        summary.append(
            {
                "cohort": cohort.name,
                "version": cohort.definition.version,
                "persons": cohort.persons,
                "periods": t.num_rows,
                "person_years": round((days or 0) / DAYS_PER_YEAR, 2),
            }
        )
        for row in cohort.attrition.to_pylist():
            attrition.append({"cohort": cohort.name, **row})
    return CohortCounts(
        summary=pa.Table.from_pylist(
            summary,
            schema=pa.schema(
                [
                    ("cohort", pa.string()),
                    ("version", pa.int64()),
                    ("persons", pa.int64()),
                    ("periods", pa.int64()),
                    ("person_years", pa.float64()),
                ]
            ),
        ),
        attrition=pa.Table.from_pylist(
            attrition,
            schema=pa.schema(
                [
                    ("cohort", pa.string()),
                    ("step", pa.int64()),
                    ("criterion", pa.string()),
                    ("persons", pa.int64()),
                    ("entries", pa.int64()),
                ]
            ),
        ),
    )
