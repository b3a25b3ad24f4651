"""From raw extract to OMOP: rows per second and peak memory of ``bastide ingest``.

The extract is made by ``bastide synth`` (1,000,000 persons, or 20,000 with --quick;
``BASTIDE_BENCH_PERSONS`` overrides). Each ingest runs as its own process so that its peak
memory is its own. Baseline, measured in the same run on the same files: reading every
SNDS file with pyarrow's CSV reader and nothing else — the ratio is the price of
validation, pseudonymisation, staging, the ETL and the snapshot.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.csv as pacsv

from bastide.synth import SynthOptions, generate
from bench import Row, timed


def _read_only(directory: Path) -> int:
    rows = 0
    for path in sorted(directory.glob("*.csv")):
        with path.open("rb") as f:
            header = f.readline().decode().strip().split(";")
        reader = pacsv.open_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=";"),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, "string")),
        )
        rows += sum(batch.num_rows for batch in reader)
    return rows


def _ingest(hub: Path, directory: Path, source: str, truth: Path | None) -> float:
    """Wall seconds of one ``bastide ingest`` process."""
    command = [sys.executable, "-m", "bastide", "ingest", str(directory), "--source", source]
    command += ["--hub", str(hub)]
    if truth is not None:
        command += ["--truth", str(truth)]
    with timed() as t:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return t.seconds


def _peak_child_gb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2


def run(quick: bool) -> list[Row]:
    persons = int(os.environ.get("BASTIDE_BENCH_PERSONS", 20_000 if quick else 1_000_000))
    work = Path(tempfile.mkdtemp(prefix="bastide-bench-ingest-"))
    try:
        extract = work / "extract"
        generate(SynthOptions(persons=persons, seed=1, out=extract))
        manifest_rows = {
            p.name: sum(1 for _ in p.open("rb")) - 1 for p in (extract / "snds").glob("*.csv")
        }
        snds_rows = sum(manifest_rows.values())

        with timed() as t:
            read = _read_only(extract / "snds")
        assert read == snds_rows
        rows = [Row("read SNDS CSV only (pyarrow)", read, t.seconds, baseline=True, unit="rows")]

        hub = work / "hub"
        subprocess.run(
            [sys.executable, "-m", "bastide", "init", str(hub)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = _ingest(hub, extract / "snds", "snds", None)
        rows.append(
            Row(
                f"ingest national extract ({persons:,} persons)",
                snds_rows,
                seconds,
                unit="rows",
                notes=f"peak RSS {_peak_child_gb():.2f} GB",
            )
        )
        hospital_rows, hospital_seconds = 0, 0.0
        for hospital in sorted((extract / "hospitals").iterdir()):
            hospital_rows += sum(sum(1 for _ in p.open("rb")) - 1 for p in hospital.glob("*.csv"))
            hospital_seconds += _ingest(hub, hospital, "omop", extract / "ground_truth")
        rows.append(
            Row(
                "ingest 4 hospital extracts (with linkage)",
                hospital_rows,
                hospital_seconds,
                unit="rows",
                notes=f"peak RSS {_peak_child_gb():.2f} GB (all ingests)",
            )
        )
        total = snds_rows + hospital_rows
        rows.append(
            Row("whole ingest, raw extract to OMOP", total, seconds + hospital_seconds, unit="rows")
        )
        return rows
    finally:
        shutil.rmtree(work, ignore_errors=True)
