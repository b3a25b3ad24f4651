"""Runs the generator: people in fixed-size chunks, each table streamed to disk.

Chunk ``c`` draws from generators seeded by (seed, c, concern) and chunks are written in
order, so the same options give identical bytes whatever the machine. Defects the border
must quarantine are planted in each chunk of the extracts' tables before it is written
(``defects``), and recorded in the ground truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from bastide.errors import BastideError
from bastide.synth import (
    ambulatory,
    beneficiaries,
    clinical,
    dcir,
    dcir_tables,
    defects,
    geography,
    hospitals,
    identity,
    pharmacy,
    pmsi,
    stays,
    truth,
)
from bastide.synth.arrays import rng_for
from bastide.synth.catalogue import catalogue
from bastide.synth.counters import Counters
from bastide.synth.deaths import draw_deaths
from bastide.synth.foreigners import draw_foreigners
from bastide.synth.population import draw_people
from bastide.synth.readme import ground_truth_readme
from bastide.synth.sinks import BackgroundWriter, CsvSink, ParquetSink, Sink

GENERATOR_VERSION = "1.0"
CHUNK = 25_000  # people per chunk; part of the output's definition (do not vary)
MAX_HOSPITALS = 20
SNDS_TABLES = (
    "IR_BEN_R",
    "ER_PRS_F",
    "ER_PHA_F",
    "ER_CAM_F",
    "IR_PHA_R",
    *(f"T_MCO{y % 100:02d}{t}" for y in clinical.PMSI_YEARS for t in "BCD"),
    "KI_CCI_R",
)


class SynthError(BastideError):
    """Options the generator cannot honour."""


@dataclass(frozen=True)
class SynthOptions:
    persons: int
    seed: int
    out: Path
    hospitals: int = 4
    format: str = "csv"  # csv | parquet
    encoding: str = "utf-8"  # utf-8 | latin-1 (CSV only)
    compress: str = "none"  # none | gzip
    defects: float = defects.DEFAULT_RATE  # share of rows of the affected tables spoiled

    def check(self) -> None:
        if self.persons < 1:
            raise SynthError("--persons must be at least 1")
        if not 0 <= self.seed < 2**63:
            raise SynthError("--seed must be a non-negative integer")
        if not 1 <= self.hospitals <= MAX_HOSPITALS:
            raise SynthError(f"--hospitals must be between 1 and {MAX_HOSPITALS}")
        if self.format not in ("csv", "parquet"):
            raise SynthError("--format must be csv or parquet")
        if self.encoding not in ("utf-8", "latin-1"):
            raise SynthError("--encoding must be utf-8 or latin-1")
        if self.compress not in ("none", "gzip"):
            raise SynthError("--compress must be none or gzip")
        if not 0 <= self.defects <= defects.MAX_RATE:
            raise SynthError(f"--defects must be between 0 and {defects.MAX_RATE:g}")
        if self.format == "parquet" and self.encoding != "utf-8":
            raise SynthError("--encoding applies to CSV only (Parquet text is always UTF-8)")
        if self.out.exists() and (not self.out.is_dir() or any(self.out.iterdir())):
            raise SynthError(f"output directory {self.out} exists and is not empty")


class _Outputs:
    """Every file of the output, opened once, written chunk by chunk."""

    def __init__(self, opts: SynthOptions, planted: defects.Defects) -> None:
        self.opts = opts
        self.writer = BackgroundWriter()
        self.sinks: dict[str, Sink] = {}
        self.defects = planted
        self.chunk = 0
        self._rows: dict[str, int] = {}  # rows handed to each sink so far

    def snds_path(self, name: str) -> Path:
        if self.opts.format == "parquet":
            return self.opts.out / "snds" / f"{name}.parquet"
        return (
            self.opts.out
            / "snds"
            / (f"{name}.csv.gz" if self.opts.compress == "gzip" else f"{name}.csv")
        )

    def _open(self, key: str, path: Path, schema: pa.Schema, kind: str) -> Sink:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "snds" and self.opts.format == "parquet":
            sink: Sink = ParquetSink(
                path, schema, "gzip" if self.opts.compress == "gzip" else "none"
            )
        elif kind == "snds":
            sink = CsvSink(path, schema, ";", self.opts.encoding, self.opts.compress == "gzip")
        else:
            sink = CsvSink(path, schema, ",")
        self.sinks[key] = sink
        return sink

    def put(
        self,
        key: str,
        path: Path,
        table: pa.Table,
        kind: str,
        eligible: np.ndarray | None = None,
    ) -> np.ndarray:
        """Queue ``table`` for its file, after planting defects in the extracts' tables;
        returns which of its rows were spoiled."""
        rows: pa.Table | defects.Spoiled = table
        lost = np.zeros(table.num_rows, dtype=bool)
        if kind != "truth":
            header = 0 if kind == "snds" and self.opts.format == "parquet" else 1
            done = self._rows.get(key, 0)
            rows, lost = self.defects.plant(
                key,
                str(path.relative_to(self.opts.out)),
                path.name.split(".")[0],
                table,
                self.chunk,
                done + header + 1,
                eligible,
            )
            self._rows[key] = done + rows.num_rows
        sink = self.sinks.get(key) or self._open(key, path, rows.schema, kind)
        # The claim lines are about half of all bytes: they get a writer of their own.
        self.writer.submit(sink, rows, lane=0 if key == "snds/ER_PRS_F" else 1)
        return lost

    def snds(self, name: str, table: pa.Table, eligible: np.ndarray | None = None) -> np.ndarray:
        return self.put(f"snds/{name}", self.snds_path(name), table, "snds", eligible)

    def hospital(self, finess: str, name: str, table: pa.Table) -> None:
        self.put(
            f"hospitals/{finess}/{name}",
            self.opts.out / "hospitals" / finess / f"{name}.csv",
            table,
            "omop",
        )

    def truth(self, name: str, table: pa.Table) -> None:
        self.put(
            f"ground_truth/{name}", self.opts.out / "ground_truth" / f"{name}.csv", table, "truth"
        )

    def close(self) -> dict[str, int]:
        self.writer.finish()
        counts = {}
        for sink in self.sinks.values():
            sink.close()
            counts[str(sink.path.relative_to(self.opts.out))] = sink.rows
        return counts


def _unique_nirs(seed: int, chunk: int, ident: identity.Identity, seen: np.ndarray) -> np.ndarray:
    """Give colliding NIRs (same sex, birth month and place) another order number."""
    rng = rng_for(seed, chunk, "identity.unique")
    for _ in range(100):
        numbers = identity.nir_number(ident.nir)
        _, first = np.unique(numbers, return_index=True)
        dup = np.ones(len(numbers), dtype=bool)
        dup[first] = False
        dup |= np.isin(numbers, seen)
        rows = np.flatnonzero(dup)
        if not len(rows):
            return np.union1d(seen, numbers)
        identity.set_order(ident.nir, rows, rng.integers(1, 1000, len(rows)))
    raise SynthError("could not give every person a distinct NIR")


def generate(opts: SynthOptions, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write the synthetic extracts and their ground truth; return the manifest."""
    opts.check()
    cat = catalogue()
    extract = geography.extract_hospitals(opts.hospitals)
    finess = [geography.geography().finess[e] for e in extract]
    opts.out.mkdir(parents=True, exist_ok=True)
    out = _Outputs(opts, defects.Defects(opts.seed, opts.defects, cat.drugs.cip13))
    counters = Counters()
    tally = truth.Tally()
    seen = np.empty(0, dtype=np.int64)
    out.snds("IR_PHA_R", beneficiaries.ir_pha_r(cat))
    n_chunks = (opts.persons + CHUNK - 1) // CHUNK
    for c in range(n_chunks):
        out.chunk = c
        first = c * CHUNK
        n = min(CHUNK, opts.persons - first)
        seen = _chunk(opts, c, first, n, cat, extract, finess, counters, tally, out, seen)
        out.writer.end_chunk()
        if progress:
            progress(n)
    counts = out.close()
    return _finish(opts, tally, counts, finess, out.defects)


