"""Malformed rows planted by the generator end up in the warehouse's quarantine, exactly.

The synthetic extract carries defects at the generator's default rate (about 0.1 % of the
rows of the affected tables), each with a known reason, file and line (ground truth:
effects.json "defects" and defects.csv). The ingest must quarantine exactly those rows,
keep them reconciled, never store a raw identifier with them, and the ETL must still give
the figures the ground truth expects once they are gone.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from ingest_helpers import Ingested

from bastide.engines import open_engine
from bastide.ingest import tables as t
from bastide.sources import REASONS
from bastide.storage import Warehouse

Planted = dict[tuple[str, int], tuple[str, str]]  # (file, line) -> (reason, column)
_PSEUDONYM = re.compile(r"[0-9a-f]{32}")


def _ground_truth_file(partition: str, source_file: str) -> str:
    """The file of the generated extract a quarantine record comes from."""
    if partition == "snds":
        return f"snds/{source_file}"
    return f"hospitals/{partition.removeprefix('hospital-')}/{source_file}"


@pytest.fixture(scope="module")
def effects(ingested: Ingested) -> dict[str, Any]:
    path = ingested.extract / "ground_truth" / "effects.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def planted(ingested: Ingested) -> Planted:
    with (ingested.extract / "ground_truth" / "defects.csv").open(encoding="utf-8") as f:
        return {(r["file"], int(r["line"])): (r["reason"], r["column"]) for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def quarantine(ingested: Ingested) -> list[dict[str, Any]]:
    """Every stored quarantine record, with the generated file it names."""
    snapshot = Warehouse(ingested.hub).current()
    assert snapshot is not None
    records = []
    for partition in snapshot.partitions(t.QUARANTINE):
        data = snapshot.dataset(t.QUARANTINE, partitions=[partition.name]).to_table()
        for row in data.to_pylist():
            row["file"] = _ground_truth_file(partition.name, row["source_file"])
            records.append(row)
    return records


def test_quarantine_counts_per_file_and_reason_are_the_planted_ones(
    quarantine: list[dict[str, Any]], effects: dict[str, Any]
) -> None:
    found: dict[str, Counter[str]] = {}
    for row in quarantine:
        found.setdefault(row["file"], Counter())[row["reason"]] += 1
    expected = {f: counts for f, counts in effects["defects"]["files"].items() if counts}
    assert {f: dict(c) for f, c in found.items()} == expected
    assert len(quarantine) == effects["defects"]["rows"] > 0
    reasons = Counter(row["reason"] for row in quarantine)
    assert dict(reasons) == effects["defects"]["by_reason"]
    # at the default rate the claims alone carry several kinds of defect
    assert {"missing_identifier", "bad_date", "type_error", "unknown_code"} <= set(reasons)


def test_quarantined_rows_are_the_planted_lines(
    quarantine: list[dict[str, Any]], planted: Planted
) -> None:
    stored = {(r["file"], r["line_number"]): (r["reason"], r["column"]) for r in quarantine}
    assert len(stored) == len(quarantine), "one record per quarantined line"
    assert stored == planted


def _raw_identifiers(extract: Path) -> set[str]:
    ids: set[str] = set()
    columns = ("nir", "ben_nir_ano", "ben_idt_ano", "ben_nir_psa_1", "ben_nir_psa_2")
    with (extract / "ground_truth" / "persons.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ids.update(row[c] for c in columns if row[c])
    return ids


def test_every_record_is_complete_and_carries_no_raw_identifier(
    ingested: Ingested, quarantine: list[dict[str, Any]]
) -> None:
    raw = _raw_identifiers(ingested.extract)
    assert len(raw) > 1000
    token = re.compile(r"[A-Za-z0-9]{13,}")
    for row in quarantine:
        assert isinstance(row["line_number"], int) and row["line_number"] >= 2
        assert row["reason"] in REASONS
        assert row["column"] and row["table"] and row["detail"]
        text = json.dumps(row)
        assert not {w for w in token.findall(text) if w in raw}, (row["file"], row["line_number"])
        values = json.loads(row["row_json"])
        for name in ("BEN_NIR_PSA", "NIR_ANO_17", "BEN_NIR_ANO", "BEN_IDT_ANO", "ASS_NIR_ANO"):
            value = values.get(name)
            assert value is None or _PSEUDONYM.fullmatch(value), (name, row["file"])


def test_reconciliation_still_holds(ingested: Ingested, effects: dict[str, Any]) -> None:
    manifest = json.loads((ingested.extract / "manifest.json").read_text(encoding="utf-8"))
    planted = effects["defects"]["files"]
    checked = 0
    for result in ingested.results:
        rec = result.reconciliation
        assert rec is not None and rec.ok
        for f in rec.files:
            file = _ground_truth_file(result.partition, f.source_file)
            assert f.rows_read == manifest["counts"][file]
            assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_excluded
            assert dict(f.quarantined_by_reason) == planted.get(file, {}), file
            checked += f.rows_quarantined
    assert checked == effects["defects"]["rows"]
    snapshot = Warehouse(ingested.hub).current()
    assert snapshot is not None
    stored = snapshot.dataset(t.RECONCILIATION).to_table(columns=["rows_quarantined"])
    assert pa.compute.sum(stored["rows_quarantined"]).as_py() == checked


def test_the_etl_gives_the_expected_figures_without_the_quarantined_rows(
    ingested: Ingested, effects: dict[str, Any]
) -> None:
    """Spoiled claim lines and stays are gone; netting and stay counts are still those
    the ground truth expects."""
    drops = effects["etl_drops"]
    snapshot = Warehouse(ingested.hub).current()
    assert snapshot is not None
    engine = open_engine()
    try:
        snapshot.register(engine)

        def count(sql: str) -> int:
            return int(engine.query(sql).to_pylist()[0]["n"])

        stays = count(
            "SELECT COUNT(*) AS n FROM visit_occurrence WHERE visit_source_value LIKE 'MCO:%'"
        )
        assert stays == (
            effects["population"]["pmsi_stays"]
            - drops["pmsi_rows_dropped_by_any_rule"]
            - drops["pmsi_stays_quarantined_at_the_border"]
        )
        dispensed = count(
            "SELECT COUNT(*) AS n FROM drug_exposure WHERE drug_type_concept_id = 32810"
        )
        assert dispensed == drops["er_pha_f_groups_after_netting"]
        acts = count("SELECT COUNT(*) AS n FROM procedure_occurrence")
        assert acts == drops["er_cam_f_groups_after_netting"]
    finally:
        engine.close()
