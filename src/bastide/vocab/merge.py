"""One row per primary key across the warehouse's vocabulary partitions.

Three sources write vocabulary rows: bastide's French vocabularies (partition
``vocabulary-fr``), an imported Athena download (``vocabulary-athena``) and a hospital
extract's own vocabulary tables (``hospital-<name>``). The rules:

- **French codes keep bastide's ids.** An imported concept of a vocabulary bastide builds
  (CIM10, ATC, CCAM, …) whose code bastide also has is the same concept: it is not stored
  again, and every imported row naming it (a 'Maps to', an ancestor, a synonym) is
  rewritten to bastide's id. Warehouse rows keep pointing at the concept they always had,
  and that concept gains the imported 'Maps to'. bastide's VOCABULARY row for it stays.
- **Otherwise the import wins** over the other partitions: the OMOP concepts bastide
  ships itself (gender, visit, type concepts) and a hospital's copies of the vocabulary
  are stored once, as Athena defines them.
- **A hospital extract adds only what is new**: a key already defined by another
  partition keeps that definition.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from bastide.cdm.lookup import MAPS_TO, normalise_codes
from bastide.cdm.spec import conform
from bastide.storage import Snapshot
from bastide.vocab.typed import KEYS

ATHENA_PARTITION = "vocabulary-athena"
FRENCH_PARTITION = "vocabulary-fr"
FRENCH_VOCABULARIES = ("CIM10", "CCAM", "CSARR", "ATC", "CIP13", "UCD")
# Columns of each table that hold a concept id, rewritten when an id is translated.
CONCEPT_ID_COLUMNS = {
    "concept": ("concept_id",),
    "concept_relationship": ("concept_id_1", "concept_id_2"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
    "concept_synonym": ("concept_id", "language_concept_id"),
    "vocabulary": ("vocabulary_concept_id",),
    "domain": ("domain_concept_id",),
    "concept_class": ("concept_class_concept_id",),
    "relationship": ("relationship_concept_id",),
}


def frame(table: pa.Table) -> pl.DataFrame:
    result = pl.from_arrow(table)
    assert isinstance(result, pl.DataFrame)
    return result


def partition_rows(
    snapshot: Snapshot | None, table: str, partitions: list[str], columns: list[str] | None = None
) -> pl.DataFrame | None:
    """The rows of ``table`` in those of ``partitions`` the snapshot has (None: none)."""
    if snapshot is None or table not in snapshot.tables():
        return None
    present = [p.name for p in snapshot.partitions(table) if p.name in partitions]
    if not present:
        return None
    return frame(snapshot.dataset(table, partitions=present).to_table(columns=columns))


def other_partitions(snapshot: Snapshot | None, table: str, *excluded: str) -> list[str]:
    if snapshot is None or table not in snapshot.tables():
        return []
    return [p.name for p in snapshot.partitions(table) if p.name not in excluded]


def without_keys(table: str, rows: pl.DataFrame, defined: pl.DataFrame | None) -> pl.DataFrame:
    """``rows`` less those whose primary key is in ``defined``."""
    key = list(KEYS[table])
    if defined is None or defined.is_empty() or rows.is_empty():
        return rows
    return rows.join(defined.select(key).unique(), on=key, how="anti", nulls_equal=True)


def french_translation(delivered: pl.DataFrame, french: pl.DataFrame) -> pl.DataFrame:
    """(concept_id: imported id, french_id) for imported concepts of French vocabularies
    whose code (normalised as bastide stores it) bastide also holds."""
    parts = []
    for vocabulary in FRENCH_VOCABULARIES:
        mine = delivered.filter(pl.col("vocabulary_id") == vocabulary)
        if mine.is_empty():
            continue
        codes = pl.Series(
            "concept_code", normalise_codes(vocabulary, mine.get_column("concept_code").to_arrow())
        )
        parts.append(
            mine.select("concept_id", "vocabulary_id")
            .with_columns(codes)
            .join(
                french.select(
                    "vocabulary_id", "concept_code", pl.col("concept_id").alias("french_id")
                ),
                on=["vocabulary_id", "concept_code"],
            )
            .select("concept_id", "french_id")
        )
    if not parts:
        return pl.DataFrame(schema={"concept_id": pl.Int64, "french_id": pl.Int64})
    return pl.concat(parts)


def translate(tables: dict[str, pl.DataFrame], translation: pl.DataFrame) -> None:
    """Rewrite, in place, every concept id of ``translation`` to its French id, and drop
    the imported concept rows (and VOCABULARY rows) bastide defines itself."""
    tables["vocabulary"] = tables["vocabulary"].filter(
        ~pl.col("vocabulary_id").is_in(FRENCH_VOCABULARIES)
    )
    if translation.is_empty():
        return
    ids = translation.get_column("concept_id").implode()
    tables["concept"] = tables["concept"].filter(~pl.col("concept_id").is_in(ids))
    for table, columns in CONCEPT_ID_COLUMNS.items():
        if table == "concept" or table not in tables:
            continue
        rows = tables[table]
        for column in columns:
            rows = (
                rows.join(translation.rename({"concept_id": column}), on=column, how="left")
                .with_columns(pl.coalesce("french_id", column).alias(column))
                .drop("french_id")
            )
        tables[table] = rows.unique(list(KEYS[table]), keep="first", maintain_order=True)


def to_arrow(table: str, rows: pl.DataFrame) -> pa.Table:
    return conform(rows.to_arrow(), table, strict=False)


# -- for ingests -----------------------------------------------------------------------------
def imported_rows(table: str, data: pa.Table, parent: Snapshot | None) -> pa.Table:
    """French vocabulary rows an ingest writes, less the keys an import already defines."""
    if table not in KEYS:
        return data
    defined = partition_rows(parent, table, [ATHENA_PARTITION], list(KEYS[table]))
    if defined is None:
        return data
    return to_arrow(table, without_keys(table, frame(data), defined))


def standard_relationships(french: pa.Table, parent: Snapshot | None) -> pa.Table:
    """The relationships ``code_map`` reads: bastide's, with the imported 'Maps to' of
    French concepts taking the place of bastide's own (CIP13 → ATC) where both exist."""
    imported = partition_rows(parent, "concept_relationship", [ATHENA_PARTITION])
    if imported is None:
        return french
    maps = imported.filter(pl.col("relationship_id") == MAPS_TO, pl.col("invalid_reason").is_null())
    local = frame(french)
    replaced = (pl.col("relationship_id") == MAPS_TO) & pl.col("concept_id_1").is_in(
        maps.get_column("concept_id_1").implode()
    )
    merged = pl.concat(
        [local.filter(~replaced), maps.select(local.columns)], how="vertical_relaxed"
    )
    return to_arrow("concept_relationship", merged)


def vocabulary_fingerprint(parent: Snapshot | None) -> object:
    """What an ingest's mapping depends on: the imported download, if any."""
    if parent is None or "concept" not in parent.tables():
        return None
    fingerprint = parent.fingerprint("concept", ATHENA_PARTITION)
    return None if fingerprint is None else fingerprint.get("delivery")