def _chunk(
    opts: SynthOptions,
    c: int,
    first: int,
    n: int,
    cat: Any,
    extract: list[int],
    finess: list[str],
    counters: Counters,
    tally: truth.Tally,
    out: _Outputs,
    seen: np.ndarray,
) -> np.ndarray:
    seed = opts.seed
    people = draw_people(seed, c, first, n)
    ident = identity.draw_identity(seed, people)
    seen = _unique_nirs(seed, c, ident, seen)
    deaths = draw_deaths(seed, people, cat)

    acts = ambulatory.draw_acts(seed, people, cat)
    gp = acts.kind == ambulatory.GP
    study_disp, courses = pharmacy.study(seed, people, cat.drugs)
    disp = pharmacy.concat(
        [
            pharmacy.chronic(seed, people, cat.drugs),
            pharmacy.acute(seed, c, acts.person[gp], acts.day[gp], people.exit, cat.drugs),
            study_disp,
        ]
    )
    claims = dcir.assemble(seed, c, disp, acts, cat.drugs, counters)
    eligible = defects.dcir_eligible(claims, cat.drugs)
    spoiled = {
        name: out.snds(name, table, eligible[name])
        for name, table in dcir_tables.build(seed, claims, people, ident, cat).items()
    }
    consumer = np.bincount(claims.lines.person, minlength=people.n) > 0

    national = stays.within_period(stays.national_stays(seed, people, deaths, courses, cat))
    patients = {e: len(np.unique(national.person[national.eta == e])) for e in extract}
    foreigners, f_stays = draw_foreigners(seed, c, patients, cat)
    every = stays.concat([national, stays.within_period(f_stays)])
    every = every.take(np.lexsort((every.person, every.foreign, every.entry)))
    coded = stays.code(seed, c, every, people, cat)
    nir17 = pmsi.chaining_ids(seed, c, coded, ident)
    rows = pmsi.build(seed, c, coded, nir17, counters, cat)
    usable = defects.pmsi_eligible(coded, extract)
    das_year = rows.year[coded.das_stay]
    lost_stay = np.zeros(len(rows.year), dtype=bool)
    for name, table in rows.tables.items():
        year = 2000 + int(name[5:7])
        if name.endswith("D"):
            out.snds(name, table, usable[coded.das_stay][das_year == year])
        else:
            stays_of_file = np.flatnonzero(rows.year == year)
            lost = out.snds(name, table, usable[stays_of_file])
            lost_stay[stays_of_file[lost]] = True
    out.snds("IR_BEN_R", beneficiaries.ir_ben_r(people, ident, consumer))
    out.snds("KI_CCI_R", beneficiaries.ki_cci_r(people, ident, deaths, cat))

    hosp = hospitals.build(seed, c, coded, people, ident, foreigners, extract, counters, cat)
    for (f, name), table in hosp.tables.items():
        out.hospital(f, name, table)

    foreign_numbers = counters.take("foreign", foreigners.n)
    s = coded.stays
    lookup = np.full(len(geography.geography().finess), -1)
    lookup[extract] = np.arange(len(extract))
    col = lookup[s.eta]
    at_extract = col >= 0
    person_id = np.zeros(len(s), dtype=np.int64)
    nat = at_extract & ~s.foreign
    person_id[nat] = hosp.person_id[s.person[nat], col[nat]]
    person_id[at_extract & s.foreign] = hosp.foreign_person_id[s.person[at_extract & s.foreign]]
    out.truth(
        "persons", truth.persons_table(people, ident, hosp, foreigners, foreign_numbers, extract)
    )
    out.truth("stays", truth.stays_table(coded, rows, hosp, people, foreign_numbers, person_id))
    netted = truth.netted_groups(claims, cat, spoiled)
    tally.chunk(people, courses, coded, claims, netted, hosp, foreigners)
    tally.add("pmsi_stays_quarantined", int(lost_stay.sum()))
    return seen


def _finish(
    opts: SynthOptions,
    tally: truth.Tally,
    counts: dict[str, int],
    finess: list[str],
    planted: defects.Defects,
) -> dict[str, Any]:
    cat = catalogue()
    gt = opts.out / "ground_truth"
    gt.mkdir(parents=True, exist_ok=True)
    effects = tally.effects(cat)
    effects["defects"] = planted.summary()
    records = planted.records()
    sink = CsvSink(gt / "defects.csv", records.schema, ",")
    sink.write(records)
    sink.close()
    (gt / "effects.json").write_text(
        json.dumps(effects, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (gt / "README.md").write_text(ground_truth_readme(finess), encoding="utf-8")
    manifest = {
        "generator": "bastide synth",
        "generator_version": GENERATOR_VERSION,
        "seed": opts.seed,
        "persons": opts.persons,
        "hospitals": finess,
        "format": opts.format,
        "encoding": opts.encoding if opts.format == "csv" else "utf-8",
        "compress": opts.compress,
        "defects": {"rate": opts.defects, "rows": effects["defects"]["rows"]},
        "period": {"start": "2019-01-01", "end": "2023-12-31"},
        "counts": dict(sorted(counts.items())),
        "total_rows": sum(counts.values()),
    }
    (opts.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
