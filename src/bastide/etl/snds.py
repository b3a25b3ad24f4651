"""Run the SNDS -> OMOP ETL over staged tables registered on an engine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from bastide.engines import Engine
from bastide.etl import snds_sql as q
from bastide.etl.reference_maps import prs_nat_ref_map

# Session-scoped intermediate tables, in dependency order.
INTERMEDIATE = (
    ("ben", q.BENEFICIARY),
    ("person_link", q.PERSON_LINK),
    ("claims", q.CLAIMS),
    ("dcir_visit", q.DCIR_VISITS),
    ("stay", q.STAYS),
)

# OMOP tables the national extract feeds, and the query that builds each.
OUTPUTS = {
    "person": q.PERSON,
    "observation_period": q.OBSERVATION_PERIOD,
    "visit_occurrence": q.VISITS,
    "condition_occurrence": q.CONDITIONS,
    "drug_exposure": q.DRUGS,
    "procedure_occurrence": q.PROCEDURES,
    "death": q.DEATH,
}

# Staged SNDS tables the ETL reads (PMSI year tables under their 'aa' name).
INPUTS = (
    "IR_BEN_R",
    "ER_PRS_F",
    "ER_PHA_F",
    "ER_CAM_F",
    "IR_PHA_R",
    "T_MCOaaB",
    "T_MCOaaC",
    "T_MCOaaD",
    "KI_CCI_R",
)

LINK_TABLE = "person_link"


@dataclass(frozen=True)
class Exclusion:
    source_table: str
    rule: str
    rows: int


def prepare(engine: Engine) -> None:
    """Register reference maps and build the intermediate tables."""
    engine.register("prs_nat_ref_map", prs_nat_ref_map())
    for _, sql in INTERMEDIATE:
        engine.execute(sql)


def outputs(engine: Engine) -> Iterator[tuple[str, pa.RecordBatchReader]]:
    """Each OMOP table as a stream, after ``prepare``."""
    for table, sql in OUTPUTS.items():
        yield table, engine.stream(sql)


def link_table(engine: Engine) -> pa.Table:
    """Source pseudonym (BEN_NIR_PSA, BEN_IDT_ANO) -> person_id, for hospital linkage."""
    return engine.query(q.LINK_TABLE)


def exclusions(engine: Engine) -> list[Exclusion]:
    """Staged rows the mapping rules left out, by table and rule (never silent)."""
    rows = engine.query(q.EXCLUSIONS).to_pylist()
    return [Exclusion(r["source_table"], r["rule"], int(r["rows"])) for r in rows if r["rows"]]
