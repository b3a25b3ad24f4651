"""Small mapping tables the ETL joins to, from bastide's reference bundle."""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from bastide import reference

PRS_NAT_REF_TABLE = "snds-omop-mapping/Freq_prs_nat_ref_er_prs_f"


@cache
def prs_nat_ref_map() -> pa.Table:
    """PRS_NAT_REF -> OMOP visit concept, from the HDH correspondence (§3.3)."""
    codes: dict[int, int] = {}
    for row in reference.records(PRS_NAT_REF_TABLE):
        code, concept = row["PRS_NAT_REF"].strip(), row["mapped_omop"].strip()
        if code.isdigit() and concept:
            codes[int(code)] = int(float(concept))
    return pa.table(
        {
            "prs_nat_ref": pa.array(list(codes), pa.int32()),
            "visit_concept_id": pa.array(list(codes.values()), pa.int32()),
        }
    )
