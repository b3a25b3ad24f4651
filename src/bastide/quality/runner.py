"""Run the data-quality checks through an engine session."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime

import pyarrow as pa
import sqlglot.expressions as exp

from bastide.cdm.spec import table_spec
from bastide.engines import Engine, QueryError
from bastide.quality import sql
from bastide.quality.builder import Settings
from bastide.quality.checks import build_probes
from bastide.quality.model import CheckResult
from bastide.quality.report import QualityReport


def run_checks(
    engine: Engine,
    tables: Iterable[str],
    *,
    thresholds: Mapping[str, float | None] | None = None,
    settings: Settings | None = None,
) -> QualityReport:
    """Check the OMOP tables registered in ``engine`` under the given names.

    ``tables`` are OMOP table names (any case) already registered in the session; relational
    checks use whichever related tables are among them (PERSON, OBSERVATION_PERIOD, DEATH,
    CONCEPT, ...). ``thresholds`` overrides some allowed failure percentages (see
    `default_thresholds`); ``settings`` sets the rest. Raises `UnknownTable` for a name
    that is not an OMOP table. A check that cannot run is reported with status ``error``.
    """
    started = datetime.now(UTC)
    clock = time.perf_counter()
    settings = settings or Settings()
    if thresholds:
        settings = replace(settings, thresholds={**settings.thresholds, **thresholds})
    names = sorted({table_spec(t).name for t in tables})
    schemas = {name: _schema(engine, name) for name in names}
    probes, results = build_probes(schemas, settings)
    for probe in probes:
        try:
            row = engine.query(probe.query).to_pylist()[0]
        except QueryError as exc:
            results.extend(CheckResult.failed_to_run(c, str(exc)) for c, _ in probe.checks)
            continue
        denominator = int(row["denominator"])
        results.extend(
            CheckResult.measured(check, int(row[column]) if column else 0, denominator)
            for check, column in probe.checks
        )
    return QualityReport(
        results=tuple(results),
        tables=tuple(names),
        engine=getattr(engine, "name", "unknown"),
        started_at=started,
        elapsed_seconds=time.perf_counter() - clock,
    )


def _schema(engine: Engine, table: str) -> pa.Schema:
    query = exp.select(exp.Star()).from_(exp.Table(this=sql.ident(table))).limit(0)
    return engine.query(query).schema
