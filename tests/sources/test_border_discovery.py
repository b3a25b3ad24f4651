"""Discovery maps files to declared tables by name and lists every other file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastide.sources import describe_file, discover


def touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("A\n")


def test_snds_files_map_by_name_format_and_compression(tmp_path: Path) -> None:
    for name in (
        "ER_PRS_F.csv",
        "t_mco19b.CSV.GZ",
        "IR_BEN_R.parquet",
        "KI_CCI_R.txt",
        "part/ER_PHA_F.csv",
        "NOTES.csv",
        "README",
        "ER_CAM_F.xlsx",
    ):
        touch(tmp_path / name)
    files = {f.relpath: f for f in discover(tmp_path, "snds")}
    assert list(files) == sorted(files)
    prs = files["ER_PRS_F.csv"]
    assert (prs.table, prs.format, prs.compression, prs.recognised) == (
        "ER_PRS_F",
        "csv",
        None,
        True,
    )
    mco = files["t_mco19b.CSV.GZ"]
    assert (mco.table, mco.compression, mco.schema and mco.schema.year) == (
        "T_MCO19B",
        "gzip",
        2019,
    )
    assert files["IR_BEN_R.parquet"].format == "parquet"
    assert files["KI_CCI_R.txt"].table == "KI_CCI_R"
    assert files["part/ER_PHA_F.csv"].group == "part"
    # never silently ignored: listed, with the reason
    assert files["NOTES.csv"].problem == "no declared SNDS table named NOTES"
    assert files["README"].problem == files["ER_CAM_F.xlsx"].problem == "unsupported file type"
    assert not any(files[n].recognised for n in ("NOTES.csv", "README", "ER_CAM_F.xlsx"))


def test_omop_hospital_directories(tmp_path: Path) -> None:
    touch(tmp_path / "750100042" / "PERSON.csv")
    touch(tmp_path / "750100042" / "visit_occurrence.csv.gz")
    touch(tmp_path / "130780521" / "PERSON.csv")
    touch(tmp_path / "130780521" / "IR_BEN_R.csv")  # not an OMOP table
    files = {f.relpath: f for f in discover(tmp_path, "omop")}
    assert files["750100042/PERSON.csv"].table == "person"
    assert files["750100042/PERSON.csv"].group == "750100042"
    assert files["750100042/visit_occurrence.csv.gz"].table == "visit_occurrence"
    assert not files["130780521/IR_BEN_R.csv"].recognised


def test_single_files_and_bad_arguments(tmp_path: Path) -> None:
    touch(tmp_path / "DEATH.csv")
    f = describe_file(tmp_path / "DEATH.csv", "omop")
    assert f.relpath == "DEATH.csv" and f.table == "death"
    with pytest.raises(ValueError, match="unknown source"):
        describe_file(tmp_path / "DEATH.csv", "fhir")
    with pytest.raises(FileNotFoundError):
        discover(tmp_path / "missing", "snds")
