"""The border: source files read against declared schemas, every row validated,
identifiers pseudonymised, rejected rows quarantined with reasons, files reconciled.

See docs/border.md. The public surface:

- schemas: `SourceSchema`, `SourceField`, `LogicalType`, `snds_source_schema`,
  `omop_source_schema`, `resolve_snds_table`
- files: `discover`, `describe_file`, `SourceFile`
- reading: `read_source` -> `SourceReader` of `BorderBatch`; `read_extract` ->
  `ExtractReader` of `SourceReader`; `known_codes` builds a `CodeChecker`
- outcome: `QUARANTINE_SCHEMA`, `REASONS`, `FileReconciliation`, `Reconciliation`
- errors: `SourceFileError`, `SchemaError`, `ReconciliationError`
"""

from bastide.sources.border import (
    BorderBatch,
    ExtractReader,
    SourceReader,
    read_extract,
    read_source,
)
from bastide.sources.codes import CodeChecker, known_codes
from bastide.sources.declarations import CODE_COLUMNS, IDENTIFIER_COLUMNS
from bastide.sources.discovery import SourceFile, describe_file, discover
from bastide.sources.duplicates import KeyTracker
from bastide.sources.errors import ReconciliationError, SchemaError, SourceFileError
from bastide.sources.omop_schema import omop_source_schema, omop_table_names
from bastide.sources.quarantine import QUARANTINE_SCHEMA, REASONS
from bastide.sources.reconciliation import (
    RECONCILIATION_SCHEMA,
    FileReconciliation,
    Reconciliation,
)
from bastide.sources.schema import ARROW_TYPES, LogicalType, SourceField, SourceSchema
from bastide.sources.snds_schema import resolve_snds_table, snds_source_schema
from bastide.sources.validation import Pseudonymise, Pseudonymisers

__all__ = [
    "ARROW_TYPES",
    "CODE_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "QUARANTINE_SCHEMA",
    "REASONS",
    "RECONCILIATION_SCHEMA",
    "BorderBatch",
    "CodeChecker",
    "ExtractReader",
    "FileReconciliation",
    "KeyTracker",
    "LogicalType",
    "Pseudonymise",
    "Pseudonymisers",
    "Reconciliation",
    "ReconciliationError",
    "SchemaError",
    "SourceField",
    "SourceFile",
    "SourceFileError",
    "SourceReader",
    "SourceSchema",
    "describe_file",
    "discover",
    "known_codes",
    "omop_source_schema",
    "omop_table_names",
    "read_extract",
    "read_source",
    "resolve_snds_table",
    "snds_source_schema",
]
