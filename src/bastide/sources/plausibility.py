"""Plausible dates: care dates and birth years outside what can be true are ``out_of_range``.

A value can be a valid date and still be impossible: care on 2999-01-01 (after the extract
was delivered), in 1899 (before anyone now in care was born), a birth in 2999. The rules,
applied to the typed values of a batch, column by column:

- every date of a care table (DCIR, PMSI, death causes, beneficiaries, OMOP clinical
  tables) is on or after ``earliest_date`` (1900-01-01; SNDS's 1600-01-01, "no date", is
  left alone) and, unless it is an OMOP end date
  (a drug's supply may run past the delivery), on or before ``extract_date`` (the day the
  extract is read, unless declared);
- a year of birth (``BEN_NAI_ANN``, OMOP ``year_of_birth``, ``birth_datetime``) is within
  ``birth_years`` (1890 to the extract's year);
- in a row that carries its year of birth, no date is before that year.

Nomenclature tables (``IR_PHA_R``…) are not checked: their validity dates are not care.
These rules are separate from the ordering rules of the PMSI (exit before entry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from bastide.sources.schema import LogicalType, SourceSchema

BIRTH_COLUMNS = frozenset({"BEN_NAI_ANN", "YEAR_OF_BIRTH", "BIRTH_DATETIME"})
_SNDS_CARE_PREFIXES = ("ER_", "T_", "KI_", "IR_BEN_R", "IR_IMB_R", "IR_BEN_")
_OMOP_NOT_CARE = frozenset(
    {"cdm_source", "metadata", "concept", "vocabulary", "domain", "concept_class",
     "concept_relationship", "relationship", "concept_synonym", "concept_ancestor",
     "source_to_concept_map", "drug_strength", "cohort_definition", "location", "care_site",
     "provider"}
)  # fmt: skip


@dataclass(frozen=True)
class DateBounds:
    """What a plausible date is; ``extract_date`` defaults to the day it is read."""

    earliest_date: dt.date = dt.date(1900, 1, 1)
    extract_date: dt.date = field(default_factory=dt.date.today)
    earliest_birth_year: int = 1890
    # dates that mean "none" and are not checked: SNDS writes 1600-01-01 for the living
    placeholders: tuple[dt.date, ...] = (dt.date(1600, 1, 1),)

    @property
    def birth_years(self) -> tuple[int, int]:
        return self.earliest_birth_year, self.extract_date.year


def is_care_table(schema: SourceSchema) -> bool:
    if schema.source == "omop":
        return schema.name.lower() not in _OMOP_NOT_CARE
    return schema.name.upper().startswith(_SNDS_CARE_PREFIXES)


def _is_end_date(schema: SourceSchema, name: str) -> bool:
    lower = name.lower()
    return schema.source == "omop" and ("_end_date" in lower or lower.startswith("valid_end"))


def _year(values: pa.Array) -> pa.Array:
    if pa.types.is_integer(values.type):
        return pc.cast(values, pa.int64())
    return pc.cast(pc.year(values), pa.int64())


def _mask(condition: pa.Array) -> pa.Array | None:
    filled = pc.fill_null(condition, False)
    return filled if pc.any(filled).as_py() else None


def implausible(
    schema: SourceSchema, typed: list[pa.Array], bounds: DateBounds
) -> Iterator[tuple[int, pa.Array, pa.Array]]:
    """(column index, mask of implausible values, why each is) for each column with some."""
    if not is_care_table(schema):
        return
    temporal = (LogicalType.YEAR, LogicalType.INTEGER, LogicalType.DATE, LogicalType.DATETIME)
    birth = None
    for index, f in enumerate(schema.fields):
        if f.name.upper() in BIRTH_COLUMNS and f.type in (LogicalType.YEAR, LogicalType.INTEGER):
            birth = _year(typed[index])
    low_year, high_year = bounds.birth_years
    low = bounds.earliest_date.isoformat()
    for index, f in enumerate(schema.fields):
        values = typed[index]
        if f.name.upper() in BIRTH_COLUMNS:
            if f.type not in temporal:
                continue
            year = _year(values)
            outside = _mask(pc.or_(pc.less(year, low_year), pc.greater(year, high_year)))
            if outside is not None:
                why = f"is not a plausible year of birth [{low_year}, {high_year}]"
                yield index, outside, pa.repeat(pa.scalar(why), len(values))
            continue
        if f.type not in (LogicalType.DATE, LogicalType.DATETIME):
            continue
        day = pc.cast(values, pa.date32()) if f.type is LogicalType.DATETIME else values
        if bounds.placeholders:
            marks = pa.array(bounds.placeholders, pa.date32())
            day = pc.if_else(pc.is_in(day, value_set=marks), pa.scalar(None, pa.date32()), day)
        early = pc.less(day, pa.scalar(bounds.earliest_date, pa.date32()))
        if _is_end_date(schema, f.name):
            outside = pc.fill_null(early, False)
            high = "…"
        else:
            late = pc.greater(day, pa.scalar(bounds.extract_date, pa.date32()))
            outside = pc.fill_null(pc.or_(early, late), False)
            high = bounds.extract_date.isoformat()
        before_birth = pa.repeat(False, len(day))
        if birth is not None:
            before_birth = pc.fill_null(pc.less(_year(day), birth), False)
        bad = _mask(pc.or_(outside, before_birth))
        if bad is not None:
            why = pc.if_else(
                outside,
                pa.scalar(f"is outside the plausible dates [{low}, {high}]"),
                pa.scalar("is before the year of birth in the same row"),
            )
            yield index, bad, why
