"""Declared schemas: schema-snds and the OMOP specification become `SourceSchema`s, with
year-suffixed PMSI names, identifier and code declarations and type corrections."""

from __future__ import annotations

import pyarrow as pa
import pytest

from bastide.sources import (
    IDENTIFIER_COLUMNS,
    LogicalType,
    SchemaError,
    SourceField,
    SourceSchema,
    omop_source_schema,
    omop_table_names,
    resolve_snds_table,
    snds_source_schema,
)
from bastide.sources.snds_schema import (
    UnknownSndsTable,
    load_snds_schema,
    schema_name,
    snds_table_names,
)


def test_er_prs_f_declares_keys_identifiers_and_types() -> None:
    s = snds_source_schema("ER_PRS_F")
    assert s.source == "snds" and s.template is None and s.year is None
    assert len(s.primary_key) == 9 and "DCT_ORD_NUM" in s.primary_key
    nir = s.field("BEN_NIR_PSA")
    assert (
        nir.identifier_domain == "person"
        and nir.required
        and nir.missing_reason == ("missing_identifier")
    )
    assert s.field("PFS_EXE_NUM").identifier_domain == "provider"
    assert not s.field("BEN_CDI_NIR").is_identifier  # a status code, not an identifier
    assert s.field("EXE_SOI_DTD").type is LogicalType.DATE
    assert s.field("EXE_SOI_AMD").type is LogicalType.YEARMONTH
    amount = s.field("BSE_REM_MNT")  # declared length "11,2": precision, not text length
    assert amount.type is LogicalType.NUMBER and amount.max_length is None
    assert s.field("BEN_CMU_TOP").maximum == 2
    assert s.missing_values == ("",)


@pytest.mark.parametrize(
    ("name", "template", "year"),
    [
        ("T_MCO19B", "T_MCOaaB", 2019),
        ("t_mco23d", "T_MCOaaD", 2023),
        ("T_SSR21CSTC", "T_SSRaaCSTC", 2021),
        ("T_HAD20B", "T_HADaaB", 2020),
        ("T_RIP18RSA", "T_RIPaaRSA", 2018),
        ("T_MCO19GV01", "T_MCOaaGVxx", 2019),
        ("CT_IDE_2019_GN", "CT_IDE_AAAA_GN", 2019),
        ("IR_BEN_R", "IR_BEN_R", None),
        ("IR_PHA_R", "IR_PHA_R", None),  # a nomenclature shipped in extracts
    ],
)
def test_year_suffixed_names_resolve_to_their_schema(
    name: str, template: str, year: int | None
) -> None:
    resolved = resolve_snds_table(name)
    assert resolved is not None
    assert (resolved.table, resolved.schema, resolved.year) == (name.upper(), template, year)
    schema = snds_source_schema(name)
    assert schema.name == name.upper() and schema.year == year
    assert schema.template == (template if template != name.upper() else None)
    assert schema_name(name) == template


def test_unknown_names_do_not_resolve() -> None:
    assert resolve_snds_table("T_MCO19NOPE") is None
    assert resolve_snds_table("PERSON") is None
    with pytest.raises(UnknownSndsTable):
        snds_source_schema("NOT_A_TABLE")


def test_pmsi_stay_keys_are_text_in_every_pmsi_table() -> None:
    # schema-snds declares them integer in B and C only: they would lose leading zeros
    for table in ("T_MCO19B", "T_MCO19C", "T_MCO19D", "T_MCO19UM"):
        s = snds_source_schema(table)
        assert s.field("ETA_NUM").type is LogicalType.STRING
        if s.has_field("RSA_NUM"):
            assert s.field("RSA_NUM").type is LogicalType.STRING


def test_code_columns_and_placeholders() -> None:
    assert snds_source_schema("T_MCO19B").field("DGN_PAL").code_system == "CIM-10"
    assert snds_source_schema("T_MCO19D").field("ASS_DGN").code_system == "CIM-10"
    assert snds_source_schema("ER_CAM_F").field("CAM_PRS_IDE").code_system == "CCAM"
    assert snds_source_schema("KI_CCI_R").field("DCD_CIM_COD").code_system == "CIM-10"
    cip = snds_source_schema("ER_PHA_F").field("PHA_PRS_C13")
    assert cip.code_system == "CIP13" and cip.code_placeholders == ("0",)
    nir17 = snds_source_schema("T_MCO19C").field("NIR_ANO_17")
    assert nir17.required and "XXXXXXXXXXXXXXXXX" in nir17.identifier_placeholders


def test_month_of_birth_is_a_month_and_death_cause_table_requires_its_id() -> None:
    assert snds_source_schema("IR_BEN_R").field("BEN_NAI_MOI").type is LogicalType.MONTH
    assert snds_source_schema("IR_BEN_R").field("BEN_NAI_ANN").type is LogicalType.YEAR
    assert snds_source_schema("KI_CCI_R").field("BEN_IDT_ANO").required
    assert not snds_source_schema("IR_BEN_R").field("BEN_IDT_ANO").required


def test_every_schema_snds_table_builds() -> None:
    names = snds_table_names()
    assert len(names) > 188  # 188 SNDS tables and the nomenclatures
    for name in names:
        schema = snds_source_schema(name)
        assert schema.fields and isinstance(schema.arrow_schema(), pa.Schema)


def test_the_generator_api_still_returns_raw_fields() -> None:
    fields = load_snds_schema("T_MCO19B")
    assert isinstance(fields, list) and {"name", "type"} <= set(fields[0])


def test_omop_person() -> None:
    s = omop_source_schema("PERSON")
    assert s.name == "person" and s.primary_key == ("person_id",)
    pid = s.field("person_id")
    assert pid.is_key and pid.required and pid.identifier_domain == "hospital_patient"
    assert s.field("person_source_value").identifier_domain == "person"
    assert s.field("person_source_value").max_length == 50
    assert s.field("birth_datetime").type is LogicalType.DATETIME
    assert s.field("year_of_birth").required
    assert s.arrow_schema().field("person_id").type == pa.string()  # a pseudonym
    assert s.arrow_schema().field("year_of_birth").type == pa.int64()
    assert "measurement" in omop_table_names()


def test_identifier_domains_are_pseudonymisation_domains() -> None:
    scheme = pytest.importorskip("bastide.pseudonym.scheme")
    known = {scheme.PERSON, scheme.HOSPITAL_PATIENT, scheme.STAY, scheme.PROVIDER}
    assert {d.domain for d in IDENTIFIER_COLUMNS} <= known


def test_schema_consistency_is_checked() -> None:
    a = SourceField("A", LogicalType.STRING)
    with pytest.raises(SchemaError, match="declared twice"):
        SourceSchema("T", "snds", (a, SourceField("a", LogicalType.INTEGER)))
    with pytest.raises(SchemaError, match="primary key"):
        SourceSchema("T", "snds", (a,), primary_key=("B",))
    with pytest.raises(SchemaError, match="unsupported date format"):
        SourceField("D", LogicalType.DATE, format="%Q")


def test_corrected_ranges() -> None:
    prs = snds_source_schema("ER_PRS_F")
    assert prs.field("PRS_ACT_QTE").minimum is None  # signed: cancellations
    assert prs.field("PRS_ACT_QTE").maximum == 1000
    assert snds_source_schema("T_MCO19B").field("AGE_ANN").minimum is None
    assert snds_source_schema("ER_PHA_F").field("PHA_ACT_QSN").minimum == -10
