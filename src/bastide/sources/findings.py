"""Data-quality findings: rows that are loaded, but that a producer should hear about.

A finding is not a quarantine: the row is in the warehouse. Each record names the file,
the line and the column concerned, never a value.
"""

from __future__ import annotations

import pyarrow as pa

# Finding codes.
FINDINGS = (
    # an OMOP row id (drug_exposure_id, …) already used by a different row of the table:
    # the row is loaded under a warehouse id of its own
    "repeated_id",
)

FINDINGS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("table", pa.string(), nullable=False),
        pa.field("finding", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("detail", pa.string()),
    ]
)


def empty_findings() -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=FINDINGS_SCHEMA)
