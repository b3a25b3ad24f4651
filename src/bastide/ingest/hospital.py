"""Ingest a hospital extract already in OMOP CDM, linking its patients to the nation's."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from bastide.cdm.spec import table_spec
from bastide.cdm.vocabulary import code_map
from bastide.engines import Engine
from bastide.etl import hospital as etl
from bastide.etl.snds import Exclusion
from bastide.ingest import tables as t
from bastide.ingest.context import IngestContext
from bastide.ingest.national import VOCABULARY_PARTITION, warehouse_vocabulary
from bastide.ingest.result import FindingSummary
from bastide.ingest.staging import FILE_COLUMN, LINE_COLUMN, Staging
from bastide.linkage.link import link_persons
from bastide.sources import QUARANTINE_SCHEMA, Reconciliation, omop_source_schema
from bastide.sources.findings import FINDINGS_SCHEMA
from bastide.sources.omop_version import CdmVersion, detect_cdm_version
from bastide.sources.quarantine import rows_json
from bastide.vocab import merge
from bastide.vocab.typed import KEYS

_FINESS = re.compile(r"[0-9][0-9AB][0-9]{7}")
_NATIONAL_INPUTS = {
    "national_link": ("person_link", ("source_key", "person_id")),
    "national_person": (
        "person",
        ("person_id", "gender_concept_id", "year_of_birth", "month_of_birth"),
    ),
    "national_visit": (
        "visit_occurrence",
        ("person_id", "visit_start_date", "visit_end_date", "visit_source_value"),
    ),
}


def finess_of(name: str) -> str | None:
    """The FINESS establishment number a hospital source is named by, if it is one."""
    return name if _FINESS.fullmatch(name) else None


def _known_keys(ctx: IngestContext, table: str, french: dict[str, pa.Table]) -> pa.Table:
    """The keys of ``table`` defined outside this source: by the other partitions of the
    parent snapshot, and by the French vocabulary this run writes (if it does)."""
    key = list(KEYS[table])
    schema = t.omop_storage_schema(table)
    parts = [schema.empty_table().select(key)]
    others = merge.other_partitions(ctx.parent, table, ctx.partition)
    if others and ctx.parent is not None:
        parts.append(ctx.parent.dataset(table, partitions=others).to_table(columns=key))
    if table in french:
        parts.append(t.conform(french[table], schema).select(key))
    return pa.concat_tables([p.cast(parts[0].schema) for p in parts])


def _has_partition(ctx: IngestContext, table: str, partition: str) -> bool:
    parent = ctx.parent
    return (
        parent is not None
        and table in parent.tables()
        and any(p.name == partition for p in parent.partitions(table))
    )


def stage_hospital(ctx: IngestContext, directory: Path) -> tuple[Reconciliation, CdmVersion]:
    """Run the border over a hospital's OMOP extract; quarantine the rows of persons it
    does not have. Returns the reconciliation and the CDM version its columns tell."""
    version = detect_cdm_version(ctx.discovered(directory, "omop"))
    reconciliation = ctx.stage(directory)
    return _quarantine_unknown_persons(ctx.staging, reconciliation), version


_UNKNOWN_PERSON = "person_id is not a person of the extract's PERSON table"


def _quarantine_unknown_persons(staging: Staging, rec: Reconciliation) -> Reconciliation:
    """Rows whose person_id names no staged PERSON row are quarantined as
    ``unknown_reference`` (the ETL's inner join on the persons leaves them out), and the
    reconciliation of their files says so."""
    staged = {name.lower(): name for name in staging.tables}
    if "person" in staged:
        ids = staging.dataset(staged["person"]).to_table(columns=["person_id"])["person_id"]
        persons = pc.unique(ids.combine_chunks())
    else:
        persons = pa.array([], pa.string())
    counts: Counter[str] = Counter()
    writer = None
    try:
        for lower, name in sorted(staged.items()):
            if lower == "person" or lower in etl.SKIPPED_TABLES or lower in etl.VOCABULARY_TABLES:
                continue
            dataset = staging.dataset(name)
            if "person_id" not in dataset.schema.names:
                continue
            schema = omop_source_schema(lower)
            for batch in dataset.to_batches():
                orphan = pc.invert(pc.is_in(batch["person_id"], value_set=persons))
                if not pc.any(orphan).as_py():
                    continue
                rows = batch.filter(orphan)
                n = rows.num_rows
                declared = {c: rows[c] for c in schema.names}
                records = pa.Table.from_arrays(
                    [
                        rows[FILE_COLUMN],
                        rows[LINE_COLUMN],
                        pa.repeat(pa.scalar(schema.name), n),
                        pa.repeat(pa.scalar("unknown_reference"), n),
                        pa.repeat(pa.scalar("person_id"), n),
                        pa.repeat(pa.scalar(_UNKNOWN_PERSON), n),
                        rows_json(declared, n),
                    ],
                    schema=QUARANTINE_SCHEMA,
                )
                writer = writer or staging.quarantine_writer()
                writer.write_row_group(records)
                counts.update(rows[FILE_COLUMN].to_pylist())
    finally:
        if writer is not None:
            writer.close()
    if not counts:
        return rec
    files = []
    for f in rec.files:
        n = counts.get(f.source_file, 0)
        if n:
            reasons = dict(f.quarantined_by_reason)
            reasons["unknown_reference"] = reasons.get("unknown_reference", 0) + n
            f = replace(f, rows_loaded=f.rows_loaded - n, quarantined_by_reason=reasons)
        files.append(f)
    return Reconciliation.of(files)


def findings_summary(staging: Staging) -> list[FindingSummary]:
    """The run's data-quality findings, per file, table, finding and column."""
    data = staging.findings().to_table()
    if data.num_rows == 0:
        return []
    keys = ["source_file", "table", "finding", "column"]
    data = data.sort_by([(k, "ascending") for k in keys] + [("line_number", "ascending")])
    out = []
    groups = data.group_by(keys, use_threads=False).aggregate([("line_number", "list")])
    for g in groups.to_pylist():
        lines = g["line_number_list"]
        out.append(
            FindingSummary(
                g["source_file"], g["table"], g["finding"], g["column"], len(lines),
                tuple(sorted(lines)[:10]),
            )
        )  # fmt: skip
    return sorted(out, key=lambda f: (f.source_file, f.table, f.finding))


def _register_national(ctx: IngestContext, engine: Engine) -> None:
    """The warehouse's national persons and stays, which hospital patients link to."""
    current = ctx.parent
    national = (
        [p.name for p in current.partitions(t.PERSON_LINK)]
        if current is not None and t.PERSON_LINK in current.tables()
        else []
    )
    for name, (table, columns) in _NATIONAL_INPUTS.items():
        schema = t.PERSON_LINK_SCHEMA if table == t.PERSON_LINK else t.omop_storage_schema(table)
        schema = pa.schema([schema.field(c) for c in columns])
        if national and current is not None and table in current.tables():
            data = current.dataset(table, partitions=national).to_table(columns=list(columns))
        else:
            data = schema.empty_table()
        engine.register(name, data)


def transform_hospital(ctx: IngestContext, engine: Engine) -> tuple[list[Exclusion], pa.Table]:
    """Link patients, then write every staged OMOP table under warehouse ids."""
    staged = {name.lower(): name for name in ctx.staging.tables}
    for lower, name in staged.items():
        engine.register(f"src_{lower}", ctx.staging.dataset(name))
    for needed in ("person", "visit_occurrence"):
        if needed not in staged:
            engine.register(f"src_{needed}", t.omop_storage_schema(needed).empty_table())
    _register_national(ctx, engine)
    vocabulary = warehouse_vocabulary()
    relationships = merge.standard_relationships(vocabulary["concept_relationship"], ctx.parent)
    engine.register("code_map", code_map(vocabulary["concept"], relationships))
    write_vocabulary = not _has_partition(ctx, "concept", VOCABULARY_PARTITION)
    for lower in staged:
        if lower in etl.VOCABULARY_TABLES:
            known = _known_keys(ctx, lower, vocabulary if write_vocabulary else {})
            engine.register(f"known_{lower}", known)

    ctx.progress.step(f"linkage and ETL: {ctx.partition}", total=len(staged) + 1)
    person_map = link_persons(engine, ctx.partition, finess_of(ctx.source_name))
    ctx.writer.write(
        t.LINKAGE,
        ctx.partition,
        t.conform(person_map, t.LINKAGE_SCHEMA),
        t.LINKAGE_SCHEMA,
        fingerprint=ctx.fingerprint,
    )
    ctx.progress.advance(1, "linkage")

    exclusions: list[Exclusion] = []
    for lower, name in sorted(staged.items()):
        rows = ctx.staging.dataset(name).count_rows()
        if lower in etl.SKIPPED_TABLES:
            exclusions.append(Exclusion(name, f"not imported: {etl.SKIPPED_TABLES[lower]}", rows))
        else:
            schema = t.omop_storage_schema(lower)
            if lower in etl.VOCABULARY_TABLES:
                stream = engine.stream(etl.new_vocabulary_rows(lower, KEYS[lower]))
            else:
                columns = [f.name for f in table_spec(lower).fields]
                stream = engine.stream(etl.table_query(ctx.partition, lower, columns))
            ctx.writer.write(
                lower,
                ctx.partition,
                t.conform_batches(stream, schema),
                schema,
                fingerprint=ctx.fingerprint,
            )
        ctx.progress.advance(1, lower)

    ctx.writer.write(
        t.FINDINGS,
        ctx.partition,
        ctx.staging.findings().to_batches(),
        FINDINGS_SCHEMA,
        fingerprint=ctx.fingerprint,
    )
    if write_vocabulary:
        for table, data in vocabulary.items():
            schema = t.omop_storage_schema(table)
            rows = merge.imported_rows(table, t.conform(data, schema), ctx.parent)
            ctx.writer.write(table, VOCABULARY_PARTITION, rows, schema)
    return exclusions, person_map
