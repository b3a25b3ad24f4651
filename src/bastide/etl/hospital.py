"""Hospital extracts already in OMOP CDM -> the warehouse.

A hospital's own ids (person, visit, provider, …) are local to it: each is replaced by a
stable warehouse id derived from the source name, the table and the local id, so that
several hospitals never collide and re-ingesting gives the same ids. The person id comes
from linkage instead, so that a patient known nationally gets their national person_id.
Source codes left unmapped by the hospital (concept 0) are mapped through the French
vocabularies where the code system is known (CIM-10 diagnoses, UCD drugs).

A local id repeated on different rows of its table keeps its plain warehouse id on its
first row (by file and line) and gets one derived from its file and line on the others,
so every row has its own id and a re-ingest gives the same ids; a foreign key naming the
repeated id points to its first row. A foreign-key id of 0, OMOP's "no value", is null.
A row whose person_id is not a person of the extract was quarantined before the ETL
(``unknown_reference``) and is not loaded.

Staged tables are registered as ``src_<omop table>``; the linkage result as
``person_map(local_person_id, person_id)``.
"""

from __future__ import annotations

import sqlglot.expressions as exp

from bastide.ingest.staging import FILE_COLUMN, LINE_COLUMN
from bastide.sources.omop_schema import NOT_IMPORTED, REKEYED_TABLES

# Tables whose primary key is an entity id that other tables point to.
ENTITY_TABLES = REKEYED_TABLES
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
SKIPPED_TABLES = NOT_IMPORTED
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


def _remapped_id(source: str, entity: str, column: str, own_key: bool) -> exp.Expression:
    """The warehouse id of a local id: of the row itself (``own_key``) or a foreign key."""
    local = exp.column(column, table="s")
    key = exp.func("concat", exp.Literal.string(f"{source}|{entity}|"), exp.cast(local, "VARCHAR"))
    if own_key:
        # the local id's second and later rows: their id also names their file and line
        first = exp.Window(
            this=exp.RowNumber(),
            partition_by=[local],
            order=exp.Order(
                expressions=[
                    exp.Ordered(this=exp.column(FILE_COLUMN, table="s")),
                    exp.Ordered(this=exp.column(LINE_COLUMN, table="s")),
                ]
            ),
        )
        where = exp.func(
            "concat",
            exp.Literal.string("|"),
            exp.column(FILE_COLUMN, table="s"),
            exp.Literal.string(":"),
            exp.cast(exp.column(LINE_COLUMN, table="s"), "VARCHAR"),
        )
        key = exp.Case(
            ifs=[exp.If(this=exp.EQ(this=first, expression=exp.Literal.number(1)), true=key)],
            default=exp.func("concat", key, where),
        )
        absent: exp.Expression = local.is_(exp.null())
    else:
        zero = exp.EQ(this=local, expression=exp.Literal.number(0))
        absent = exp.Or(this=local.is_(exp.null()), expression=zero)
    return exp.Case(ifs=[exp.If(this=absent, true=exp.null())], default=exp.func("stable_id", key))


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
            # rows of persons absent from PERSON were quarantined: an inner join
            select = select.join(
                exp.to_table("person_map").as_("pm"),
                on=exp.column("local_person_id", table="pm").eq(exp.column("person_id", "s")),
                join_type="left" if table == "person" else "inner",
            )
            value: exp.Expression = exp.column("person_id", table="pm")
        elif entity is not None:
            value = _remapped_id(source, entity, col, own_key=col == f"{table}_id")
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
