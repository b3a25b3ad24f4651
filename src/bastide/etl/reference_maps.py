"""Small mapping tables the ETL joins to, read from the shared reference data."""

from __future__ import annotations

import csv
from functools import cache

import pyarrow as pa

from bastide.reference import shared_data_dir

PRS_NAT_REF_FILE = "snds-omop-mapping/Freq_prs_nat_ref_er_prs_f.csv"


@cache
def prs_nat_ref_map() -> pa.Table:
    """PRS_NAT_REF -> OMOP visit concept, from the HDH correspondence (§3.3).

    The CSV has three title lines before its header.
    """
    path = shared_data_dir() / PRS_NAT_REF_FILE
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))[3:]
    header = rows[0]
    code_i, concept_i = header.index("PRS_NAT_REF"), header.index("mapped_omop")
    codes: dict[int, int] = {}
    for row in rows[1:]:
        if len(row) > concept_i and row[code_i].strip().isdigit() and row[concept_i].strip():
            codes[int(row[code_i])] = int(float(row[concept_i]))
    return pa.table(
        {
            "prs_nat_ref": pa.array(list(codes), pa.int32()),
            "visit_concept_id": pa.array(list(codes.values()), pa.int32()),
        }
    )
