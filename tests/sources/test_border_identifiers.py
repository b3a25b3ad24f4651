"""No raw identifier leaves the reader: not in valid rows, quarantine records, details,
reconciliation or error messages."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from border_helpers import fake_pseudonymise, pseudonym, read_all, write

from bastide.sources import (
    Reconciliation,
    SchemaError,
    SourceFileError,
    read_extract,
    read_source,
)

KEYS = "FLX_DIS_DTD;FLX_TRT_DTD;FLX_EMT_TYP;FLX_EMT_NUM;FLX_EMT_ORD;ORG_CLE_NUM;DCT_ORD_NUM;"
KEYS += "PRS_ORD_NUM;REM_TYP_AFF"
HEADER = KEYS + ";BEN_NIR_PSA;BEN_RNG_GEM;PFS_EXE_NUM;EXE_SOI_DTD;PRS_NAT_REF"


def nir(i: int) -> str:
    return f"RAWNIR{i:011d}"  # 17 characters


def prs_row(
    i: int, *, key: int | None = None, nir_value: str | None = None, day: str = "2020-01-02"
) -> str:
    keys = f"2020-01-01;2020-01-01;1;1;1;01C731222;{key if key is not None else i};1;1"
    return f"{keys};{nir_value or nir(i)};1;RAWPFS{i:03d};{day};1111"


def scan(table: pa.Table, raw_values: list[str]) -> list[str]:
    """Raw values found anywhere in the table's content."""
    text = repr(table.to_pylist())
    return [v for v in raw_values if v in text]


def test_no_raw_identifier_in_any_output(tmp_path: Path) -> None:
    rows = [prs_row(i) for i in range(1, 6)]
    rows += [
        prs_row(6, day="2020-02-30"),  # bad date
        prs_row(7, nir_value="RAWNIRTOOLONG0000007"),  # identifier too long
        prs_row(8, nir_value="RAWNIR8"),  # too short
        prs_row(9, key=1),  # duplicate key
        prs_row(10, nir_value=" "),  # missing identifier
    ]
    path = write(tmp_path, "ER_PRS_F.csv", HEADER + "\n" + "\n".join(rows) + "\n")
    out = read_all(path)
    assert out.reconciliation.rows_loaded == 5
    assert set(out.quarantine.column("reason").to_pylist()) == {
        "bad_date",
        "type_error",
        "duplicate_key",
        "missing_identifier",
    }
    raw = [nir(i) for i in range(1, 11)] + ["RAWNIRTOOLONG0000007", "RAWNIR8"]
    raw += [f"RAWPFS{i:03d}" for i in range(1, 11)]
    assert scan(out.valid, raw) == []
    assert scan(out.quarantine, raw) == []
    assert scan(Reconciliation.of([out.reconciliation]).to_arrow(), raw) == []
    assert "RAW" not in str(out.reconciliation)
    # but the pseudonyms are there, so that rows stay traceable and linkable
    assert out.valid.column("BEN_NIR_PSA").to_pylist() == [pseudonym(nir(i)) for i in range(1, 6)]
    assert pseudonym("RAWNIR8") in "".join(out.quarantine.column("row_json").to_pylist())


def test_error_messages_never_quote_rows(tmp_path: Path) -> None:
    path = write(tmp_path, "ER_PRS_F.csv", f"{HEADER}\n{prs_row(1)}\n{prs_row(2)};extra\n")
    with pytest.raises(SourceFileError) as err:
        list(read_source(path, pseudonymise=fake_pseudonymise))
    assert str(err.value) == "ER_PRS_F.csv line 3: expected 14 fields, found 15"
    assert err.value.__cause__ is None and err.value.__context__ is None  # Arrow's quotes rows
    assert "RAW" not in str(err.value)


def test_omop_patient_numbers_are_pseudonymised(tmp_path: Path) -> None:
    header = "person_id,gender_concept_id,year_of_birth,race_concept_id,ethnicity_concept_id,"
    header += "person_source_value"
    text = f"{header}\n90001,8507,1980,0,0,CHAIN90001\n90002,8532,1981,0,0,\n"
    hospital = tmp_path / "750100042"
    hospital.mkdir()
    write(hospital, "PERSON.csv", text)
    write(hospital, "VISIT_OCCURRENCE.csv",
          "visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date,"
          "visit_type_concept_id,visit_source_value\n1,90001,9201,2020-01-01,2020-01-03,"
          "32810,NDA555\n")  # fmt: skip
    calls: dict[str, int] = {}

    def by_domain(domain: str):  # type: ignore[no-untyped-def]
        def apply(values: pa.Array) -> pa.Array:
            calls[domain] = calls.get(domain, 0) + 1
            return fake_pseudonymise(pc.binary_join_element_wise(domain, values, ":"))

        return apply

    domains = {d: by_domain(d) for d in ("person", "hospital_patient", "stay", "provider")}
    extract = read_extract(tmp_path, "omop", pseudonymise=domains)
    tables = {r.file.table: pa.Table.from_batches([b.valid for b in r]) for r in extract}
    person, visit = tables["person"], tables["visit_occurrence"]
    assert person.column("person_id").to_pylist()[0] == pseudonym("hospital_patient:90001")
    assert person.column("person_source_value").to_pylist() == [
        pseudonym("person:CHAIN90001"),
        None,
    ]
    # the same patient number gives the same pseudonym in every table: joins still work
    assert visit.column("person_id")[0] == person.column("person_id")[0]
    assert visit.column("visit_source_value")[0].as_py() == pseudonym("stay:NDA555")
    assert scan(person, ["90001", "90002", "CHAIN90001"]) == []
    assert "provider" not in calls


def test_a_missing_domain_pseudonymiser_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "ER_PRS_F.csv", f"{HEADER}\n{prs_row(1)}\n")
    with pytest.raises(SchemaError, match="no pseudonymiser for domain 'provider'"):
        list(read_source(path, pseudonymise={"person": fake_pseudonymise}))


def test_pmsi_placeholders_are_kept_not_pseudonymised(tmp_path: Path) -> None:
    text = (
        "ETA_NUM;RSA_NUM;NIR_ANO_17\n010780054;1;xxxxxxxxxxxxxxxxx\n010780054;2;RAWNIR00000000002\n"
    )
    out = read_all(write(tmp_path, "T_MCO19C.csv", text))
    assert out.valid.column("NIR_ANO_17").to_pylist() == [
        "XXXXXXXXXXXXXXXXX",
        pseudonym("RAWNIR00000000002"),
    ]
    assert out.valid.column("ETA_NUM").to_pylist() == ["010780054"] * 2  # leading zero kept


def test_with_the_hub_pseudonymiser(tmp_path: Path) -> None:
    pseudonym_module = pytest.importorskip("bastide.pseudonym")
    p = pseudonym_module.Pseudonymiser(bytes(range(32)), "person")
    path = write(tmp_path, "ER_PRS_F.csv", f"{HEADER}\n{prs_row(1)}\n{prs_row(2)}\n")
    out = read_all(path, pseudonymise=p.pseudonymise)
    ids = out.valid.column("BEN_NIR_PSA").to_pylist()
    assert ids == [p.pseudonym(nir(1)), p.pseudonym(nir(2))]
    assert all(len(v) == 32 for v in ids)
