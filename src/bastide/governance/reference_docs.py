"""Table and variable documentation drawn from the public reference data: the OMOP CDM
v5.4 specification (field- and table-level CSV) and the SNDS schemas (schema-snds)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from bastide import reference
from bastide.cdm.spec import FIELD_LEVEL, TABLE_LEVEL
from bastide.sources import snds_schema

OMOP_ORIGIN = "omop-cdm-5.4"
SNDS_ORIGIN = "schema-snds"


@dataclass(frozen=True)
class VariableDoc:
    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    origin: str
    variables: tuple[VariableDoc, ...]


def _clean(text: str | None) -> str:
    text = (text or "").strip()
    return "" if text == "NA" else text


@cache
def omop_tables() -> dict[str, TableDoc]:
    """Every OMOP CDM v5.4 table with its fields, in specification order."""
    described = {
        r["cdmTableName"]: _clean(r["tableDescription"]) for r in reference.records(TABLE_LEVEL)
    }
    fields: dict[str, list[VariableDoc]] = {}
    for row in reference.records(FIELD_LEVEL):
        text = _clean(row["userGuidance"]) or _clean(row["etlConventions"])
        fields.setdefault(row["cdmTableName"], []).append(
            VariableDoc(row["cdmFieldName"], row["cdmDatatype"], row["isRequired"] == "Yes", text)
        )
    return {
        name: TableDoc(name, described.get(name, ""), OMOP_ORIGIN, tuple(variables))
        for name, variables in fields.items()
    }


def _snds_documents() -> dict[str, Any]:
    """Schema name -> Table Schema document, as the border declares them."""
    return {name: snds_schema.load_snds_table(name) for name in snds_schema.snds_table_names()}


@cache
def snds_tables() -> dict[str, TableDoc]:
    """Every SNDS table of schema-snds (names keep their year placeholders: T_MCOaaB)."""
    tables = {}
    for name, doc in _snds_documents().items():
        key = doc.get("primaryKey") or ()
        key = {key} if isinstance(key, str) else set(key)
        variables = []
        for field in doc.get("fields", []):
            length = str(field.get("length") or "")
            kind = str(field.get("type", "string"))
            variables.append(
                VariableDoc(
                    str(field["name"]),
                    f"{kind}({length})" if length and kind == "string" else kind,
                    field["name"] in key,
                    _clean(field.get("description")),
                )
            )
        tables[name] = TableDoc(name, _clean(doc.get("title")), SNDS_ORIGIN, tuple(variables))
    return tables


def table_doc(name: str) -> TableDoc | None:
    """The documentation of a table named as in the warehouse or in an SNDS extract."""
    omop = omop_tables().get(name.lower())
    if omop is not None:
        return omop
    snds = snds_tables()
    by_upper = {key.upper(): doc for key, doc in snds.items()}
    if name.upper() in by_upper:
        return by_upper[name.upper()]
    # yearly extract names (T_MCO19B) resolve to their template (T_MCOaaB)
    resolved = snds_schema.resolve_snds_table(name)
    return snds.get(resolved.schema) if resolved else None
