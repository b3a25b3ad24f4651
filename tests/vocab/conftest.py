"""A hub with an operator and a researcher, and a writer of small Athena-like downloads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bastide.governance import Governance, Identity
from bastide.hub import Hub
from bastide.reference import shared_data_dir

EUNOMIA = shared_data_dir() / "eunomia-synthea27nj"
HEADERS = {
    "CONCEPT": "concept_id concept_name domain_id vocabulary_id concept_class_id "
    "standard_concept concept_code valid_start_date valid_end_date invalid_reason",
    "CONCEPT_RELATIONSHIP": "concept_id_1 concept_id_2 relationship_id valid_start_date "
    "valid_end_date invalid_reason",
    "CONCEPT_ANCESTOR": "ancestor_concept_id descendant_concept_id min_levels_of_separation "
    "max_levels_of_separation",
    "VOCABULARY": "vocabulary_id vocabulary_name vocabulary_reference vocabulary_version "
    "vocabulary_concept_id",
}
# A CIM-10 code mapped to SNOMED, and SNOMED's parent of that condition.
CONCEPTS = [
    "45000001\tType 2 diabetes without complications\tCondition\tCIM10\tICD10 code\t\tE11.9\t19700101\t20991231\t",
    "201826\tType 2 diabetes mellitus\tCondition\tSNOMED\tClinical Finding\tS\t44054006\t19700101\t20991231\t",
    "201820\tDiabetes mellitus\tCondition\tSNOMED\tClinical Finding\tS\t73211009\t19700101\t20991231\t",
    '8507\tMALE "M"\tGender\tGender\tGender\tS\tM\t19700101\t20991231\t',
]
RELATIONSHIPS = [
    "45000001\t201826\tMaps to\t20200101\t20991231\t",
    "201826\t45000001\tMapped from\t20200101\t20991231\t",
    "201826\t201820\tIs a\t19700101\t20991231\t",
    "201820\t201826\tSubsumes\t19700101\t20991231\t",
]
VOCABULARIES = [
    "None\tOMOP Standardized Vocabularies\tOMOP generated\tv5.0 TEST-RELEASE\t44819096",
    "SNOMED\tSystematic Nomenclature of Medicine\tSNOMED International\t2024-03-01 SNOMED\t44819097",
    "CIM10\tInternational Classification of Diseases, French edition\tATIH\tCIM10 2024\t0",
]


def write_download(
    directory: Path,
    concepts: list[str] | None = None,
    relationships: list[str] | None = None,
    vocabularies: list[str] | None = None,
    *,
    names: str = "upper",
) -> Path:
    """A tab-separated Athena-like download (empty CONCEPT_ANCESTOR: it is derived)."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = {
        "CONCEPT": CONCEPTS if concepts is None else concepts,
        "CONCEPT_RELATIONSHIP": RELATIONSHIPS if relationships is None else relationships,
        "CONCEPT_ANCESTOR": [],
        "VOCABULARY": VOCABULARIES if vocabularies is None else vocabularies,
    }
    for table, lines in rows.items():
        name = table if names == "upper" else table.lower()
        header = "\t".join(HEADERS[table].split())
        (directory / f"{name}.csv").write_text("\n".join([header, *lines]) + "\n", "utf-8")
    return directory


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub.init(tmp_path / "hub")


@pytest.fixture
def gov(hub: Hub) -> Iterator[Governance]:
    with Governance(hub) as service:
        yield service


@pytest.fixture
def olga(gov: Governance) -> Identity:
    return gov.add_user(None, "olga", ["operator"], "olga-password-123")


@pytest.fixture
def rita(gov: Governance, olga: Identity) -> Identity:
    return gov.add_user(olga, "rita", ["researcher"], "rita-password-123")
