"""Ingest a national-claims extract (SNDS layout) into the warehouse."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from bastide.cdm.core_concepts import core_concept_table, core_vocabulary_table
from bastide.cdm.vocabulary import build_vocabulary, code_map
from bastide.engines import Engine
from bastide.etl import snds as etl
from bastide.ingest import tables as t
from bastide.ingest.border_run import CodeSets
from bastide.ingest.context import IngestContext
from bastide.ingest.staging import staged_name, staged_schema
from bastide.sources import Reconciliation, snds_source_schema
from bastide.sources.declarations import CCAM, CIM10, CIP13, UCD
from bastide.vocab import merge

NOMENCLATURE_TABLES = ["IR_PHA_R"]
VOCABULARY_PARTITION = "vocabulary-fr"
# A year-suffixed name stands for every PMSI year table when declaring empty inputs.
_EXAMPLE_NAMES = {"T_MCOaaB": "T_MCO19B", "T_MCOaaC": "T_MCO19C", "T_MCOaaD": "T_MCO19D"}


def warehouse_vocabulary(ir_pha_r: pa.Table | None = None) -> dict[str, pa.Table]:
    """The French vocabularies plus the OMOP concepts bastide writes itself."""
    vocabulary = dict(build_vocabulary(ir_pha_r))
    vocabulary["concept"] = pa.concat_tables([vocabulary["concept"], core_concept_table()])
    vocabulary["vocabulary"] = pa.concat_tables([vocabulary["vocabulary"], core_vocabulary_table()])
    return vocabulary


def expected_inputs() -> dict[str, pa.Schema]:
    """The staged schema of every table the ETL reads, for those an extract lacks."""
    schemas = {}
    for name in etl.INPUTS:
        schema = snds_source_schema(_EXAMPLE_NAMES.get(name, name))
        schemas[staged_name(schema)] = staged_schema(schema)
    return schemas


def _code_sets(vocabulary: dict[str, pa.Table], ir_pha_r: pa.Table | None) -> CodeSets:
    concept = vocabulary["concept"]
    by_vocabulary = {
        system: concept.filter(pa.compute.equal(concept["vocabulary_id"], vocab))["concept_code"]
        for system, vocab in ((CIM10, "CIM10"), (CCAM, "CCAM"), (UCD, "UCD"), (CIP13, "CIP13"))
    }
    if ir_pha_r is not None and ir_pha_r.num_rows:
        # The extract ships its own pharmacy nomenclature: its CIP13 are the known ones.
        cip = pa.compute.cast(ir_pha_r["PHA_CIP_C13"], pa.string())
        by_vocabulary[CIP13] = pa.compute.utf8_lpad(cip, 13, "0")
    by_vocabulary = {k: v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v
                     for k, v in by_vocabulary.items()}  # fmt: skip
    return by_vocabulary


def stage_national(ctx: IngestContext, directory: Path) -> tuple[Reconciliation, dict]:
    """Border of a national extract: nomenclatures first (they define known codes)."""
    nomenclatures = ctx.stage(directory, NOMENCLATURE_TABLES)
    ir_pha_r = (
        ctx.staging.dataset("IR_PHA_R").to_table() if "IR_PHA_R" in ctx.staging.tables else None
    )
    vocabulary = warehouse_vocabulary(ir_pha_r)
    others = [
        f.table
        for f in ctx.discovered(directory, "snds")
        if f.recognised and f.table and f.table.upper() not in NOMENCLATURE_TABLES
    ]
    claims = ctx.stage(directory, others, _code_sets(vocabulary, ir_pha_r))
    # both passes list the unrecognised files: keep them once
    first = [r for r in nomenclatures.files if r.status not in ("unrecognised", "refused")]
    return Reconciliation.of([*first, *claims.files]), vocabulary


def transform_national(
    ctx: IngestContext, engine: Engine, vocabulary: dict[str, pa.Table]
) -> etl.Accounting:
    """Run the SNDS -> OMOP ETL and write its tables to the snapshot being built; what
    became of every staged row (loaded or excluded, per file) is returned."""
    ctx.staging.register(engine, expected_inputs())
    relationships = merge.standard_relationships(vocabulary["concept_relationship"], ctx.parent)
    engine.register("code_map", code_map(vocabulary["concept"], relationships))
    ctx.progress.step("ETL: SNDS -> OMOP", total=len(etl.OUTPUTS) + 2)
    etl.prepare(engine)
    ctx.progress.advance(1, "intermediate tables")
    for table, stream in etl.outputs(engine):
        schema = t.omop_storage_schema(table)
        ctx.writer.write(
            table,
            ctx.partition,
            t.conform_batches(stream, schema),
            schema,
            fingerprint=ctx.fingerprint,
        )
        ctx.progress.advance(1, table)
    ctx.writer.write(
        t.PERSON_LINK,
        ctx.partition,
        etl.link_table(engine),
        t.PERSON_LINK_SCHEMA,
        fingerprint=ctx.fingerprint,
    )
    for table, data in vocabulary.items():
        schema = t.omop_storage_schema(table)
        rows = merge.imported_rows(table, t.conform(data, schema), ctx.parent)
        ctx.writer.write(table, VOCABULARY_PARTITION, rows, schema)
    accounting = etl.account(engine, ctx.staging.tables)
    ctx.progress.advance(1, "exclusions")
    return accounting
