"""The main job end to end on a synthetic extract whose truth is known."""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from ingest_helpers import Ingested
from ingest_helpers import warehouse_query as _query

from bastide.hub import Hub
from bastide.ingest import IngestError, ingest
from bastide.ingest import tables as t
from bastide.sources import SourceFileError
from bastide.storage import Warehouse
from shared_data import shared_data_path


def _truth(extract: Path) -> list[dict[str, str]]:
    with (extract / "ground_truth" / "persons.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_row_is_loaded_or_quarantined_and_reconciled(ingested: Ingested) -> None:
    for result in ingested.results:
        rec = result.reconciliation
        assert rec is not None and rec.ok
        for f in rec.files:
            assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_excluded
    stored = _query(
        ingested.hub,
        f"SELECT SUM(rows_read) AS r, SUM(rows_loaded) AS l, SUM(rows_excluded) AS x "
        f"FROM {t.RECONCILIATION}",
    )[0]
    read = sum(r.reconciliation.rows_read for r in ingested.results if r.reconciliation)
    assert stored["r"] == read
    quarantined = _query(ingested.hub, f"SELECT COUNT(*) AS n FROM {t.QUARANTINE}")[0]["n"]
    excluded = _query(ingested.hub, f"SELECT COUNT(*) AS n FROM {t.EXCLUDED_ROWS}")[0]["n"]
    assert stored["x"] == excluded > 0
    assert stored["l"] + quarantined + excluded == read


def test_one_person_per_national_beneficiary(ingested: Ingested) -> None:
    truth = _truth(ingested.extract)
    national = [p for p in truth if p["kind"] == "national"]
    foreigners = [p for p in truth if p["kind"] != "national"]
    new = sum(r.linkage_methods.get("new", 0) for r in ingested.results)
    persons = _query(
        ingested.hub, "SELECT COUNT(*) AS n, COUNT(DISTINCT person_id) AS d FROM person"
    )
    assert persons[0]["n"] == persons[0]["d"], "person_id must be unique across sources"
    # national persons, plus hospital patients the hub could not link (foreigners at least)
    assert persons[0]["n"] == len(national) + new
    assert new >= len(foreigners)


def test_deaths_match_the_truth(ingested: Ingested) -> None:
    dead = [p for p in _truth(ingested.extract) if p["kind"] == "national" and p["death_date"]]
    rows = _query(ingested.hub, "SELECT COUNT(DISTINCT person_id) AS n FROM death")
    assert rows[0]["n"] == len(dead)


def test_dispensings_are_netted_and_coded(ingested: Ingested) -> None:
    rows = _query(
        ingested.hub,
        """SELECT MIN(quantity) AS q, COUNT(*) FILTER (WHERE drug_source_concept_id = 0) AS uncoded,
                  COUNT(*) FILTER (WHERE length(drug_source_value) <> 13) AS bad_code
           FROM drug_exposure WHERE drug_type_concept_id = 32810""",
    )[0]
    assert rows["q"] > 0
    assert rows["uncoded"] == 0 and rows["bad_code"] == 0


def test_planted_outcome_is_present_with_cim10_source_concepts(ingested: Ingested) -> None:
    rows = _query(
        ingested.hub,
        """SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE condition_source_concept_id = 0) AS uncoded
           FROM condition_occurrence WHERE condition_source_value = 'K922'""",
    )[0]
    assert rows["n"] > 0 and rows["uncoded"] == 0


def test_every_event_lies_in_an_observation_period(ingested: Ingested) -> None:
    rows = _query(
        ingested.hub,
        """SELECT COUNT(*) AS n FROM visit_occurrence AS v
           WHERE v.visit_type_concept_id = 32810 AND NOT EXISTS (
               SELECT 1 FROM observation_period AS o WHERE o.person_id = v.person_id
               AND v.visit_start_date BETWEEN o.observation_period_start_date
                                          AND o.observation_period_end_date)""",
    )
    assert rows[0]["n"] == 0


def test_linkage_is_measured_against_the_truth(ingested: Ingested) -> None:
    hospitals = [r for r in ingested.results if r.source == "omop"]
    assert hospitals
    for r in hospitals:
        q = r.linkage_quality
        assert q is not None and q.patients > 0
        assert q.precision >= 0.99
        assert q.recall >= 0.9
        assert sum(r.linkage_methods.values()) == q.patients


def test_reingesting_unchanged_files_is_a_no_op(ingested: Ingested) -> None:
    warehouse = Warehouse(ingested.hub)
    before = warehouse.current_version()
    again = ingest(ingested.hub, ingested.extract / "snds", "snds")
    assert again.unchanged and again.version is None
    assert warehouse.current_version() == before


def test_same_data_in_other_formats_gives_the_same_warehouse(
    ingested: Ingested, tmp_path: Path
) -> None:
    """latin-1 + gzip CSV is the same extract as UTF-8 CSV: same OMOP rows."""
    src = ingested.extract / "snds"
    other = tmp_path / "snds"
    other.mkdir()
    for f in src.iterdir():
        text = f.read_text(encoding="utf-8")
        with gzip.open(other / (f.name + ".gz"), "wb") as g:
            g.write(text.encode("latin-1", errors="strict"))
    hub = Hub.init(tmp_path / "hub")
    # the same hub secret, so that the same people get the same pseudonyms
    shutil.copytree(ingested.hub.root / "keys", hub.root / "keys", dirs_exist_ok=True)
    hub = Hub(hub.root)
    ingest(hub, other, "snds", encoding="latin-1")

    def digest(h: Hub, table: str) -> pa.Table:
        snap = Warehouse(h).current()
        assert snap is not None
        data = snap.dataset(table, partitions=["snds"]).to_table()
        return data.sort_by([(c, "ascending") for c in data.column_names])

    for table in ("person", "visit_occurrence", "drug_exposure", "condition_occurrence"):
        assert digest(hub, table).equals(digest(ingested.hub, table)), table


def test_an_unparseable_file_rejects_the_run_and_keeps_the_previous_snapshot(
    ingested: Ingested, tmp_path: Path
) -> None:
    broken = tmp_path / "snds"
    shutil.copytree(ingested.extract / "snds", broken)
    prs = broken / "ER_PRS_F.csv"
    lines = prs.read_text(encoding="utf-8").splitlines()
    lines[41] = lines[41].rsplit(";", 3)[0]  # a row with missing fields
    prs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    hub = Hub.init(tmp_path / "hub")
    with pytest.raises(SourceFileError, match=r"ER_PRS_F\.csv line 42"):
        ingest(hub, broken, "snds")
    assert Warehouse(hub).current() is None
    leftovers = [p for p in hub.paths.tmp.rglob("*") if p.is_file() or p.name.startswith("ingest-")]
    assert not leftovers, "staging must be removed"


def test_bad_requests_get_clear_errors(tmp_path: Path) -> None:
    hub = Hub.init(tmp_path / "hub")
    with pytest.raises(IngestError, match="no such directory"):
        ingest(hub, tmp_path / "nope", "snds")
    with pytest.raises(IngestError, match="unknown source type"):
        ingest(hub, tmp_path, "csv")


def test_eunomia_hospital_database_loads(tmp_path: Path) -> None:
    hub = Hub.init(tmp_path / "hub")
    result = ingest(hub, shared_data_path("eunomia-synthea27nj"), "omop", name="eunomia")
    assert result.rows["person"] == 28
    assert result.rows["measurement"] == 10_040
    assert result.linkage_methods == {"new": 28}
    assert result.cdm_version is not None and result.cdm_version.version == "5.4"
    ids = _query(hub, "SELECT COUNT(DISTINCT visit_occurrence_id) AS n FROM visit_occurrence")
    assert ids[0]["n"] == 1791
    orphans = _query(
        hub,
        """SELECT COUNT(*) AS n FROM condition_occurrence
           WHERE visit_occurrence_id IS NOT NULL
             AND visit_occurrence_id NOT IN (SELECT visit_occurrence_id FROM visit_occurrence)""",
    )
    assert orphans[0]["n"] == 0


def test_every_ingest_is_audited_and_catalogued(ingested: Ingested) -> None:
    from bastide.audit import AuditLog

    log = AuditLog(ingested.hub)
    assert log.verify().ok
    ingests = [e for e in log.entries(1000, newest_first=False) if e.action == "ingest"]
    assert {e.object for e in ingests} >= {f"partition:{r.partition}" for r in ingested.results}
    national = next(e for e in ingests if e.object == "partition:snds" and e.outcome == "succeeded")
    assert national.details_dict["rows_read"] == ingested.results[0].reconciliation.rows_read
    catalogued = [e for e in log.entries(1000) if e.action == "record_snapshot"]
    assert len(catalogued) >= len(ingested.results)
