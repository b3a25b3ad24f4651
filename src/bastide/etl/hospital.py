"""Hospital extracts already in OMOP CDM -> the warehouse.

A hospital's own ids (person, visit, provider, …) are local to it: each is replaced by a
stable warehouse id derived from the source name, the table and the local id, so that
several hospitals never collide and re-ingesting gives the same ids. The person id comes
from linkage instead, so that a patient known nationally gets their national person_id.
Source codes left unmapped by the hospital (concept 0) are mapped through the French
vocabularies where the code system is known (CIM-10 diagnoses, UCD drugs).

Staged tables are registered as ``src_<omop table>``; the linkage result as
``person_map(local_person_id, person_id)``.
"""

from __future__ import annotations

import sqlglot.expressions as exp

# Tables whose primary key is an entity id that other tables point to.
ENTITY_TABLES = (
    "person",
    "visit_occurrence",
    "visit_detail",
    "provider",
    "care_site",
    "location",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "device_exposure",
    "measurement",
    "observation",
    "observation_period",
    "note",
    "specimen",
    "payer_plan_period",
    "episode",
    "condition_era",
    "drug_era",
    "dose_era",
)
# Foreign-key columns whose name is not "<table>_id".
_FK_ALIASES = {
    "preceding_visit_occurrence_id": "visit_occurrence",
    "preceding_visit_detail_id": "visit_detail",
    "parent_visit_detail_id": "visit_detail",
}
# Vocabulary tables are shared, not per-source: only keys no other source defines are added
# (every one has a key in bastide.vocab.typed.KEYS).
VOCABULARY_TABLES = (
    "concept",
    "concept_relationship",
    "concept_ancestor",
    "concept_synonym",
    "concept_class",
    "vocabulary",
    "domain",
    "relationship",
    "drug_strength",
    "source_to_concept_map",
)
# Derived or descriptive tables a hub rebuilds itself rather than importing.
SKIPPED_TABLES = {
    "cohort": "derived by studies, not source data",
    "cohort_definition": "derived by studies, not source data",
    "cdm_source": "describes the source database; recorded in the ingest metadata",
    "metadata": "describes the source database; recorded in the ingest metadata",
    "fact_relationship": "links by local ids whose table is not typed in the spec",
    "episode_event": "links by local ids whose table is not typed in the spec",
    "cost": "links by local ids whose table is not typed in the spec",
}
# Unmapped source codes filled from French vocabularies: table -> (code column,
# concept column, source concept column, vocabulary).
LOCAL_CODE_MAPS = {
    "condition_occurrence": (
        "condition_source_value",
        "condition_concept_id",
        "condition_source_concept_id",
        "CIM10",
    ),
    "drug_exposure": ("drug_source_value", "drug_concept_id", "drug_source_concept_id", "UCD"),
}


def new_vocabulary_rows(table: str, key: tuple[str, ...]) -> exp.Select:
    """``src_<table>`` less the rows whose primary key ``known_<table>`` already holds:
    a key defined by another partition (bastide's, an import, another hospital) keeps
    that definition. ``table`` and ``key`` are trusted names, never user text."""
    match = exp.and_(*(exp.column(c, table="k").eq(exp.column(c, table="s")) for c in key))
    known = exp.select("1").from_(exp.to_table(f"known_{table}").as_("k")).where(match)
    return (
        exp.select("s.*")
        .from_(exp.to_table(f"src_{table}").as_("s"))
        .where(exp.Not(this=exp.Exists(this=known)))
    )


def _entity_of(column: str) -> str | None:
    if column in _FK_ALIASES:
        return _FK_ALIASES[column]
    if column.endswith("_id") and column[:-3] in ENTITY_TABLES:
        return column[:-3]
    return None


def _remapped_id(source: str, entity: str, column: str) -> exp.Expression:
    key = exp.func(
        "concat",
        exp.Literal.string(f"{source}|{entity}|"),
        exp.cast(exp.column(column, table="s"), "VARCHAR"),
    )
    return exp.Case(
        ifs=[exp.If(this=exp.column(column, table="s").is_(exp.null()), true=exp.null())],
        default=exp.func("stable_id", key),
    )


def table_query(source: str, table: str, columns: list[str]) -> exp.Select:
    """The query turning ``src_<table>`` into warehouse rows, one column per spec field.

    ``columns`` are the spec's columns of ``table`` (trusted names, never user text).
    """
    select = exp.select().from_(exp.to_table(f"src_{table}").as_("s"))
    code_map = LOCAL_CODE_MAPS.get(table)
    if code_map:
        code_col, _, _, vocabulary = code_map
        cond = exp.and_(
            exp.column("vocabulary_id", table="lc").eq(exp.Literal.string(vocabulary)),
            exp.column("concept_code", table="lc").eq(
                exp.func(
                    "replace",
                    exp.func("upper", exp.func("trim", exp.column(code_col, table="s"))),
                    exp.Literal.string("."),
                    exp.Literal.string(""),
                )
            ),
        )
        select = select.join(exp.to_table("code_map").as_("lc"), on=cond, join_type="left")
    for col in columns:
        entity = _entity_of(col)
        if col == "person_id":
            select = select.join(
                exp.to_table("person_map").as_("pm"),
                on=exp.column("local_person_id", table="pm").eq(exp.column("person_id", "s")),
                join_type="left",
            )
            value: exp.Expression = exp.column("person_id", table="pm")
        elif entity is not None:
            value = _remapped_id(source, entity, col)
        elif code_map and col in code_map[1:3]:
            # keep the hospital's concept; fill it from the local vocabulary where 0
            mapped = "concept_id" if col == code_map[1] else "source_concept_id"
            value = exp.Coalesce(
                this=exp.func("nullif", exp.column(col, table="s"), exp.Literal.number(0)),
                expressions=[exp.column(mapped, table="lc"), exp.Literal.number(0)],
            )
        else:
            value = exp.column(col, table="s")
        select = select.select(exp.alias_(value, col))
    if table == "person":
        # A linked patient is already a person of the warehouse: only new ones are added.
        select = select.where(exp.column("method", table="pm").eq(exp.Literal.string("new")))
    return select
