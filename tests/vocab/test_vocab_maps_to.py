"""French codes reach standard concepts through an imported 'Maps to' (CIM-10 -> SNOMED).

The import attaches Athena's CIM10 'Maps to' to bastide's own CIM-10 concept; an ingest
after it writes the SNOMED concept in condition_concept_id and keeps the French concept in
condition_source_concept_id. The vocabulary tables hold each key once.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from athena_fixture import write_download

from bastide.cdm.concept_ids import concept_id
from bastide.cohorts import CohortDefinition, Concept, ConceptSet, Entry, Events
from bastide.cohorts.build import build_cohort
from bastide.engines import open_engine
from bastide.governance import Governance, Identity
from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.storage import Snapshot, Warehouse
from bastide.vocab.merge import ATHENA_PARTITION
from bastide.vocab.service import import_vocabulary, vocabulary_status_for

TYPE_2 = 201826  # SNOMED 'Type 2 diabetes mellitus', the target of CIM10 E11.9
DIABETES = 201820  # SNOMED 'Diabetes mellitus', its parent
E119 = concept_id("CIM10", "E119")
E780 = concept_id("CIM10", "E780")  # a CIM-10 code the download does not map


def _hospital(directory: Path) -> Path:
    directory.mkdir(parents=True)
    files = {
        "PERSON.csv": [
            "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id",
            "1,8507,1950,0,0",
            "2,8532,1962,0,0",
            "3,8532,1971,0,0",
        ],
        "CONDITION_OCCURRENCE.csv": [
            "condition_occurrence_id,person_id,condition_concept_id,condition_start_date,"
            "condition_type_concept_id,condition_source_value",
            "11,1,0,2021-03-02,32817,E11.9",
            "12,2,0,2021-05-07,32817,E78.0",
            "13,3,0,2022-01-11,32817,e119",
        ],
        "OBSERVATION_PERIOD.csv": [
            "observation_period_id,person_id,observation_period_start_date,"
            "observation_period_end_date,period_type_concept_id",
            "1,1,2020-01-01,2023-12-31,32817",
            "2,2,2020-01-01,2023-12-31,32817",
            "3,3,2020-01-01,2023-12-31,32817",
        ],
        "DEATH.csv": ["person_id,death_date,death_type_concept_id"],
    }
    for name, lines in files.items():
        (directory / name).write_text("\n".join(lines) + "\n", "utf-8")
    return directory


def _conditions(snapshot: Snapshot) -> dict[str, tuple[int, int]]:
    rows = snapshot.dataset("condition_occurrence").to_table(
        columns=["condition_source_value", "condition_concept_id", "condition_source_concept_id"]
    )
    return {
        r["condition_source_value"]: (r["condition_concept_id"], r["condition_source_concept_id"])
        for r in rows.to_pylist()
    }


def _unique(snapshot: Snapshot, table: str, key: str) -> None:
    data = snapshot.dataset(table).to_table(columns=key.split(","))
    db = duckdb.connect()
    db.register("t", data)
    repeated = db.sql(f"SELECT {key}, count(*) FROM t GROUP BY ALL HAVING count(*) > 1").fetchall()
    assert repeated == [], f"{table}: repeated {key}"


@pytest.fixture
def mapped(tmp_path: Path, hub: Hub, gov: Governance, olga: Identity) -> Snapshot:
    import_vocabulary(gov, olga, write_download(tmp_path / "athena"))
    result = ingest(hub, _hospital(tmp_path / "750100125"), "omop")
    assert result.version is not None
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    return snapshot


def test_cim10_codes_map_to_the_standard_concept(mapped: Snapshot) -> None:
    assert _conditions(mapped) == {
        "E11.9": (TYPE_2, E119),
        "e119": (TYPE_2, E119),
        "E78.0": (0, E780),  # no 'Maps to' in the download: OMOP's "no matching concept"
    }


def test_the_imported_cim10_concept_is_bastides_own(mapped: Snapshot) -> None:
    concept = mapped.dataset("concept").to_table()
    e119 = concept.filter(pa.compute.equal(concept["concept_code"], "E119"))
    assert e119["concept_id"].to_pylist() == [E119]  # Athena's 45000001 was not stored
    maps = mapped.dataset("concept_relationship", partitions=[ATHENA_PARTITION]).to_table()
    pairs = {(r["concept_id_1"], r["relationship_id"], r["concept_id_2"]) for r in maps.to_pylist()}
    assert (E119, "Maps to", TYPE_2) in pairs and (TYPE_2, "Mapped from", E119) in pairs
    for table, key in (
        ("concept", "concept_id"),
        ("vocabulary", "vocabulary_id"),
        ("concept_relationship", "concept_id_1,concept_id_2,relationship_id"),
        ("concept_ancestor", "ancestor_concept_id,descendant_concept_id"),
    ):
        _unique(mapped, table, key)
    vocabulary = mapped.dataset("vocabulary").to_table().to_pylist()
    cim10 = [v for v in vocabulary if v["vocabulary_id"] == "CIM10"]
    assert len(cim10) == 1 and cim10[0]["vocabulary_version"] != "CIM10 2024"  # bastide's row


def test_a_cohort_by_the_snomed_parent_finds_the_mapped_conditions(mapped: Snapshot) -> None:
    definition = CohortDefinition(
        name="diabetes",
        concept_sets=(ConceptSet("diabetes", (Concept(concept_id=DIABETES),)),),
        entry=Entry((Events("condition_occurrence", "diabetes"),)),
    )
    engine = open_engine()
    try:
        mapped.register(engine)
        cohort = build_cohort(engine, definition)
    finally:
        engine.close()
    assert cohort.persons == 2  # persons 1 and 3 (E11.9), not person 2 (E78.0)


def test_status_counts_the_reused_french_concept(
    mapped: Snapshot, gov: Governance, olga: Identity
) -> None:
    status = vocabulary_status_for(gov, olga)
    assert status.french_concepts_reused == 1
    assert status.ancestor_derived
    imported = {
        (v.vocabulary_id, v.concepts) for v in status.lines if v.partition == ATHENA_PARTITION
    }
    assert imported == {("SNOMED", 2), ("Gender", 1)}


def test_an_ingest_before_the_import_is_redone_after_it(
    tmp_path: Path, hub: Hub, gov: Governance, olga: Identity
) -> None:
    """Mapping happens at ingest: re-running the same ingest after an import is not
    skipped, and maps the codes."""
    hospital = _hospital(tmp_path / "750100125")
    ingest(hub, hospital, "omop")
    before = Warehouse(hub).current()
    assert before is not None and _conditions(before)["E11.9"] == (0, E119)
    import_vocabulary(gov, olga, write_download(tmp_path / "athena"))
    again = ingest(hub, hospital, "omop")
    assert not again.unchanged
    after = Warehouse(hub).current()
    assert after is not None and _conditions(after)["E11.9"] == (TYPE_2, E119)
    _unique(after, "concept", "concept_id")
    _unique(after, "vocabulary", "vocabulary_id")
