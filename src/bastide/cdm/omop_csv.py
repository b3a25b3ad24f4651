"""Reading an OMOP CDM table exported as CSV (e.g. Eunomia), typed by the specification."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bastide.cdm.spec import conform, table_spec


def read_omop_csv(path: Path) -> pa.Table:
    """One comma-separated OMOP table named after its file (``PERSON.csv``), typed by the
    v5.4 specification. Date columns may carry a midnight time, as some exports write."""
    spec = table_spec(path.stem.lower())
    with path.open(encoding="utf-8") as fh:
        header = [h.strip().lower() for h in fh.readline().split(",")]
    types = {
        h: pa.timestamp("s") if spec.field(h).datatype == "date" else spec.field(h).arrow_type
        for h in header
    }
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=True
        ),
    )
    columns = {
        c: pc.cast(table[c], pa.date32(), safe=False)
        if spec.field(c).datatype == "date"
        else table[c]
        for c in table.column_names
    }
    return conform(pa.table(columns), spec, strict=False)
