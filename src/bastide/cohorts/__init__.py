"""Cohorts: declarative definitions (YAML, JSON or Python), a reference interpreter that
defines their meaning, and a compiler to expression trees that engines run.

    from bastide.cohorts import load, build_cohort
    cohort = build_cohort(engine, load(Path("celecoxib.yaml")))
    cohort.table, cohort.attrition

The model (`bastide.cohorts.model`) and the interpreter import no engine, file or
network code; `build_cohort` runs the compiled queries through the engine interface.
"""

from bastide.cohorts.build import Cohort, build_cohort
from bastide.cohorts.compiler import CompiledCohort, compile_cohort
from bastide.cohorts.errors import CohortDefinitionError, CohortError
from bastide.cohorts.interpreter import InterpretedCohort, interpret
from bastide.cohorts.loader import load, loads
from bastide.cohorts.model import (
    SEX_CONCEPTS,
    AgeCriterion,
    CohortDefinition,
    Concept,
    ConceptSet,
    Count,
    Criterion,
    Entry,
    EventCriterion,
    Events,
    Exit,
    ExposureEndExit,
    FixedExit,
    IndexDateCriterion,
    Observation,
    ObservationEndExit,
    SexCriterion,
    Window,
)
from bastide.cohorts.serial import definition_from_dict, definition_to_dict

__all__ = [
    "SEX_CONCEPTS",
    "AgeCriterion",
    "Cohort",
    "CohortDefinition",
    "CohortDefinitionError",
    "CohortError",
    "CompiledCohort",
    "Concept",
    "ConceptSet",
    "Count",
    "Criterion",
    "Entry",
    "EventCriterion",
    "Events",
    "Exit",
    "ExposureEndExit",
    "FixedExit",
    "IndexDateCriterion",
    "InterpretedCohort",
    "Observation",
    "ObservationEndExit",
    "SexCriterion",
    "Window",
    "build_cohort",
    "compile_cohort",
    "definition_from_dict",
    "definition_to_dict",
    "interpret",
    "load",
    "loads",
]
