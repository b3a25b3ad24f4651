"""One study on both engines at three warehouse sizes: how each engine's cost grows.

For each size a synthetic extract (``bastide.synth``, national SNDS layout) is ingested
once into its own hub with DuckDB (not measured). The example study
``studies/nsaid_gi_bleeding.yaml`` (three cohorts, characterisation, incidence, drug
utilisation, a Cox model) then runs on the encrypted warehouse snapshot on
``open_engine("duckdb")`` and on ``open_engine("spark")`` (local mode, as many cores as
DuckDB). Each timing is one whole run: open a session, register the tables the study
reads, build the cohorts, run the analyses, write the outputs, close. Both engines' cohorts
and output tables are checked to be the same before any speed is reported.

Spark's JVM is started once, before any timing, and reported as its own row; its first
study run after start-up (class loading, code generation, JIT) is reported apart too, and
not used in the growth figures. Baseline: DuckDB at the smallest size. Notes: ``growth``
is (time ratio) / (size ratio) against the previous size on the same engine — 1.0 is
linear, below 1 means fixed costs still dominate; ``engine calls`` is the time spent
inside the engine's methods (``register*``, ``query``, ``stream``, ``execute``), the rest
being the same Python on both engines (statistics, figures, report, writing);
``Spark/DuckDB`` is the ratio of wall times at that size, and of engine-call times.
Outputs of synthetic data are written in clear to a temporary directory, then removed.

The rows in each case are the patient-level rows the study reads (person,
observation_period, drug_exposure, condition_occurrence, death); the vocabularies it also
reads (concept, concept_ancestor: about 165,000 rows) are the same at every size.

Sizes: 4,000 / 20,000 / 100,000 persons (quick: 500 / 1,000 / 2,000);
``BASTIDE_BENCH_ENGINE_PERSONS=a,b,c`` overrides.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from bastide.engines import Engine, open_engine
from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.storage import Snapshot, Warehouse
from bastide.studies import Study, StudyRun, load_study, run_study
from bastide.studies.runner import required_columns
from bastide.synth import SynthOptions, generate
from bench import Row, timed

STUDY = Path(__file__).resolve().parents[1] / "studies" / "nsaid_gi_bleeding.yaml"
SIZES = (4_000, 20_000, 100_000)
QUICK_SIZES = (500, 1_000, 2_000)
THREADS = 2
# The patient-level tables the study reads; it also reads the vocabularies (concept,
# concept_ancestor: about 165,000 rows at every size).
PATIENT = ("person", "observation_period", "drug_exposure", "condition_occurrence", "death")
FLOAT_TOLERANCE = 1e-9  # relative: statistics fitted in Python on rows in engine order


def _sizes(quick: bool) -> tuple[int, ...]:
    override = os.environ.get("BASTIDE_BENCH_ENGINE_PERSONS")
    if override:
        return tuple(int(n) for n in override.split(","))
    return QUICK_SIZES if quick else SIZES


def _warehouse(work: Path, persons: int) -> Snapshot:
    """A hub holding the OMOP warehouse of ``persons`` synthetic persons (DuckDB ingest)."""
    extract = work / f"extract-{persons}"
    generate(SynthOptions(persons=persons, seed=1, out=extract, hospitals=1))
    hub = Hub.init(work / f"hub-{persons}")
    ingest(hub, extract / "snds", "snds")
    shutil.rmtree(extract)
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    return snapshot


@dataclass(frozen=True)
class Timing:
    seconds: float  # the whole run
    engine: float  # inside the engine's methods (register*, query, stream, execute)
    result: StudyRun


class StudyOn:
    """Runs the study on one engine over one snapshot, each time into a fresh directory."""

    def __init__(self, study: Study, snapshot: Snapshot, tables: list[str], out: Path) -> None:
        self.study, self.snapshot, self.tables, self.out = study, snapshot, tables, out
        self.runs = 0

    def __call__(self, engine_name: str) -> Timing:
        self.runs += 1
        clock = [0.0]
        with timed() as t:
            engine = _clocked(open_engine(engine_name, threads=THREADS), clock)
            try:
                self.snapshot.register(engine, self.tables)
                directory = self.out / f"{engine_name}-{self.runs}"
                result = run_study(self.study, engine, directory, source={"bench": "engines"})
            finally:
                engine.close()
        return Timing(t.seconds, clock[0], result)

    def best_of(self, repeat: int, engine_name: str) -> Timing:
        return min((self(engine_name) for _ in range(repeat)), key=lambda r: r.seconds)


def _clocked(engine: Engine, clock: list[float]) -> Engine:
    """``engine``, adding the wall time spent in its data methods to ``clock[0]``: the rest
    of a run (statistics, figures, the report, writing) is the same Python on both."""
    for name in ("register", "register_parquet", "query", "stream", "execute"):
        method = getattr(engine, name)

        def call(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                clock[0] += time.perf_counter() - start

        setattr(engine, name, call)
    return engine


def _values(table: pa.Table) -> list[tuple[Any, ...]]:
    columns = [table.column(name).to_pylist() for name in table.column_names]
    return list(zip(*columns, strict=True))


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=FLOAT_TOLERANCE, abs_tol=1e-12)
    return bool(a == b)


def _check_same(duck: StudyRun, spark: StudyRun, persons: int) -> int:
    """Assert that both runs found the same cohorts and the same output tables; return
    how many values were compared."""
    compared = 0
    assert duck.cohorts.keys() == spark.cohorts.keys()
    for name, cohort in duck.cohorts.items():
        other = spark.cohorts[name]
        assert cohort.rows == other.rows, f"{persons} persons: cohort {name} differs"
        assert cohort.attrition.to_pylist() == other.attrition.to_pylist(), name
        compared += 3 * cohort.table.num_rows
    duck_tables = {t.name: t.table for o in duck.outputs for t in o.tables}
    spark_tables = {t.name: t.table for o in spark.outputs for t in o.tables}
    assert duck_tables.keys() == spark_tables.keys()
    for name, table in duck_tables.items():
        other = spark_tables[name]
        assert table.schema == other.schema, f"{persons} persons: {name} schema differs"
        left, right = _values(table), _values(other)
        assert len(left) == len(right), f"{persons} persons: {name} row count differs"
        for row_a, row_b in zip(left, right, strict=True):
            assert all(_same_value(a, b) for a, b in zip(row_a, row_b, strict=True)), (
                f"{persons} persons: output {name} differs: {row_a} vs {row_b}"
            )
        compared += table.num_rows * table.num_columns
    return compared


def _growth(seconds: list[float], sizes: tuple[int, ...], i: int) -> str:
    if i == 0:
        return "smallest size"
    time_ratio = seconds[i] / seconds[i - 1]
    size_ratio = sizes[i] / sizes[i - 1]
    return f"growth {time_ratio / size_ratio:.2f} (time ×{time_ratio:.2f}, size ×{size_ratio:g})"


def run(quick: bool) -> list[Row]:
    sizes = _sizes(quick)
    study = load_study(STUDY)
    tables = sorted(required_columns(study))
    work = Path(tempfile.mkdtemp(prefix="bastide-bench-engines-"))
    try:
        snapshots = {n: _warehouse(work, n) for n in sizes}

        with timed() as start:
            open_engine("spark", threads=THREADS).close()  # the JVM stays up for the process
        rows = [
            Row(
                f"spark: start the JVM (local[{THREADS}])",
                1,
                start.seconds,
                unit="start",
                notes="once per process, not in any study timing",
            )
        ]

        duck: list[Timing] = []
        spark: list[Timing] = []
        patient_rows: list[int] = []
        compared = 0
        for i, persons in enumerate(sizes):
            snapshot = snapshots[persons]
            on = StudyOn(study, snapshot, tables, work / f"out-{persons}")
            patient_rows.append(sum(snapshot.row_count(t) for t in tables if t in PATIENT))
            # Best of two for DuckDB (the first run also pays Python's imports); Spark's
            # first run after start-up is reported apart, then Spark runs once per size.
            duck.append(on.best_of(2, "duckdb"))
            if i == 0:
                first = on("spark")
                rows.append(
                    Row(
                        f"spark: first study run after start-up ({persons:,} persons)",
                        persons,
                        first.seconds,
                        unit="persons",
                        notes=f"engine calls {first.engine:.1f} s; class loading, code "
                        "generation, JIT: not in the growth figures",
                    )
                )
            spark.append(on("spark"))
            compared += _check_same(duck[-1].result, spark[-1].result, persons)
        for engine_name, timings in (("duckdb", duck), ("spark", spark)):
            seconds = [t.seconds for t in timings]
            for i, persons in enumerate(sizes):
                notes = f"{_growth(seconds, sizes, i)}; engine calls {timings[i].engine:.1f} s"
                if engine_name == "spark":
                    notes += (
                        f"; Spark/DuckDB {seconds[i] / duck[i].seconds:.0f}× "
                        f"(engine calls {timings[i].engine / duck[i].engine:.0f}×)"
                    )
                rows.append(
                    Row(
                        f"{engine_name}: study, {persons:,} persons "
                        f"({patient_rows[i] / 1e6:.2f} M rows)",
                        persons,
                        seconds[i],
                        baseline=engine_name == "duckdb" and i == 0,
                        unit="persons",
                        notes=notes,
                    )
                )
        assert compared > 0
        return rows
    finally:
        _stop_spark()
        shutil.rmtree(work, ignore_errors=True)


def _stop_spark() -> None:
    """Free the JVM's memory for the benchmarks that follow in the same process."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
