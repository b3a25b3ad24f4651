"""Schemas of what an ingest stores besides the OMOP tables themselves."""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from bastide.cdm.spec import arrow_schema
from bastide.etl.snds import EXCLUDED_ROWS_SCHEMA
from bastide.sources import QUARANTINE_SCHEMA, RECONCILIATION_SCHEMA
from bastide.sources.findings import FINDINGS_SCHEMA

# Warehouse tables that are the hub's own records of its ingests (not OMOP tables).
QUARANTINE = "ingest_quarantine"
RECONCILIATION = "ingest_reconciliation"
EXCLUSIONS = "ingest_exclusions"
EXCLUDED_ROWS = "ingest_excluded_rows"  # each row an exclusion counts: file, line, rule
PERSON_LINK = "person_link"
LINKAGE = "ingest_linkage"
FINDINGS = "ingest_findings"  # loaded rows a producer should hear about (repeated ids)

EXCLUSIONS_SCHEMA = pa.schema(
    [("source_table", pa.string()), ("rule", pa.string()), ("rows", pa.int64())]
)
PERSON_LINK_SCHEMA = pa.schema([("source_key", pa.string()), ("person_id", pa.int64())])
LINKAGE_SCHEMA = pa.schema(
    [("local_person_id", pa.string()), ("person_id", pa.int64()), ("method", pa.string())]
)

OWN_TABLES: dict[str, pa.Schema] = {
    QUARANTINE: QUARANTINE_SCHEMA,
    RECONCILIATION: RECONCILIATION_SCHEMA,
    EXCLUSIONS: EXCLUSIONS_SCHEMA,
    EXCLUDED_ROWS: EXCLUDED_ROWS_SCHEMA,
    PERSON_LINK: PERSON_LINK_SCHEMA,
    LINKAGE: LINKAGE_SCHEMA,
    FINDINGS: FINDINGS_SCHEMA,
}


@cache
def omop_storage_schema(table: str) -> pa.Schema:
    """The OMOP spec's schema with every field nullable: a row breaking a required field
    is still stored, and reported by ``bastide check``, rather than failing the ingest."""
    schema = arrow_schema(table)
    return pa.schema([f.with_nullable(True) for f in schema])


def conform(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast ``data`` to ``schema`` (columns by name; absent ones as nulls)."""
    columns = []
    for field in schema:
        if field.name in data.column_names:
            columns.append(data[field.name].cast(field.type))
        else:
            columns.append(pa.nulls(data.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def conform_batches(reader: pa.RecordBatchReader, schema: pa.Schema) -> pa.RecordBatchReader:
    """Stream ``reader`` cast to ``schema``, batch by batch."""

    def batches():  # type: ignore[no-untyped-def]
        for batch in reader:
            yield from conform(pa.Table.from_batches([batch]), schema).to_batches()

    return pa.RecordBatchReader.from_batches(schema, batches())
