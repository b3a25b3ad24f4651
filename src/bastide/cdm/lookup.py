"""Source code → concept id resolution as joins over Arrow tables (never a loop per code).

`code_map` gives the table an ETL joins its source codes to; `resolve_codes` does that join
for one column of codes. Codes are first brought to the form the vocabulary stores
(`normalise_codes`): CIM-10 without dots, upper case; CIP13 and UCD as 13 digits.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from bastide.cdm.concept_ids import NUMERIC_LENGTH, NUMERIC_VOCABULARIES

MAPS_TO = "Maps to"
CODE_MAP_SCHEMA = pa.schema(
    [
        pa.field("vocabulary_id", pa.string(), nullable=False),
        pa.field("concept_code", pa.string(), nullable=False),
        pa.field("source_concept_id", pa.int64(), nullable=False),
        pa.field("concept_id", pa.int64(), nullable=False),
    ]
)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def code_map(
    concept: pa.Table,
    concept_relationship: pa.Table | None = None,
    vocabulary_ids: list[str] | None = None,
) -> pa.Table:
    """(vocabulary_id, concept_code, source_concept_id, concept_id) for every concept.

    ``source_concept_id`` is the concept of the code itself; ``concept_id`` the target of its
    valid 'Maps to' relationship, or 0 when it has none (OMOP's "no matching concept"). A
    code with several 'Maps to' targets has one row per target.
    """
    concepts = _frame(concept.select(["concept_id", "vocabulary_id", "concept_code"]))
    if vocabulary_ids is not None:
        concepts = concepts.filter(pl.col("vocabulary_id").is_in(vocabulary_ids))
    concepts = concepts.rename({"concept_id": "source_concept_id"})
    if concept_relationship is None or concept_relationship.num_rows == 0:
        result = concepts.with_columns(concept_id=pl.lit(0, pl.Int64))
    else:
        maps = (
            _frame(
                concept_relationship.select(
                    ["concept_id_1", "concept_id_2", "relationship_id", "invalid_reason"]
                )
            )
            .filter(pl.col("relationship_id") == MAPS_TO, pl.col("invalid_reason").is_null())
            .select(
                pl.col("concept_id_1").alias("source_concept_id"),
                pl.col("concept_id_2").alias("concept_id"),
            )
        )
        result = concepts.join(maps, on="source_concept_id", how="left").with_columns(
            pl.col("concept_id").fill_null(0)
        )
    result = result.select(CODE_MAP_SCHEMA.names).sort(CODE_MAP_SCHEMA.names)
    return result.to_arrow().cast(CODE_MAP_SCHEMA)


def normalise_codes(vocabulary_id: str, codes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Source codes in the form the vocabulary stores: trimmed and upper case; CIM-10
    without dots or spaces ("E11.9" → "E119"); CIP13 and UCD (often integers in SNDS
    tables) left-padded with zeros to 13 digits."""
    series = pl.Series("code", codes).cast(pl.String).str.strip_chars().str.to_uppercase()
    if vocabulary_id == "CIM10":
        series = series.str.replace_all(r"[.\s]", "")
    elif vocabulary_id in NUMERIC_VOCABULARIES:
        series = series.str.replace(r"\.0$", "").str.zfill(NUMERIC_LENGTH)
    return series.to_arrow()


def resolve_codes(
    codes: pa.Array | pa.ChunkedArray, vocabulary_id: str, mapping: pa.Table
) -> pa.Table:
    """(source_concept_id, concept_id) for each code, in input order; 0 for a code the
    vocabulary does not hold (and for a null). ``mapping`` is a `code_map`; a code with
    several 'Maps to' targets resolves to the lowest target id."""
    lookup = (
        _frame(mapping)
        .filter(pl.col("vocabulary_id") == vocabulary_id)
        .group_by("concept_code")
        .agg(pl.col("source_concept_id").first(), pl.col("concept_id").min())
    )
    frame = pl.DataFrame({"concept_code": pl.Series(normalise_codes(vocabulary_id, codes))})
    resolved = frame.join(lookup, on="concept_code", how="left", maintain_order="left").select(
        pl.col("source_concept_id").fill_null(0), pl.col("concept_id").fill_null(0)
    )
    return resolved.to_arrow().cast(
        pa.schema(
            [
                pa.field("source_concept_id", pa.int64(), nullable=False),
                pa.field("concept_id", pa.int64(), nullable=False),
            ]
        )
    )
