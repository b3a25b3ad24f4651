"""The checks, derived from the OMOP specification and from the tables actually present.

Field-level checks of one table share a single scan (`sql.field_probe`); relational and
plausibility checks are one query each. A check whose inputs are absent (no CONCEPT table
for foreign keys into it, no DEATH table for events after death, ...) is not generated.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from bastide.cdm.spec import all_tables
from bastide.quality import conformance, plausibility
from bastide.quality.builder import Builder, Probe, Settings
from bastide.quality.model import CheckResult


def build_probes(
    schemas: Mapping[str, pa.Schema], settings: Settings
) -> tuple[list[Probe], list[CheckResult]]:
    """Probes to run for the given tables (OMOP name → Arrow schema as registered), and the
    results already known from the schemas alone."""
    builder = Builder(schemas, settings)
    for spec in all_tables():
        if spec.name in schemas:
            conformance.structure(builder, spec, schemas[spec.name])
            conformance.keys(builder, spec)
    conformance.person_completeness(builder)
    plausibility.add_checks(builder)
    return builder.probes, builder.static
