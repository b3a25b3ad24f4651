"""Importing Eunomia's vocabulary shard: what is stored, what status says, what is audited."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pytest
from athena_fixture import eunomia

from bastide.governance import Governance, Identity
from bastide.governance.errors import PermissionDenied
from bastide.hub import Hub
from bastide.storage import Warehouse
from bastide.vocab import VocabularyError
from bastide.vocab.merge import ATHENA_PARTITION
from bastide.vocab.service import import_vocabulary, vocabulary_status_for


def _csv(name: str) -> str:
    return f"read_csv('{eunomia() / name}', all_varchar = true, header = true)"


def _counts_from_csv() -> dict[str, object]:
    """What the shard holds, computed from its CSV files alone."""
    db = duckdb.connect()
    concept, relationship = _csv("CONCEPT.csv"), _csv("CONCEPT_RELATIONSHIP.csv")
    by_vocabulary = dict(
        db.sql(f"SELECT vocabulary_id, count(*) FROM {concept} GROUP BY 1").fetchall()
    )
    total = db.sql(f"SELECT count(*) FROM {relationship}").fetchone()
    ids = f"(SELECT concept_id FROM {concept})"
    kept = db.sql(
        f"SELECT count(*) FROM {relationship} r "
        f"WHERE r.concept_id_1 IN {ids} AND r.concept_id_2 IN {ids}"
    ).fetchone()
    assert total is not None and kept is not None
    return {"by_vocabulary": by_vocabulary, "relationships": total[0], "kept": kept[0]}


def test_eunomia_shard_is_imported_and_status_matches_its_files(
    hub: Hub, gov: Governance, olga: Identity
) -> None:
    expected = _counts_from_csv()
    result = import_vocabulary(gov, olga, eunomia(), subset=True)
    assert result.version == 1 and not result.unchanged

    status = vocabulary_status_for(gov, olga)
    imported = {
        line.vocabulary_id: line.concepts
        for line in status.lines
        if line.partition == ATHENA_PARTITION
    }
    assert imported == expected["by_vocabulary"]
    assert status.imported_in == 1 and status.release == "v5.0 09-APR-22*"
    assert status.read["concept_relationship"] == expected["relationships"]
    assert status.rows["concept_relationship"] == expected["kept"]
    assert status.dropped["concept_relationship"] == expected["relationships"] - expected["kept"]
    assert status.ancestor_derived  # Eunomia's CONCEPT_ANCESTOR is empty
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    ancestor = snapshot.dataset("concept_ancestor", partitions=[ATHENA_PARTITION]).to_table()
    own = ancestor.filter(
        pc.equal(ancestor["ancestor_concept_id"], ancestor["descendant_concept_id"])
    )
    assert set(own["min_levels_of_separation"].to_pylist()) == {0}
    hierarchical = duckdb.sql(
        f"SELECT count(*) FROM {_csv('CONCEPT.csv')} WHERE standard_concept IN ('S', 'C')"
    ).fetchone()
    assert hierarchical is not None and own.num_rows == hierarchical[0]
    assert ancestor.num_rows > own.num_rows  # and the 'Is a' paths


def test_reimporting_the_same_files_publishes_nothing(
    hub: Hub, gov: Governance, olga: Identity
) -> None:
    first = import_vocabulary(gov, olga, eunomia(), subset=True)
    again = import_vocabulary(gov, olga, eunomia(), subset=True)
    assert again.unchanged and again.version is None
    assert [s.version for s in Warehouse(hub).snapshots()] == [first.version]
    outcomes = [
        (e.action, e.outcome, e.details_dict.get("snapshot"))
        for e in gov.audit.entries(None, newest_first=False)
        if e.action == "import_vocabulary"
    ]
    assert outcomes == [
        ("import_vocabulary", "allowed", None),
        ("import_vocabulary", "succeeded", "1"),
        ("import_vocabulary", "allowed", None),
        ("import_vocabulary", "succeeded", None),
    ]


def test_a_shard_without_subset_is_refused_and_nothing_published(
    hub: Hub, gov: Governance, olga: Identity
) -> None:
    with pytest.raises(VocabularyError, match=r"CONCEPT_RELATIONSHIP\.csv line \d+: concept_id_1"):
        import_vocabulary(gov, olga, eunomia())
    assert Warehouse(hub).current() is None
    last = gov.audit.entries(1)[0]
    assert (last.action, last.outcome) == ("import_vocabulary", "failed")
    assert last.details_dict["error"] == "VocabularyError"


def test_only_operators_import(gov: Governance, rita: Identity, hub: Hub) -> None:
    with pytest.raises(PermissionDenied):
        import_vocabulary(gov, rita, eunomia(), subset=True)
    assert Warehouse(hub).current() is None
    last = gov.audit.entries(1)[0]
    assert (last.actor, last.action, last.outcome) == ("rita", "import_vocabulary", "denied")


def test_imported_tables_are_encrypted_on_disk(hub: Hub, gov: Governance, olga: Identity) -> None:
    import_vocabulary(gov, olga, eunomia(), subset=True)
    files = list((hub.paths.warehouse / "data" / "concept" / ATHENA_PARTITION).glob("*.parquet"))
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"Prediabetes" not in data and b"SNOMED" not in data


def test_lower_case_file_names_are_found(tmp_path: Path, gov: Governance, olga: Identity) -> None:
    from athena_fixture import write_download

    download = write_download(tmp_path / "athena", names="lower")
    result = import_vocabulary(gov, olga, download)
    assert result.rows["concept"] == 3  # E11.9 is bastide's own CIM10 concept
