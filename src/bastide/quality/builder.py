"""Settings of the checks and the builder that collects their queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import sqlglot.expressions as exp

from bastide.cdm.spec import table_spec
from bastide.quality import sql
from bastide.quality.model import Category, Check, CheckResult

# Start and end date of each event table (end None: a point event).
EVENT_DATES: dict[str, tuple[str, str | None]] = {
    "visit_occurrence": ("visit_start_date", "visit_end_date"),
    "visit_detail": ("visit_detail_start_date", "visit_detail_end_date"),
    "condition_occurrence": ("condition_start_date", "condition_end_date"),
    "drug_exposure": ("drug_exposure_start_date", "drug_exposure_end_date"),
    "procedure_occurrence": ("procedure_date", "procedure_end_date"),
    "device_exposure": ("device_exposure_start_date", "device_exposure_end_date"),
    "measurement": ("measurement_date", None),
    "observation": ("observation_date", None),
}
PERIODS: dict[str, tuple[str, str]] = {
    "observation_period": ("observation_period_start_date", "observation_period_end_date"),
    "payer_plan_period": ("payer_plan_period_start_date", "payer_plan_period_end_date"),
}
# Fields whose values cannot be negative (counts, quantities, most lab results).
PLAUSIBLE_MINIMUM: dict[tuple[str, str], int] = {
    ("measurement", "value_as_number"): 0,
    ("drug_exposure", "quantity"): 0,
    ("drug_exposure", "days_supply"): 0,
    ("drug_exposure", "refills"): 0,
    ("procedure_occurrence", "quantity"): 0,
    ("device_exposure", "quantity"): 0,
}
GENDER_CONCEPTS = (8507, 8532)  # male, female: the only values SNDS and OMOP conventions use
# Persons with no row: enforced only where OMOP requires a row for everyone.
ENFORCED_PERSON_COMPLETENESS = ("observation_period",)


def default_thresholds() -> dict[str, float | None]:
    """Allowed % of failing rows per check name (None: informative). A key
    ``name.table`` or ``name.table.field`` overrides ``name`` for that table or field."""
    thresholds: dict[str, float | None] = {
        "field_present": 0.0,
        "is_required": 0.0,
        "datatype": 0.0,
        "primary_key": 0.0,
        "foreign_key": 0.0,
        "concept_domain": 0.0,
        "null_share": None,
        "person_completeness": None,
        "outside_observation_period": 5.0,
        "after_death": 1.0,
        "before_birth": 1.0,
        "end_before_start": 1.0,
        "year_of_birth": 0.0,
        "gender_value": 0.0,
        "below_minimum": 1.0,
    }
    for name in ENFORCED_PERSON_COMPLETENESS:
        thresholds[f"person_completeness.{name}"] = table_spec(name).person_completeness_threshold
    return thresholds


@dataclass(frozen=True)
class Settings:
    """What the checks compare against; thresholds are data, not code."""

    today: date = field(default_factory=date.today)
    thresholds: Mapping[str, float | None] = field(default_factory=default_thresholds)
    death_grace_days: int = 30
    earliest_year_of_birth: int = 1900  # exclusive: a year of birth must be later
    # Measurement concepts whose value may be negative (base excess, z-scores, ...).
    signed_measurement_concepts: tuple[int, ...] = ()

    def threshold(self, name: str, table: str, field_name: str | None = None) -> float | None:
        for key in (f"{name}.{table}.{field_name}", f"{name}.{table}", name):
            if key in self.thresholds:
                return self.thresholds[key]
        raise KeyError(f"no threshold for check {name!r}")


@dataclass(frozen=True)
class Probe:
    """One query returning one row: ``denominator`` and a column per check (``v<i>``)."""

    query: exp.Expression
    checks: tuple[tuple[Check, str | None], ...]  # None: cannot fail, 0 rows


class Builder:
    """Collects the checks for a set of tables: probes to run, results known already."""

    def __init__(self, schemas: Mapping[str, pa.Schema], settings: Settings) -> None:
        self.schemas = schemas
        self.settings = settings
        self.probes: list[Probe] = []
        self.static: list[CheckResult] = []

    def check(
        self, name: str, category: Category, table: str, field_name: str | None, text: str
    ) -> Check:
        threshold = self.settings.threshold(name, table, field_name)
        return Check(name, category, table, field_name, text, threshold)

    def has(self, table: str, *columns: str) -> bool:
        schema = self.schemas.get(table)
        return schema is not None and all(c in schema.names for c in columns)

    def relational(self, check: Check, table: str, condition: exp.Expr) -> None:
        """Count the rows of ``table`` (alias ``e``) meeting ``condition``."""
        self.probes.append(Probe(sql.rows_where(table, condition), ((check, "v0"),)))
