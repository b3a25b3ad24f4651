"""Import a download into the warehouse: one new snapshot, published atomically.

The imported tables become partition ``vocabulary-athena`` of the warehouse's vocabulary
tables (so every query, cohort, study and extract sees them with bastide's own), encrypted
like every warehouse table. The other partitions of those tables lose the keys the import
now defines (``merge.py``). A download whose files are unchanged is not imported again.
No ungoverned caller: ``service.import_vocabulary`` decides and audits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from bastide import __version__
from bastide.hub import Hub
from bastide.ingest.national import warehouse_vocabulary
from bastide.storage import Snapshot, SnapshotWriter, Warehouse
from bastide.vocab import merge
from bastide.vocab.delivery import Delivery, read_delivery
from bastide.vocab.files import TABLES
from bastide.vocab.typed import KEYS, storage_schema


@dataclass
class ImportResult:
    version: int | None  # the snapshot published; None when the files were unchanged
    rows: dict[str, int] = field(default_factory=dict)  # stored rows per table
    unchanged: bool = False
    file_sha256: str = ""
    release: str | None = None  # the download's own version (VOCABULARY 'None')


def french_concepts(parent: Snapshot | None) -> pl.DataFrame:
    """bastide's French concepts as the warehouse holds them (or as an ingest will)."""
    columns = ["concept_id", "vocabulary_id", "concept_code"]
    rows = merge.partition_rows(parent, "concept", [merge.FRENCH_PARTITION], columns)
    if rows is None:
        rows = merge.frame(warehouse_vocabulary()["concept"].select(columns))
    return rows


def _hub_concepts(parent: Snapshot | None, french: pl.DataFrame) -> pl.Series:
    others = merge.other_partitions(parent, "concept", merge.ATHENA_PARTITION)
    held = merge.partition_rows(parent, "concept", others, ["concept_id"])
    ids = [french.get_column("concept_id")]
    if held is not None:
        ids.append(held.get_column("concept_id"))
    return pl.concat(ids)


def summary(delivery: Delivery, translated: int) -> dict[str, object]:
    return {
        "delivery": delivery.fingerprint,
        "release": delivery.release,
        "ancestor_derived": delivery.ancestor_derived,
        "dropped": delivery.dropped,
        "read": delivery.read,
        "french_concepts_reused": translated,
    }


def import_download(hub: Hub, directory: Path, *, subset: bool = False) -> ImportResult:
    """Read, check and publish the download at ``directory`` (no policy check, no audit)."""
    warehouse = Warehouse(hub)
    parent = warehouse.current()
    french = french_concepts(parent)
    delivery = read_delivery(Path(directory), _hub_concepts(parent, french), subset=subset)
    digest = _combined(delivery)
    if merge.vocabulary_fingerprint(parent) == delivery.fingerprint:
        return ImportResult(None, unchanged=True, file_sha256=digest, release=delivery.release)
    translation = merge.french_translation(delivery.tables["concept"], french)
    merge.translate(delivery.tables, translation)
    fingerprint = summary(delivery, translation.height)
    with warehouse.begin(f"vocabulary import ({delivery.release or 'undated'})") as writer:
        rows = _write_import(writer, parent, delivery, fingerprint)
        _defer_to_import(writer, parent, delivery)
        snapshot = writer.commit({"source": "athena", "bastide": __version__})
    return ImportResult(snapshot.version, rows, file_sha256=digest, release=delivery.release)


def _combined(delivery: Delivery) -> str:
    files = delivery.fingerprint["files"]
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def _write_import(
    writer: SnapshotWriter, parent: Snapshot | None, delivery: Delivery, fingerprint: dict
) -> dict[str, int]:
    rows = {}
    for table in TABLES:
        if table not in delivery.tables:
            delivery.tables[table] = merge.frame(storage_schema(table).empty_table())
        data = delivery.tables[table]
        if table in ("concept_relationship", "concept_ancestor"):
            # relationships among bastide's own concepts stay bastide's
            french = merge.partition_rows(
                parent, table, [merge.FRENCH_PARTITION], list(KEYS[table])
            )
            data = delivery.tables[table] = merge.without_keys(table, data, french)
        arrow = merge.to_arrow(table, data)
        writer.write(table, merge.ATHENA_PARTITION, arrow, arrow.schema, fingerprint=fingerprint)
        rows[table] = arrow.num_rows
    return rows


def _defer_to_import(writer: SnapshotWriter, parent: Snapshot | None, delivery: Delivery) -> None:
    """Rewrite the other partitions of each vocabulary table without the keys the import
    defines (bastide's French concepts were already taken out of the import)."""
    for table in TABLES:
        defined = delivery.tables.get(table)
        if defined is None or defined.is_empty() or table not in KEYS:
            continue
        for name in merge.other_partitions(parent, table, merge.ATHENA_PARTITION):
            assert parent is not None
            rows = merge.partition_rows(parent, table, [name])
            assert rows is not None
            kept = merge.without_keys(table, rows, defined)
            if kept.height == rows.height:
                continue  # carried over by reference
            arrow = merge.to_arrow(table, kept)
            fp = parent.fingerprint(table, name)
            writer.write(table, name, arrow, arrow.schema, fingerprint=fp)
