"""Small Athena-like downloads written by tests, and Eunomia's vocabulary shard."""

from __future__ import annotations

from pathlib import Path

from shared_data import shared_data_path


def eunomia() -> Path:
    """Eunomia's OMOP extract and vocabulary shard, from the test reference data."""
    return shared_data_path("eunomia-synthea27nj")


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
ALWAYS = ("19700101", "20991231", "")
CONCEPTS = [
    "\t".join(row)
    for row in (
        ("45000001", "Type 2 diabetes", "Condition", "CIM10", "ICD10 code", "", "E11.9", *ALWAYS),
        ("201826", "Type 2 diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S",
         "44054006", *ALWAYS),
        ("201820", "Diabetes mellitus", "Condition", "SNOMED", "Clinical Finding", "S",
         "73211009", *ALWAYS),
        ("8507", 'MALE "M"', "Gender", "Gender", "Gender", "S", "M", *ALWAYS),
    )
]  # fmt: skip
RELATIONSHIPS = [
    "45000001\t201826\tMaps to\t20200101\t20991231\t",
    "201826\t45000001\tMapped from\t20200101\t20991231\t",
    "201826\t201820\tIs a\t19700101\t20991231\t",
    "201820\t201826\tSubsumes\t19700101\t20991231\t",
]
VOCABULARIES = [
    "\t".join(row)
    for row in (
        ("None", "OMOP Standardized Vocabularies", "OMOP generated", "v5.0 TEST", "44819096"),
        ("SNOMED", "SNOMED CT", "SNOMED International", "2024-03-01 SNOMED", "44819097"),
        ("CIM10", "CIM-10 (ATIH)", "ATIH", "CIM10 2024", "0"),
    )
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
