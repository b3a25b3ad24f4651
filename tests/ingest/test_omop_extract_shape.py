"""A hospital OMOP extract shaped like GiBleed: CDM v5.3 columns, row ids repeated across
different rows, observation periods of persons PERSON lacks, 0 meaning "no id", and a
VOCABULARY table naming vocabularies bastide defines too."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest
from ingest_helpers import warehouse_query as _query

from bastide.hub import Hub
from bastide.ingest import IngestResult, ingest
from bastide.ingest import tables as t
from bastide.sources.errors import ExtractFilesError
from bastide.storage import Warehouse

PERSON = (
    "person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,birth_datetime,"
    "race_concept_id,ethnicity_concept_id,location_id,provider_id,care_site_id,"
    "person_source_value,gender_source_value,gender_source_concept_id,race_source_value,"
    "race_source_concept_id,ethnicity_source_value,ethnicity_source_concept_id"
)
OBSERVATION_PERIOD = (
    "observation_period_id,person_id,observation_period_start_date,"
    "observation_period_end_date,period_type_concept_id"
)
# v5.3 names: admitting_source_*, discharge_to_*, visit_detail_parent_id
VISIT_OCCURRENCE = (
    "visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_start_datetime,"
    "visit_end_date,visit_end_datetime,visit_type_concept_id,provider_id,care_site_id,"
    "visit_source_value,visit_source_concept_id,admitting_source_concept_id,"
    "admitting_source_value,discharge_to_concept_id,discharge_to_source_value,"
    "preceding_visit_occurrence_id"
)
VISIT_DETAIL = (
    "visit_detail_id,person_id,visit_detail_concept_id,visit_detail_start_date,"
    "visit_detail_start_datetime,visit_detail_end_date,visit_detail_end_datetime,"
    "visit_detail_type_concept_id,provider_id,care_site_id,visit_detail_source_value,"
    "visit_detail_source_concept_id,admitting_source_value,admitting_source_concept_id,"
    "discharge_to_source_value,discharge_to_concept_id,preceding_visit_detail_id,"
    "visit_detail_parent_id,visit_occurrence_id"
)
DRUG_EXPOSURE = (
    "drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,"
    "drug_exposure_start_datetime,drug_exposure_end_date,drug_exposure_end_datetime,"
    "verbatim_end_date,drug_type_concept_id,stop_reason,refills,quantity,days_supply,sig,"
    "route_concept_id,lot_number,provider_id,visit_occurrence_id,visit_detail_id,"
    "drug_source_value,drug_source_concept_id,route_source_value,dose_unit_source_value"
)
CONDITION_OCCURRENCE = (
    "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,"
    "condition_start_datetime,condition_end_date,condition_end_datetime,"
    "condition_type_concept_id,stop_reason,provider_id,visit_occurrence_id,visit_detail_id,"
    "condition_source_value,condition_source_concept_id,condition_status_source_value,"
    "condition_status_concept_id"
)
# v5.3: no cdm_version_concept_id (required in v5.4); metadata has no metadata_id
CDM_SOURCE = (
    "cdm_source_name,cdm_source_abbreviation,cdm_holder,source_description,"
    "source_documentation_reference,cdm_etl_reference,source_release_date,cdm_release_date,"
    "cdm_version,vocabulary_version"
)
METADATA = (
    "metadata_concept_id,metadata_type_concept_id,name,value_as_string,value_as_concept_id,"
    "metadata_date,metadata_datetime"
)
VOCABULARY = (
    "vocabulary_id,vocabulary_name,vocabulary_reference,vocabulary_version,vocabulary_concept_id"
)


def _write(directory: Path, name: str, header: str, rows: list[str]) -> None:
    (directory / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def write_gibleed_like(directory: Path) -> Path:
    directory.mkdir(parents=True)
    _write(directory, "person.csv", PERSON, [
        f"{i},8507,{1950 + i},1,1,,0,0,0,0,0,,M,0,,0,,0" for i in (1, 2, 3)
    ])  # fmt: skip
    _write(directory, "observation_period.csv", OBSERVATION_PERIOD, [
        "1,1,2000-01-01,2010-12-31,44814724",  # line 2
        "2,2,2000-01-01,2010-12-31,44814724",
        "3,3,2000-01-01,2010-12-31,44814724",
        "4,7,2000-01-01,2010-12-31,44814724",  # line 5: person 7 is not in PERSON
        "5,8,2000-01-01,2010-12-31,44814724",  # line 6: nor is person 8
    ])  # fmt: skip
    _write(directory, "visit_occurrence.csv", VISIT_OCCURRENCE, [
        "10,1,9201,2005-03-01,,2005-03-04,,44818517,0,0,v10,0,8870,ER,8536,home,0",
        "11,2,9202,2006-05-01,,2006-05-01,,44818517,0,0,v11,0,0,,0,,10",
    ])  # fmt: skip
    _write(directory, "visit_detail.csv", VISIT_DETAIL, [
        "100,1,9201,2005-03-01,,2005-03-02,,44818517,0,0,d100,0,ER,8870,,0,0,0,10",
        "101,1,9201,2005-03-02,,2005-03-04,,44818517,0,0,d101,0,,0,home,8536,100,100,10",
    ])  # fmt: skip
    _write(directory, "drug_exposure.csv", DRUG_EXPOSURE, [
        "500,1,1118084,2005-03-01,,2005-03-30,,,38000177,,0,30,30,,0,,0,10,0,celecoxib,0,,",
        # line 3: the same id on another person's row (GiBleed does this): loaded
        "500,2,1124300,2006-05-01,,2006-05-30,,,38000177,,0,30,30,,0,,0,11,0,diclofenac,0,,",
        "501,1,1118084,2005-04-01,,2005-04-30,,,38000177,,0,30,30,,0,,0,0,100,celecoxib,0,,",
        # line 5: an exact copy of line 4: quarantined
        "501,1,1118084,2005-04-01,,2005-04-30,,,38000177,,0,30,30,,0,,0,0,100,celecoxib,0,,",
        # line 6: a person the extract does not have
        "502,999999,1118084,2005-04-01,,2005-04-30,,,38000177,,0,30,30,,0,,0,0,0,celecoxib,0,,",
    ])  # fmt: skip
    _write(directory, "condition_occurrence.csv", CONDITION_OCCURRENCE, [
        "900,1,192671,2005-03-02,,,,32020,,0,10,0,K92.2,0,,0",
        "901,999999,192671,2005-03-02,,,,32020,,0,0,0,K92.2,0,,0",  # line 3: unknown person
    ])  # fmt: skip
    _write(directory, "cdm_source.csv", CDM_SOURCE, [
        "GiBleed,GiBleed,OHDSI,synthetic,,,2019-05-25,2019-05-25,v5.3.1,v5.0"
    ])  # fmt: skip
    _write(directory, "metadata.csv", METADATA, ["0,0,note,x,0,2019-05-25,"])
    _write(directory, "vocabulary.csv", VOCABULARY, [
        "ATC,WHO Anatomic Therapeutic Chemical Classification,,,44819117",
        "Gender,OMOP Gender,,,44819108",
        "Visit,OMOP Visit,,,44819119",
        "NUCC,National Uniform Claim Committee,,,44819137",
        "Obs Period Type,OMOP Observation Period Type,,,44819149",
        "Hospital local,A vocabulary only this hospital has,,,0",
    ])  # fmt: skip
    return directory


@dataclass
class Loaded:
    hub: Hub
    result: IngestResult
    extract: Path


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    root = tmp_path_factory.mktemp("gibleed")
    extract = write_gibleed_like(root / "gibleed")
    hub = Hub.init(root / "hub")
    return Loaded(hub, ingest(hub, extract, "omop", name="gibleed"), extract)


def _file(result: IngestResult, name: str):  # type: ignore[no-untyped-def]
    assert result.reconciliation is not None
    return next(f for f in result.reconciliation.files if f.source_file == name)


def test_a_repeated_id_on_a_different_row_is_loaded_and_reported(loaded: Loaded) -> None:
    drugs = _file(loaded.result, "drug_exposure.csv")
    assert drugs.rows_read == 5
    assert drugs.rows_loaded == 3
    assert dict(drugs.quarantined_by_reason) == {"duplicate_key": 1, "unknown_reference": 1}
    rows = _query(loaded.hub, "SELECT drug_exposure_id, drug_source_value FROM drug_exposure")
    assert len(rows) == 3 and len({r["drug_exposure_id"] for r in rows}) == 3
    assert sorted(r["drug_source_value"] for r in rows) == ["celecoxib", "celecoxib", "diclofenac"]
    copy = _query(
        loaded.hub,
        f"SELECT line_number, reason, detail FROM {t.QUARANTINE} "
        "WHERE source_file = 'drug_exposure.csv' AND reason = 'duplicate_key'",
    )
    assert [c["line_number"] for c in copy] == [5] and "exact copy" in copy[0]["detail"]
    # the finding: counted, with its file and line, in the result and in the snapshot
    assert [(f.source_file, f.finding, f.column, f.rows, f.first_lines)
            for f in loaded.result.findings] == [
        ("drug_exposure.csv", "repeated_id", "drug_exposure_id", 1, (3,))
    ]  # fmt: skip
    stored = _query(loaded.hub, f"SELECT source_file, line_number, finding FROM {t.FINDINGS}")
    assert stored == [
        {"source_file": "drug_exposure.csv", "line_number": 3, "finding": "repeated_id"}
    ]


def test_rekeyed_ids_of_repeated_rows_are_the_same_on_reingest(
    loaded: Loaded, tmp_path: Path
) -> None:
    other = Hub.init(tmp_path / "hub")
    ingest(other, loaded.extract, "omop", name="gibleed")
    sql = "SELECT drug_exposure_id FROM drug_exposure ORDER BY 1"
    assert _query(other, sql) == _query(loaded.hub, sql)


def test_cdm_v53_extract_is_detected_and_mapped(loaded: Loaded) -> None:
    version = loaded.result.cdm_version
    assert version is not None and version.version == "5.3"
    assert "visit_occurrence.csv: admitting_source_value -> admitted_from_source_value" in (
        version.renamed
    )
    # tables bastide does not import never stop the ingest; their rows are counted
    for name in ("cdm_source.csv", "metadata.csv"):
        assert _file(loaded.result, name).status == "loaded"
    excluded = {e.source_table.lower(): e.rows for e in loaded.result.exclusions}
    assert excluded["cdm_source"] == 1 and excluded["metadata"] == 1
    visits = _query(
        loaded.hub,
        """SELECT admitted_from_concept_id, admitted_from_source_value,
                  discharged_to_concept_id, discharged_to_source_value
           FROM visit_occurrence ORDER BY admitted_from_concept_id""",
    )
    assert visits == [
        {"admitted_from_concept_id": 0, "admitted_from_source_value": None,
         "discharged_to_concept_id": 0, "discharged_to_source_value": None},
        {"admitted_from_concept_id": 8870, "admitted_from_source_value": "ER",
         "discharged_to_concept_id": 8536, "discharged_to_source_value": "home"},
    ]  # fmt: skip
    details = _query(
        loaded.hub,
        "SELECT visit_detail_id, parent_visit_detail_id, discharged_to_source_value "
        "FROM visit_detail",
    )
    child = next(d for d in details if d["discharged_to_source_value"] == "home")
    parent = next(d for d in details if d is not child)
    assert child["parent_visit_detail_id"] == parent["visit_detail_id"]


def test_rows_of_persons_absent_from_person_are_quarantined(loaded: Loaded) -> None:
    periods = _file(loaded.result, "observation_period.csv")
    assert (periods.rows_read, periods.rows_loaded) == (5, 3)
    assert dict(periods.quarantined_by_reason) == {"unknown_reference": 2}
    assert _query(loaded.hub, "SELECT COUNT(*) AS n FROM observation_period")[0]["n"] == 3
    for table in ("observation_period", "drug_exposure", "condition_occurrence"):
        nulls = _query(loaded.hub, f"SELECT COUNT(*) AS n FROM {table} WHERE person_id IS NULL")
        assert nulls[0]["n"] == 0
    quarantined = _query(
        loaded.hub,
        f'SELECT source_file, line_number, "column" FROM {t.QUARANTINE} '
        "WHERE reason = 'unknown_reference' ORDER BY source_file, line_number",
    )
    assert [(q["source_file"], q["line_number"]) for q in quarantined] == [
        ("condition_occurrence.csv", 3),
        ("drug_exposure.csv", 6),
        ("observation_period.csv", 5),
        ("observation_period.csv", 6),
    ]
    assert {q["column"] for q in quarantined} == {"person_id"}
    assert _query(loaded.hub, "SELECT COUNT(*) AS n FROM condition_occurrence")[0]["n"] == 1


def test_a_zero_foreign_key_is_null(loaded: Loaded) -> None:
    drugs = _query(
        loaded.hub,
        "SELECT provider_id, visit_detail_id, visit_occurrence_id FROM drug_exposure",
    )
    assert {d["provider_id"] for d in drugs} == {None}
    assert sum(d["visit_detail_id"] is None for d in drugs) == 2  # two 0s, one 100
    assert sum(d["visit_occurrence_id"] is None for d in drugs) == 1
    persons = _query(loaded.hub, "SELECT location_id, provider_id, care_site_id FROM person")
    assert persons == [{"location_id": None, "provider_id": None, "care_site_id": None}] * 3
    visits = _query(loaded.hub, "SELECT preceding_visit_occurrence_id AS p FROM visit_occurrence")
    assert sorted(v["p"] is None for v in visits) == [False, True]
    pointing = _query(
        loaded.hub,
        """SELECT COUNT(*) AS n FROM drug_exposure d
           WHERE d.visit_detail_id IS NOT NULL
             AND d.visit_detail_id NOT IN (SELECT visit_detail_id FROM visit_detail)""",
    )
    assert pointing[0]["n"] == 0


def test_merged_vocabulary_table_keeps_its_primary_key(loaded: Loaded) -> None:
    repeated = _query(
        loaded.hub,
        "SELECT vocabulary_id, COUNT(*) AS n FROM vocabulary GROUP BY 1 HAVING COUNT(*) > 1",
    )
    assert repeated == []
    ids = {r["vocabulary_id"] for r in _query(loaded.hub, "SELECT vocabulary_id FROM vocabulary")}
    assert {"ATC", "Gender", "Visit", "NUCC", "Obs Period Type", "Hospital local"} <= ids


def test_every_unreadable_file_of_an_extract_is_reported_in_one_run(tmp_path: Path) -> None:
    extract = write_gibleed_like(tmp_path / "broken")
    for name, column in (("visit_occurrence.csv", "visit_concept_id"),
                         ("drug_exposure.csv", "drug_concept_id")):  # fmt: skip
        path = extract / name
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        kept = [c for c in rows[0] if c != column]
        with path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, kept, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    hub = Hub.init(tmp_path / "hub")
    with pytest.raises(ExtractFilesError) as caught:
        ingest(hub, extract, "omop", name="broken")
    message = str(caught.value)
    assert "visit_occurrence.csv: missing required column(s) visit_concept_id" in message
    assert "drug_exposure.csv: missing required column(s) drug_concept_id" in message
    assert Warehouse(hub).current() is None
