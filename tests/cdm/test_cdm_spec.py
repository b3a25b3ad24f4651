"""The OMOP CDM v5.4 specification as loaded from the OHDSI files."""

from __future__ import annotations

import csv
from datetime import date

import pyarrow as pa
import pytest

from bastide.cdm.spec import (
    UnknownTable,
    all_tables,
    arrow_schema,
    arrow_type,
    conform,
    empty_table,
    table_spec,
)
from shared_data import shared_data_path


def test_every_table_and_field_of_the_specification_is_loaded() -> None:
    path = shared_data_path("omop-spec", "OMOP_CDMv5.4_Field_Level.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    tables = all_tables()
    assert len(tables) == 39
    assert sum(len(t.fields) for t in tables) == len(rows) == 432
    # Fields keep the specification order.
    person_rows = [r["cdmFieldName"] for r in rows if r["cdmTableName"] == "person"]
    assert table_spec("person").field_names == tuple(person_rows)


def test_keys_and_references() -> None:
    person = table_spec("PERSON")  # any case
    assert person.primary_key == ("person_id",)
    gender = person.field("gender_concept_id")
    assert gender.required and gender.is_concept_fk and gender.fk_domain == "Gender"
    condition = table_spec("condition_occurrence")
    assert condition.field("person_id").fk_table == "person"
    assert condition.field("visit_occurrence_id").fk_field == "visit_occurrence_id"
    assert table_spec("death").primary_key == ()
    assert table_spec("observation_period").person_completeness_threshold == 0.0
    assert table_spec("person").person_completeness_threshold is None
    assert table_spec("procedure_occurrence").field("procedure_type_concept_id").fk_domains == (
        "Type Concept",
    )
    # The specification quotes this SQL keyword; the field is still called offset.
    assert table_spec("note_nlp").has_field("offset")


@pytest.mark.parametrize(
    ("datatype", "expected"),
    [
        ("integer", pa.int64()),
        ("Integer", pa.int64()),
        ("bigint", pa.int64()),
        ("float", pa.float64()),
        ("date", pa.date32()),
        ("datetime", pa.timestamp("us")),
        ("varchar(50)", pa.string()),
        ("varchar(MAX)", pa.string()),
    ],
)
def test_arrow_types(datatype: str, expected: pa.DataType) -> None:
    assert arrow_type(datatype) == expected


def test_every_specified_datatype_has_an_arrow_type() -> None:
    for table in all_tables():
        schema = arrow_schema(table)
        assert schema.names == list(table.field_names)
        for f in table.fields:
            assert schema.field(f.name).nullable is not f.required


def test_arrow_schema_and_empty_table() -> None:
    schema = arrow_schema("visit_occurrence")
    assert schema.field("visit_start_date").type == pa.date32()
    assert schema.field("visit_start_datetime").type == pa.timestamp("us")
    assert schema.field("visit_source_value").type == pa.string()
    assert not schema.field("visit_occurrence_id").nullable
    empty = empty_table("measurement")
    assert empty.num_rows == 0 and empty.schema == arrow_schema("measurement")
    assert table_spec("person").field("person_source_value").max_length == 50


def test_unknown_table() -> None:
    with pytest.raises(UnknownTable, match="not an OMOP"):
        table_spec("patients")


def test_conform_orders_casts_and_fills() -> None:
    data = pa.table(
        {
            "YEAR_OF_BIRTH": pa.array([1980], pa.int32()),
            "person_id": [1],
            "gender_concept_id": [8532],
            "race_concept_id": [0],
            "ethnicity_concept_id": [0],
        }
    )
    table = conform(data, "person")
    assert table.schema == arrow_schema("person")
    assert table.column("year_of_birth").to_pylist() == [1980]
    assert table.column("location_id").null_count == 1


def test_conform_refuses_what_it_cannot_fix() -> None:
    with pytest.raises(ValueError, match=r"missing required columns \['person_id'"):
        conform(pa.table({"gender_concept_id": [1]}), "person")
    with pytest.raises(ValueError, match="unknown columns"):
        conform(pa.table({"death_date": [date(2020, 1, 1)], "person_id": [1], "x": [1]}), "death")
    with_null = pa.table(
        {
            "person_id": [None, 2],
            "death_date": [date(2020, 1, 1)] * 2,
            "death_type_concept_id": [0, 0],
        }
    )
    with pytest.raises(ValueError, match="nulls in required columns"):
        conform(with_null, "death")
    relaxed = conform(with_null, "death", strict=False)
    assert relaxed.column("person_id").null_count == 1
