"""A cohort by an OMOP standard concept and its descendants, on Eunomia's OMOP extract
ingested as a hospital's and its vocabulary shard imported: the same persons as counted
from the CSV files directly (the ancestry closed over 'Is a' in SQL, apart from bastide)."""

from __future__ import annotations

import duckdb
import pytest
from athena_fixture import eunomia

from bastide.cohorts import CohortDefinition, Concept, ConceptSet, Entry, Events
from bastide.cohorts.build import build_cohort
from bastide.engines import open_engine
from bastide.governance import Governance, Identity
from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.storage import Snapshot, Warehouse
from bastide.vocab.service import import_vocabulary

SINUSITIS = 4283893  # SNOMED 'Sinusitis': Eunomia's conditions hold three concepts below it
HYPERLIPIDEMIA = 432867


def _persons_from_csv(ancestor: int) -> tuple[int, int]:
    """(persons with a condition at or below ``ancestor``, persons with ``ancestor`` itself)."""
    db = duckdb.connect()
    for name in ("CONCEPT", "CONCEPT_RELATIONSHIP", "CONDITION_OCCURRENCE"):
        db.sql(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv(?, header = true)",
            params=[str(eunomia() / f"{name}.csv")],
        )
    below = db.sql(
        """
        WITH RECURSIVE hierarchical AS (
            SELECT concept_id FROM CONCEPT WHERE standard_concept IN ('S', 'C')
        ), is_a AS (
            SELECT concept_id_1 AS child, concept_id_2 AS parent FROM CONCEPT_RELATIONSHIP
            WHERE relationship_id = 'Is a' AND invalid_reason IS NULL
              AND concept_id_1 IN (SELECT concept_id FROM hierarchical)
              AND concept_id_2 IN (SELECT concept_id FROM hierarchical)
        ), below(concept_id) AS (
            SELECT CAST(? AS BIGINT)
            UNION SELECT is_a.child FROM is_a JOIN below ON is_a.parent = below.concept_id
        )
        SELECT count(DISTINCT person_id) FILTER (WHERE condition_concept_id IN
                   (SELECT concept_id FROM below)),
               count(DISTINCT person_id) FILTER (WHERE condition_concept_id = ?)
        FROM CONDITION_OCCURRENCE
        """,
        params=[ancestor, ancestor],
    ).fetchone()
    assert below is not None
    return below[0], below[1]


@pytest.fixture
def warehouse(hub: Hub, gov: Governance, olga: Identity) -> Snapshot:
    ingest(hub, eunomia(), "omop")  # the extract first: the import then takes over its vocabulary
    import_vocabulary(gov, olga, eunomia(), subset=True)
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    return snapshot


def _cohort_persons(snapshot: Snapshot, concept: Concept) -> int:
    definition = CohortDefinition(
        name="by_standard_concept",
        concept_sets=(ConceptSet("wanted", (concept,)),),
        entry=Entry((Events("condition_occurrence", "wanted"),)),
    )
    engine = open_engine()
    try:
        snapshot.register(engine)
        return build_cohort(engine, definition).persons
    finally:
        engine.close()


@pytest.mark.parametrize("ancestor", [SINUSITIS, HYPERLIPIDEMIA])
def test_cohort_with_descendants_matches_the_csv_files(warehouse: Snapshot, ancestor: int) -> None:
    with_descendants, itself = _persons_from_csv(ancestor)
    assert with_descendants > itself  # the descendants matter for these concepts
    assert _cohort_persons(warehouse, Concept(concept_id=ancestor)) == with_descendants
    alone = _cohort_persons(warehouse, Concept(concept_id=ancestor, descendants=False))
    assert alone == itself


def _assert_unique_keys(snapshot: Snapshot) -> None:
    db = duckdb.connect()
    for table, key in (
        ("concept", "concept_id"),
        ("vocabulary", "vocabulary_id"),
        ("concept_relationship", "concept_id_1, concept_id_2, relationship_id"),
        ("concept_ancestor", "ancestor_concept_id, descendant_concept_id"),
    ):
        db.register("t", snapshot.dataset(table).to_table())
        repeated = db.sql(f"SELECT {key} FROM t GROUP BY ALL HAVING count(*) > 1").fetchall()
        assert repeated == [], table
        db.unregister("t")


def test_one_row_per_vocabulary_key_after_the_import(warehouse: Snapshot) -> None:
    _assert_unique_keys(warehouse)
    partitions = {p.name for p in warehouse.partitions("concept")}
    hospital = warehouse.dataset("concept", partitions=["hospital-eunomia-synthea27nj"])
    assert "hospital-eunomia-synthea27nj" in partitions and hospital.count_rows() == 0


def test_an_extract_ingested_after_the_import_adds_no_vocabulary_key_twice(
    hub: Hub, gov: Governance, olga: Identity
) -> None:
    import_vocabulary(gov, olga, eunomia(), subset=True)
    ingest(hub, eunomia(), "omop")
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    _assert_unique_keys(snapshot)
    hospital = "hospital-eunomia-synthea27nj"
    # its CONCEPT rows are all imported already; its relationships to concepts the shard
    # does not ship are new keys, and stay with the hospital
    assert snapshot.dataset("concept", partitions=[hospital]).count_rows() == 0
    assert snapshot.dataset("concept_relationship", partitions=[hospital]).count_rows() > 0
    assert (
        _cohort_persons(snapshot, Concept(concept_id=SINUSITIS)) == _persons_from_csv(SINUSITIS)[0]
    )
