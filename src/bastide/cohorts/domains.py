"""The OMOP event tables a cohort can select from, and the columns it reads in each.

Pure data: the compiler and the reference interpreter both read events through this map,
so they agree on which column is the concept, the source concept and the event date.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    table: str
    concept: str  # the standard (or "Maps to") concept column
    source_concept: str  # the source concept column (CIM-10, CCAM, CIP13 … in the warehouse)
    start: str  # the event date: windows and entry dates use it
    end: str | None = None  # end of the event (drug eras)
    type_concept: str | None = None
    value: str | None = None  # numeric result (value_as_number)
    days_supply: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        optional = (self.end, self.type_concept, self.value, self.days_supply)
        return (
            "person_id",
            self.concept,
            self.source_concept,
            self.start,
            *(c for c in optional if c),
        )


DOMAINS: dict[str, Domain] = {
    d.name: d
    for d in (
        Domain(
            "condition_occurrence",
            "condition_occurrence",
            "condition_concept_id",
            "condition_source_concept_id",
            "condition_start_date",
            end="condition_end_date",
            type_concept="condition_type_concept_id",
        ),
        Domain(
            "drug_exposure",
            "drug_exposure",
            "drug_concept_id",
            "drug_source_concept_id",
            "drug_exposure_start_date",
            end="drug_exposure_end_date",
            type_concept="drug_type_concept_id",
            days_supply="days_supply",
        ),
        Domain(
            "procedure_occurrence",
            "procedure_occurrence",
            "procedure_concept_id",
            "procedure_source_concept_id",
            "procedure_date",
            end="procedure_end_date",
            type_concept="procedure_type_concept_id",
        ),
        Domain(
            "measurement",
            "measurement",
            "measurement_concept_id",
            "measurement_source_concept_id",
            "measurement_date",
            type_concept="measurement_type_concept_id",
            value="value_as_number",
        ),
        Domain(
            "observation",
            "observation",
            "observation_concept_id",
            "observation_source_concept_id",
            "observation_date",
            type_concept="observation_type_concept_id",
            value="value_as_number",
        ),
        Domain(
            "visit_occurrence",
            "visit_occurrence",
            "visit_concept_id",
            "visit_source_concept_id",
            "visit_start_date",
            end="visit_end_date",
            type_concept="visit_type_concept_id",
        ),
        Domain(
            "death",
            "death",
            "cause_concept_id",
            "cause_source_concept_id",
            "death_date",
            type_concept="death_type_concept_id",
        ),
    )
}

# Columns read from the other tables.
PERSON_COLUMNS = (
    "person_id",
    "gender_concept_id",
    "year_of_birth",
    "month_of_birth",
    "day_of_birth",
)
OBSERVATION_PERIOD_COLUMNS = (
    "person_id",
    "observation_period_start_date",
    "observation_period_end_date",
)
CONCEPT_COLUMNS = ("concept_id", "vocabulary_id", "concept_code")
CONCEPT_ANCESTOR_COLUMNS = ("ancestor_concept_id", "descendant_concept_id")
DEATH_COLUMNS = ("person_id", "death_date")
