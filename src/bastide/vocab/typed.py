"""Text columns of a delivered table -> the OMOP v5.4 types, or the first bad line.

Columns follow the CDM specification (``bastide.cdm.spec``): required ones must be
present and filled; integers must be integers; dates may be Athena's ``YYYYMMDD`` or ISO
``YYYY-MM-DD`` (Eunomia's). Columns the specification does not list are ignored.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from bastide.cdm.spec import arrow_schema, table_spec
from bastide.vocab.errors import at_line
from bastide.vocab.files import LINE, RawTable

# The primary key of each vocabulary table: a delivery may not repeat one.
KEYS: dict[str, tuple[str, ...]] = {
    "concept": ("concept_id",),
    "vocabulary": ("vocabulary_id",),
    "domain": ("domain_id",),
    "concept_class": ("concept_class_id",),
    "relationship": ("relationship_id",),
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
    "concept_synonym": ("concept_id", "concept_synonym_name", "language_concept_id"),
    "drug_strength": ("drug_concept_id", "ingredient_concept_id"),
    "source_to_concept_map": (
        "source_code",
        "source_vocabulary_id",
        "target_concept_id",
        "valid_end_date",
    ),
}


def storage_schema(table: str) -> pa.Schema:
    """The OMOP schema of ``table`` with every field nullable, as the warehouse stores it."""
    return pa.schema([f.with_nullable(True) for f in arrow_schema(table)])


def _date(text: pl.Expr) -> pl.Expr:
    return pl.coalesce(
        text.str.strptime(pl.Date, "%Y%m%d", strict=False),
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    )


def _typed(column: str, arrow_type: pa.DataType) -> tuple[pl.Expr, str] | None:
    text = pl.col(column)
    if pa.types.is_integer(arrow_type):
        return text.cast(pl.Int64, strict=False), "is not an integer"
    if pa.types.is_date(arrow_type):
        return _date(text), "is not a date (YYYYMMDD or YYYY-MM-DD)"
    if pa.types.is_floating(arrow_type):
        return text.cast(pl.Float64, strict=False), "is not a number"
    return None


def typed_table(table: str, raw: RawTable) -> pl.DataFrame:
    """``raw`` with the columns and types of ``table`` (plus LINE); VocabularyError at the
    first missing column, empty required value, badly typed value or repeated key."""
    spec = table_spec(table)
    schema = storage_schema(table)
    frame = raw.frame
    missing = [f.name for f in spec.fields if f.required and f.name not in frame.columns]
    if missing:
        raise at_line(raw.file, 1, f"missing required column {missing[0]!r}")
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(f.name) for f in spec.fields if f.name not in frame.columns
    )
    for f in spec.fields:
        if f.required:
            _first_bad(raw.file, frame, pl.col(f.name).is_null(), f"{f.name} is empty")
    typed = []
    for field in schema:
        conversion = _typed(field.name, field.type)
        if conversion is None:
            typed.append(pl.col(field.name))
            continue
        expr, problem = conversion
        bad = pl.col(field.name).is_not_null() & expr.is_null()
        values = frame.filter(bad).select(LINE, field.name).head(1)
        if values.height:
            line, value = values.row(0)
            raise at_line(raw.file, line, f"{field.name} {value!r} {problem}")
        typed.append(expr.alias(field.name))
    result = frame.select(*typed, LINE)
    key = KEYS.get(table)
    if key:
        seen = result.with_columns(_seen=pl.int_range(pl.len()).over(list(key)))
        again = seen.filter(pl.col("_seen") > 0).head(1)
        if again.height:
            row = again.row(0, named=True)
            first = int(result.join(again.select(key), on=list(key)).get_column(LINE).min())  # type: ignore[arg-type]
            shown = ", ".join(f"{k} {row[k]!r}" for k in key)
            raise at_line(raw.file, row[LINE], f"duplicate {shown} (first on line {first})")
    return result


def _first_bad(file: str, frame: pl.DataFrame, bad: pl.Expr, problem: str) -> None:
    lines = frame.filter(bad).get_column(LINE).head(1)
    if lines.len():
        raise at_line(file, int(lines[0]), problem)
