"""Identifiers re-keyed for one project, so that two projects' extracts cannot be joined.

Every identifier that leaves the warehouse for a project is replaced by a keyed pseudonym
under a secret of that project alone::

    K_p        = HMAC-SHA256(project data key, "bastide/project-rekey/v1")
    record id  = 63-bit id of HMAC-SHA256(K_p,record, decimal text of the warehouse id)
    text       = 32 hex chars of HMAC-SHA256(K_p,text, pseudonym as stored)

(``K_p,D`` is ``K_p`` separated by domain, as in ``bastide.pseudonym``.) The project data
key is the one that encrypts the extract (scope ``project:<name>``, wrapped by the master
key): without it the mapping cannot be recomputed, and once it is destroyed the mapping
is gone with the data.

What is re-keyed (``plan``):

- every integer column named ``*_id`` that is not a concept id (``person_id``,
  ``visit_occurrence_id``, ``condition_occurrence_id``, ``provider_id``,
  ``preceding_visit_occurrence_id``, ``measurement_event_id``...). One function for all
  of them, so every join inside the extract still holds, including the polymorphic
  ``*_event_id`` references;
- text columns that hold pseudonyms or source identifiers (``person_source_value``,
  ``provider_source_value``, ``specimen_source_id``, device identifiers...), whole;
- in any other text column, every value shaped like a bastide pseudonym (32 lower-case
  hex characters, e.g. a hospital stay number in ``visit_source_value``); codes such as
  ``DCIR:1111`` or CIM-10 codes are kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from bastide.pseudonym import Pseudonymiser

SCHEME = b"bastide/project-rekey/v1"
RECORD_DOMAIN = "project_record"
TEXT_DOMAIN = "project_text"
# Text columns that hold identifiers whatever their values look like.
IDENTIFIER_TEXT = frozenset(
    {
        "person_source_value",
        "provider_source_value",
        "npi",
        "dea",
        "specimen_source_id",
        "unique_device_id",
        "production_id",
    }
)
PSEUDONYM_SHAPE = r"^[0-9a-f]{32}$"


def is_record_id(name: str, type_: pa.DataType) -> bool:
    return pa.types.is_integer(type_) and name.endswith("_id") and "concept" not in name


def is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


@dataclass(frozen=True)
class ColumnPlan:
    record_ids: tuple[str, ...]
    identifier_text: tuple[str, ...]
    shaped_text: tuple[str, ...]


def plan(schema: pa.Schema) -> ColumnPlan:
    """Which columns of ``schema`` are re-keyed, and how."""
    ids: list[str] = []
    text: list[str] = []
    shaped: list[str] = []
    for field in schema:
        if is_record_id(field.name, field.type):
            ids.append(field.name)
        elif is_text(field.type):
            (text if field.name in IDENTIFIER_TEXT else shaped).append(field.name)
    return ColumnPlan(tuple(ids), tuple(text), tuple(shaped))


def project_secret(data_key: bytes) -> bytes:
    """The re-keying secret of a project, derived from its data key."""
    return hmac.new(data_key, SCHEME, hashlib.sha256).digest()


class Rekeyer:
    """Applies one project's re-keying to Arrow batches."""

    def __init__(self, data_key: bytes) -> None:
        secret = project_secret(data_key)
        self._records = Pseudonymiser(secret, RECORD_DOMAIN)
        self._text = Pseudonymiser(secret, TEXT_DOMAIN)

    def __repr__(self) -> str:  # never shows key material
        return "Rekeyer()"

    def record_ids(self, values: pa.Array) -> pa.Array:
        """63-bit non-negative ids (null stays null)."""
        out = self._records.person_id(pc.cast(values, pa.string()))
        return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out

    def text(self, values: pa.Array) -> pa.Array:
        out = self._text.pseudonymise(pc.cast(values, pa.string()))
        return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out

    def batch(self, batch: pa.RecordBatch, columns: ColumnPlan) -> pa.RecordBatch:
        arrays = []
        for field, values in zip(batch.schema, batch.columns, strict=True):
            name = field.name
            if name in columns.record_ids:
                values = self.record_ids(values).cast(field.type)
            elif name in columns.identifier_text:
                values = self.text(values).cast(field.type)
            elif name in columns.shaped_text and len(values):
                shaped = pc.fill_null(pc.match_substring_regex(values, PSEUDONYM_SHAPE), False)
                if pc.any(shaped).as_py():
                    values = pc.if_else(shaped, self.text(values).cast(field.type), values)
            arrays.append(values)
        return pa.RecordBatch.from_arrays(arrays, schema=batch.schema)
