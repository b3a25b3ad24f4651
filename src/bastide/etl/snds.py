"""Run the SNDS -> OMOP ETL over staged tables registered on an engine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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
    ("drug_net", q.DRUG_NET),
    ("procedure_net", q.PROCEDURE_NET),
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


# A staged row a mapping rule left out, where it came from (stored next to the quarantine).
EXCLUDED_ROWS_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("table", pa.string()),
        pa.field("rule", pa.string()),
    ]
)
LOADED = "loaded"


@dataclass(frozen=True)
class Accounting:
    """What became of every staged row, per source file: loaded (part of an OMOP row),
    excluded by a rule (each with its line), or neither (``unaccounted``: a fault)."""

    exclusions: list[Exclusion]  # by table and rule, in that order
    excluded_rows: pa.Table  # EXCLUDED_ROWS_SCHEMA, by file and line
    loaded: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    unaccounted: dict[str, int] = field(default_factory=dict)


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


def account(engine: Engine, staged: Iterable[str] = ()) -> Accounting:
    """The fate of every staged row, after ``outputs`` (``staged``: every staged table;
    those the ETL does not read are excluded whole, as ``table_not_mapped``)."""
    unmapped = tuple(sorted(set(staged) - set(INPUTS)))
    fates = engine.query(q.row_fates(unmapped))
    loaded: dict[str, int] = {}
    excluded: dict[str, int] = {}
    unaccounted: dict[str, int] = {}
    by_rule: dict[tuple[str, str], int] = {}
    keep = []
    for r in fates.select(["source_table", "source_file", "rule", "rows"]).to_pylist():
        file, rule, n = r["source_file"], r["rule"], int(r["rows"])
        counts = loaded if rule == LOADED else unaccounted if rule is None else excluded
        counts[file] = counts.get(file, 0) + n
        keep.append(rule not in (None, LOADED))
        if rule not in (None, LOADED):
            key = (r["source_table"], rule)
            by_rule[key] = by_rule.get(key, 0) + n
    rows = fates.filter(pa.array(keep, pa.bool_())) if keep else fates.slice(0, 0)
    rows = rows.rename_columns({"source_table": "table"}).select(EXCLUDED_ROWS_SCHEMA.names)
    rows = rows.cast(EXCLUDED_ROWS_SCHEMA).sort_by(
        [("source_file", "ascending"), ("line_number", "ascending"), ("table", "ascending")]
    )
    exclusions = [Exclusion(t, rule, n) for (t, rule), n in sorted(by_rule.items())]
    return Accounting(exclusions, rows, loaded, excluded, unaccounted)


def exclusions(engine: Engine) -> list[Exclusion]:
    """Staged rows the mapping rules left out, by table and rule (never silent)."""
    return account(engine).exclusions
