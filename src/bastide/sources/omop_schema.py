"""Declared schemas of OMOP CDM v5.4 tables, from the CDM specification.

The specification comes from ``bastide.cdm.spec``. OMOP files carry ISO dates
(``YYYY-MM-DD``) and ISO datetimes (``YYYY-MM-DD HH:MM:SS``, ``T`` separator accepted).
CDM v5.3 extracts are read through the same schemas: the columns v5.4 renamed are
declared with their v5.3 names as aliases (``V53_RENAMED``).
"""

from __future__ import annotations

import re
from functools import cache

from bastide.cdm.spec import UnknownTable, all_tables, table_spec
from bastide.errors import BastideError
from bastide.sources.declarations import code_column, identifier_column
from bastide.sources.errors import SchemaError
from bastide.sources.schema import LogicalType, SourceField, SourceSchema

_VARCHAR = re.compile(r"varchar\((\d+|max)\)", re.IGNORECASE)
_TYPES = {
    "integer": LogicalType.INTEGER,
    "bigint": LogicalType.INTEGER,
    "float": LogicalType.NUMBER,
    "date": LogicalType.DATE,
    "datetime": LogicalType.DATETIME,
}


# Columns CDM v5.4 renamed, per table: v5.3 name -> v5.4 name (OHDSI CDM v5.4 changes).
V53_RENAMED: dict[str, dict[str, str]] = {
    "visit_occurrence": {
        "admitting_source_concept_id": "admitted_from_concept_id",
        "admitting_source_value": "admitted_from_source_value",
        "discharge_to_concept_id": "discharged_to_concept_id",
        "discharge_to_source_value": "discharged_to_source_value",
    },
    "visit_detail": {
        "admitting_source_concept_id": "admitted_from_concept_id",
        "admitting_source_value": "admitted_from_source_value",
        "discharge_to_concept_id": "discharged_to_concept_id",
        "discharge_to_source_value": "discharged_to_source_value",
        "visit_detail_parent_id": "parent_visit_detail_id",
    },
}
# Columns CDM v5.4 added (absent from v5.3 files, null when read from them).
V54_ADDED: dict[str, tuple[str, ...]] = {
    "cdm_source": ("cdm_version_concept_id",),
    "metadata": ("metadata_id", "value_as_number"),
    "note": ("note_event_id", "note_event_field_concept_id"),
    "measurement": ("unit_source_concept_id", "measurement_event_id",
                    "meas_event_field_concept_id"),
    "observation": ("value_source_value", "observation_event_id", "obs_event_field_concept_id"),
    "procedure_occurrence": ("procedure_end_date", "procedure_end_datetime"),
    "device_exposure": ("production_id", "unit_concept_id", "unit_source_value",
                        "unit_source_concept_id"),
    "location": ("country_concept_id", "country_source_value", "latitude", "longitude"),
}  # fmt: skip
# Tables v5.4 added.
V54_TABLES = ("episode", "episode_event")

# Tables a hub rebuilds itself, or that link by untyped local ids: read only to be counted
# (every column optional text, no key), never imported, so that no shape of theirs (a
# v5.3 cdm_source without cdm_version_concept_id, a metadata without metadata_id) can
# stop an ingest.
NOT_IMPORTED = {
    "cohort": "derived by studies, not source data",
    "cohort_definition": "derived by studies, not source data",
    "cdm_source": "describes the source database; recorded in the ingest metadata",
    "metadata": "describes the source database; recorded in the ingest metadata",
    "fact_relationship": "links by local ids whose table is not typed in the spec",
    "episode_event": "links by local ids whose table is not typed in the spec",
    "cost": "links by local ids whose table is not typed in the spec",
}

# Tables whose primary key is a local row id the hub replaces by a warehouse id (and that
# other tables point to). A repeated id on a different row is loaded and reported; the
# person table is the exception: its id is the patient's, which every other row names.
REKEYED_TABLES = (
    "person",
    "visit_occurrence",
    "visit_detail",
    "provider",
    "care_site",
    "location",
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "device_exposure",
    "measurement",
    "observation",
    "observation_period",
    "note",
    "specimen",
    "payer_plan_period",
    "episode",
    "condition_era",
    "drug_era",
    "dose_era",
)


class UnknownOmopTable(BastideError):
    """A name that is not an OMOP CDM v5.4 table."""


def omop_table_names() -> tuple[str, ...]:
    """Every OMOP CDM v5.4 table name, lower case, in specification order."""
    return tuple(t.name for t in all_tables())


def _logical(table: str, column: str, datatype: str) -> tuple[LogicalType, int | None]:
    datatype = datatype.strip().lower()
    if datatype in _TYPES:
        return _TYPES[datatype], None
    match = _VARCHAR.fullmatch(datatype)
    if match:
        size = match.group(1)
        return LogicalType.STRING, None if size.lower() == "max" else int(size)
    raise SchemaError(f"{table}.{column}: unknown OMOP datatype {datatype!r}")


@cache
def omop_source_schema(table_name: str) -> SourceSchema:
    """The declared schema of an OMOP table (case-insensitive name)."""
    try:
        spec = table_spec(table_name)
    except UnknownTable:
        raise UnknownOmopTable(f"{table_name!r} is not an OMOP CDM v5.4 table") from None
    counted_only = spec.name in NOT_IMPORTED
    v53_names: dict[str, list[str]] = {}
    for old, new in V53_RENAMED.get(spec.name, {}).items():
        v53_names.setdefault(new, []).append(old)
    fields = []
    for f in spec.fields:
        kind, max_length = _logical(spec.name, f.name, f.datatype)
        ident = identifier_column("omop", spec.name, f.name)
        code = code_column("omop", spec.name, f.name)
        if counted_only:
            fields.append(
                SourceField(
                    name=f.name,
                    type=LogicalType.STRING,
                    identifier_domain=ident.domain if ident else None,
                    identifier_placeholders=ident.placeholders if ident else (),
                    aliases=tuple(v53_names.get(f.name, ())),
                )
            )
            continue
        fields.append(
            SourceField(
                name=f.name,
                type=kind,
                max_length=max_length,
                required=f.required or f.is_pk or bool(ident and ident.required),
                is_key=f.is_pk,
                identifier_domain=ident.domain if ident else None,
                identifier_placeholders=ident.placeholders if ident else (),
                code_system=code.system if code else None,
                code_placeholders=code.placeholders if code else (),
                aliases=tuple(v53_names.get(f.name, ())),
            )
        )
    return SourceSchema(
        name=spec.name,
        source="omop",
        fields=tuple(fields),
        primary_key=() if counted_only else spec.primary_key,
        repeated_keys="report"
        if spec.name in REKEYED_TABLES and spec.name != "person"
        else "quarantine",
    )
