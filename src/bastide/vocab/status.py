"""What vocabularies the current warehouse snapshot holds (``bastide vocab status``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from bastide.storage import Snapshot
from bastide.vocab import merge


@dataclass(frozen=True)
class VocabularyLine:
    vocabulary_id: str
    partition: str  # vocabulary-athena, vocabulary-fr or hospital-<name>
    version: str | None
    concepts: int
    standard: int


@dataclass
class VocabularyStatus:
    snapshot: int | None  # the current warehouse snapshot
    imported_in: int | None  # the snapshot that stored the current import
    release: str | None = None
    ancestor_derived: bool = False
    dropped: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    french_concepts_reused: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # rows stored by the import
    lines: list[VocabularyLine] = field(default_factory=list)


def vocabulary_status(snapshot: Snapshot | None) -> VocabularyStatus:
    if snapshot is None or "concept" not in snapshot.tables():
        return VocabularyStatus(snapshot.version if snapshot else None, None)
    status = VocabularyStatus(snapshot.version, None)
    imported = snapshot.partition("concept", merge.ATHENA_PARTITION)
    if imported is not None:
        info: dict[str, Any] = dict(imported.fingerprint or {})
        status.imported_in = imported.written_in
        status.release = info.get("release")
        status.ancestor_derived = bool(info.get("ancestor_derived"))
        status.dropped = dict(info.get("dropped") or {})
        status.read = dict(info.get("read") or {})
        status.french_concepts_reused = int(info.get("french_concepts_reused") or 0)
        status.rows = {
            table: p.rows
            for table in snapshot.tables()
            if (p := snapshot.partition(table, merge.ATHENA_PARTITION)) is not None
        }
    versions = _versions(snapshot)
    for p in snapshot.partitions("concept"):
        counts = (
            merge.frame(
                snapshot.dataset("concept", partitions=[p.name]).to_table(
                    columns=["vocabulary_id", "standard_concept"]
                )
            )
            .group_by("vocabulary_id")
            .agg(pl.len().alias("concepts"), (pl.col("standard_concept") == "S").sum())
            .sort("vocabulary_id")
        )
        for vocabulary_id, concepts, standard in counts.iter_rows():
            version = versions.get(vocabulary_id)
            if version is None and p.name == merge.ATHENA_PARTITION and status.release:
                version = f"{status.release} (the download's)"
            status.lines.append(
                VocabularyLine(vocabulary_id, p.name, version, concepts, int(standard or 0))
            )
    status.lines.sort(key=lambda line: (line.partition, line.vocabulary_id))
    return status


def _versions(snapshot: Snapshot) -> dict[str, str]:
    if "vocabulary" not in snapshot.tables():
        return {}
    rows = merge.frame(
        snapshot.dataset("vocabulary").to_table(columns=["vocabulary_id", "vocabulary_version"])
    )
    return {v: version for v, version in rows.iter_rows() if version is not None}
