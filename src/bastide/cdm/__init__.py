"""The OMOP CDM v5.4 model (`bastide.cdm.spec`) and the French vocabularies loaded into
it (`bastide.cdm.vocabulary`)."""

from bastide.cdm.spec import (
    FieldSpec,
    TableSpec,
    UnknownTable,
    all_tables,
    arrow_schema,
    conform,
    empty_table,
    table_spec,
)

__all__ = [
    "FieldSpec",
    "TableSpec",
    "UnknownTable",
    "all_tables",
    "arrow_schema",
    "conform",
    "empty_table",
    "table_spec",
]
