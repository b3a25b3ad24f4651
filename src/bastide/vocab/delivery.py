"""One Athena download read, typed and checked: the tables an import would store.

Checks, each failing with the file and line: required files and columns, integers,
dates, repeated primary keys, and references to concepts (a relationship, ancestor or
synonym row must name a concept of the delivery or of the hub). A vocabulary *shard*
(Eunomia's, cut from a full download) keeps relationships to concepts it does not ship:
with ``subset=True`` those rows are dropped and counted instead of refused.

An empty or absent CONCEPT_ANCESTOR is derived from the valid 'Is a' relationships
between standard and classification concepts, with each such concept its own ancestor at
level 0 (``Delivery.ancestor_derived``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from bastide.cdm.hierarchy import closure
from bastide.vocab.errors import VocabularyError, at_line
from bastide.vocab.files import LINE, TABLES, locate, read_table
from bastide.vocab.typed import typed_table

IMPORT_FORMAT = "1"  # bumped when the same files would be stored differently
# Columns naming a concept of CONCEPT.csv (or of the hub), per table.
CONCEPT_REFERENCES = {
    "concept_relationship": ("concept_id_1", "concept_id_2"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
    "concept_synonym": ("concept_id",),
}
RELEASE_VOCABULARY = "None"  # Athena's VOCABULARY row carrying the release's version


@dataclass
class Delivery:
    tables: dict[str, pl.DataFrame]  # table -> typed rows (OMOP v5.4 columns)
    fingerprint: dict[str, object]
    ancestor_derived: bool = False
    dropped: dict[str, int] = field(default_factory=dict)  # rows of a shard left out
    read: dict[str, int] = field(default_factory=dict)  # rows in each file

    @property
    def release(self) -> str | None:
        vocabulary = self.tables["vocabulary"]
        row = vocabulary.filter(pl.col("vocabulary_id") == RELEASE_VOCABULARY)
        return row.get_column("vocabulary_version")[0] if row.height else None


def file_digests(files: dict[str, Path]) -> dict[str, str]:
    digests = {}
    for table, path in sorted(files.items()):
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        digests[table] = digest.hexdigest()
    return digests


def read_delivery(directory: Path, hub_concepts: pl.Series, *, subset: bool) -> Delivery:
    """Every table of the download at ``directory``; ``hub_concepts`` are the concept ids
    the hub already holds (relationships may point to them)."""
    files = locate(Path(directory))
    fingerprint = {"format": IMPORT_FORMAT, "subset": subset, "files": file_digests(files)}
    raw = {
        table: typed_table(table, read_table(files[table])) for table in TABLES if table in files
    }
    delivery = Delivery({}, fingerprint, read={t: f.height for t, f in raw.items()})
    concept_ids = raw["concept"].get_column("concept_id")
    known = pl.concat([concept_ids, hub_concepts.cast(pl.Int64)]).unique()
    for table, frame in raw.items():
        for column in CONCEPT_REFERENCES.get(table, ()):
            frame = _known_references(frame, column, known, files[table].name, subset, delivery)
        delivery.tables[table] = frame.drop(LINE)
    ancestor = delivery.tables.get("concept_ancestor")
    if ancestor is None or ancestor.is_empty():
        delivery.tables["concept_ancestor"] = derive_ancestors(
            delivery.tables["concept"], delivery.tables["concept_relationship"]
        )
        delivery.ancestor_derived = True
    return delivery


def _known_references(
    frame: pl.DataFrame,
    column: str,
    known: pl.Series,
    file: str,
    subset: bool,
    delivery: Delivery,
) -> pl.DataFrame:
    is_known = pl.col(column).is_in(known.implode())
    if subset:
        kept = frame.filter(is_known)
        table = file.rpartition(".")[0].lower()
        delivery.dropped[table] = delivery.dropped.get(table, 0) + frame.height - kept.height
        return kept
    unknown = frame.filter(~is_known).head(1)
    if unknown.height:
        line, value = unknown.select(LINE, column).row(0)
        raise at_line(
            file,
            line,
            f"{column} {value} is not a concept of the delivery's CONCEPT file nor of the hub "
            "(for a vocabulary shard that lists concepts it does not ship, import with --subset)",
        )
    return frame


def derive_ancestors(concept: pl.DataFrame, relationship: pl.DataFrame) -> pl.DataFrame:
    """CONCEPT_ANCESTOR from the valid 'Is a' relationships between standard (S) and
    classification (C) concepts, each of them its own ancestor at level 0."""
    hierarchical = concept.filter(pl.col("standard_concept").is_in(["S", "C"])).get_column(
        "concept_id"
    )
    within = hierarchical.implode()
    edges = relationship.filter(
        pl.col("relationship_id") == "Is a",
        pl.col("invalid_reason").is_null(),
        pl.col("concept_id_1").is_in(within),
        pl.col("concept_id_2").is_in(within),
        pl.col("concept_id_1") != pl.col("concept_id_2"),
    ).select(
        pl.col("concept_id_1").alias("descendant_concept_id"),
        pl.col("concept_id_2").alias("ancestor_concept_id"),
    )
    try:
        rows = closure(edges, hierarchical)
    except ValueError as exc:
        raise VocabularyError(
            f"CONCEPT_RELATIONSHIP: cannot derive CONCEPT_ANCESTOR from 'Is a': {exc}"
        ) from None
    return rows.select(
        "ancestor_concept_id",
        "descendant_concept_id",
        "min_levels_of_separation",
        "max_levels_of_separation",
    )
