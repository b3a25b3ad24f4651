"""Security property: no raw identifier is ever written by an ingest.

Every identifier of the extracts (NIR, BEN_NIR_PSA, BEN_NIR_ANO, BEN_IDT_ANO, NIR_ANO_17
and the hospitals' chaining ids) is looked for in every byte the hub holds and in every
decoded value of every warehouse table (Parquet pages are compressed, so bytes alone
could hide a value)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from ingest_helpers import Ingested

from bastide.storage import Warehouse

ID_COLUMNS = ("nir", "ben_nir_ano", "ben_idt_ano", "ben_nir_psa_1", "ben_nir_psa_2")


def raw_identifiers(extract: Path) -> set[str]:
    ids: set[str] = set()
    with (extract / "ground_truth" / "persons.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ids.update(row[c] for c in ID_COLUMNS if row.get(c))
    for person in (extract / "hospitals").glob("*/PERSON.csv"):
        with person.open(encoding="utf-8") as f:
            ids.update(
                r["person_source_value"] for r in csv.DictReader(f) if r["person_source_value"]
            )
    return {i for i in ids if len(i) >= 13}


def test_no_raw_identifier_in_any_byte_of_the_hub(ingested: Ingested) -> None:
    ids = raw_identifiers(ingested.extract)
    assert len(ids) > 1000
    # identifiers are runs of 13 to 17 letters and digits: every such run of every file
    # (and every 13- to 17-byte window inside longer runs) is looked up
    token = re.compile(rb"[A-Za-z0-9]{13,}")
    for path in ingested.hub.root.rglob("*"):
        if path.is_file():
            found = set()
            for run in token.findall(path.read_bytes()):
                text = run.decode()
                for size in range(13, 18):
                    found.update(text[i : i + size] for i in range(len(text) - size + 1))
            assert not (found & ids), f"{path} holds raw identifiers"


def test_no_raw_identifier_in_any_warehouse_value(ingested: Ingested) -> None:
    ids = pa.array(sorted(raw_identifiers(ingested.extract)))
    snapshot = Warehouse(ingested.hub).current()
    assert snapshot is not None
    checked = 0
    for table in snapshot.tables():
        data = snapshot.dataset(table).to_table()
        for name, column in zip(data.column_names, data.columns, strict=True):
            if pa.types.is_string(column.type):
                hits = pc.sum(pc.is_in(column, value_set=ids)).as_py() or 0
                assert hits == 0, f"{table}.{name} holds raw identifiers"
                # quarantined rows keep their values as JSON: look inside the text too
                if name == "row_json" and len(column):
                    joined = "\n".join(v for v in column.to_pylist() if v)
                    assert not any(i in joined for i in ids.to_pylist())
                checked += 1
    assert checked > 20
