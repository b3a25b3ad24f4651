"""Building a cohort on an engine session: the cohort table and its attrition table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from bastide.cohorts.compiler import CompiledCohort, compile_cohort
from bastide.cohorts.errors import CohortError
from bastide.cohorts.model import CohortDefinition, ExposureEndExit
from bastide.engines import QueryError

if TYPE_CHECKING:
    from bastide.engines import Engine

COHORT_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.int64(), nullable=False),
        pa.field("cohort_start_date", pa.date32(), nullable=False),
        pa.field("cohort_end_date", pa.date32(), nullable=False),
    ]
)
ATTRITION_SCHEMA = pa.schema(
    [
        pa.field("step", pa.int64(), nullable=False),
        pa.field("criterion", pa.string(), nullable=False),
        pa.field("persons", pa.int64(), nullable=False),
        pa.field("entries", pa.int64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Cohort:
    """A built cohort. ``table`` holds patient-level rows: it stays in the workspace."""

    definition: CohortDefinition
    table: pa.Table  # person_id, cohort_start_date, cohort_end_date
    attrition: pa.Table  # step, criterion, persons, entries
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def persons(self) -> int:
        return len(set(self.table.column("person_id").to_pylist()))

    @property
    def rows(self) -> set[tuple[int, object, object]]:
        return {
            (r["person_id"], r["cohort_start_date"], r["cohort_end_date"])
            for r in self.table.to_pylist()
        }


def build_cohort(engine: Engine, definition: CohortDefinition) -> Cohort:
    """Run ``definition`` on the OMOP tables registered in ``engine``."""
    compiled = compile_cohort(definition)
    _check_tables(engine, compiled)
    try:
        warnings = _missing_codes(engine, compiled)
        table = engine.query(compiled.cohort)
        counts = engine.query(compiled.attrition).to_pylist()[0]
    except QueryError as exc:
        raise CohortError(f"cohort {definition.name!r}: {exc}") from None
    rows = [
        {
            "step": k,
            "criterion": label,
            "persons": int(counts[f"persons_{k}"] or 0),
            "entries": int(counts[f"entries_{k}"] or 0),
        }
        for k, label in enumerate(compiled.steps)
    ]
    return Cohort(
        definition=definition,
        table=table.select(COHORT_SCHEMA.names).cast(COHORT_SCHEMA),
        attrition=pa.Table.from_pylist(rows, schema=ATTRITION_SCHEMA),
        warnings=warnings,
    )


def _check_tables(engine: Engine, compiled: CompiledCohort) -> None:
    registered = getattr(engine, "tables", None)
    if registered is None:
        return
    missing = sorted(compiled.tables - set(registered))
    if missing:
        raise CohortError(
            f"cohort {compiled.definition.name!r} reads tables this session does not have: "
            + ", ".join(missing)
        )


def _missing_codes(engine: Engine, compiled: CompiledCohort) -> tuple[str, ...]:
    """A warning for every code of the definition that the vocabulary does not hold: a
    mistyped code would otherwise silently select nothing."""
    if compiled.codes is None:
        return ()
    found = {
        (r["vocabulary_id"], r["concept_code"]) for r in engine.query(compiled.codes).to_pylist()
    }
    used = {e.concept_set for e in compiled.definition.events}
    rule = compiled.definition.exit.rule
    if isinstance(rule, ExposureEndExit):
        used.add(rule.concept_set)
    warnings = []
    for cs in compiled.definition.concept_sets:
        if cs.name not in used:
            continue
        for c in cs.concepts:
            if c.concept_id is None and (c.vocabulary, c.code) not in found:
                warnings.append(
                    f"concept set {cs.name!r}: {c.vocabulary} {c.code} is not in the vocabulary"
                )
    return tuple(warnings)
