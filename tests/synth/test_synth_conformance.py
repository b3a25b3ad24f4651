"""Every generated table follows its declared layout: schema-snds for the national
extract, the OMOP CDM v5.4 specification for hospital extracts, and the file layout the
ingestion is coded against. Rows of planted defects are set aside (read_clean): they are
checked in test_synth_defects.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth_checks import check_omop, check_snds, defect_lines, read_clean, read_strings

from bastide.synth.generator import SNDS_TABLES
from bastide.synth.hospitals import TABLES as OMOP_TABLES


def test_layout_is_the_contract(synth_dir: Path) -> None:
    assert sorted(p.name for p in (synth_dir / "snds").iterdir()) == sorted(
        f"{t}.csv" for t in SNDS_TABLES
    )
    hospitals = sorted((synth_dir / "hospitals").iterdir())
    assert len(hospitals) == 4
    for h in hospitals:
        assert len(h.name) == 9 and h.name.isdigit()
        assert sorted(p.name for p in h.iterdir()) == sorted(f"{t}.csv" for t in OMOP_TABLES)
    assert {p.name for p in (synth_dir / "ground_truth").iterdir()} == {
        "persons.csv",
        "stays.csv",
        "effects.json",
        "defects.csv",
        "README.md",
    }
    manifest = json.loads((synth_dir / "manifest.json").read_text())
    assert manifest["persons"] == 4000 and manifest["seed"] == 7
    for rel, rows in manifest["counts"].items():
        assert (
            rows
            == read_strings(synth_dir / rel, "," if not rel.startswith("snds/") else ";").num_rows
        ), rel


@pytest.mark.parametrize("table", SNDS_TABLES)
def test_snds_table_matches_schema(synth_dir: Path, table: str) -> None:
    data = read_clean(synth_dir, f"snds/{table}.csv")
    assert data.num_rows > 0
    assert check_snds(table, data) == []


def test_snds_files_are_semicolon_separated_with_plain_header(synth_dir: Path) -> None:
    first = (synth_dir / "snds" / "ER_PRS_F.csv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert first.startswith("BEN_AMA_COD;") and '"' not in first


@pytest.mark.parametrize("table", OMOP_TABLES)
def test_hospital_tables_match_omop_spec(synth_dir: Path, table: str) -> None:
    for hospital in sorted((synth_dir / "hospitals").iterdir()):
        data = read_clean(synth_dir, f"hospitals/{hospital.name}/{table}.csv", ",")
        assert check_omop(table.lower(), data) == [], hospital.name


def test_dcir_join_key_links_every_detail_row(synth_dir: Path) -> None:
    key = [
        "FLX_DIS_DTD",
        "FLX_TRT_DTD",
        "FLX_EMT_TYP",
        "FLX_EMT_NUM",
        "FLX_EMT_ORD",
        "ORG_CLE_NUM",
        "DCT_ORD_NUM",
        "PRS_ORD_NUM",
        "REM_TYP_AFF",
    ]
    prs = read_strings(synth_dir / "snds" / "ER_PRS_F.csv")
    keys = list(zip(*(prs[k].to_pylist() for k in key), strict=True))
    assert len(set(keys)) == len(keys), "the 9-column key identifies an ER_PRS_F line"
    known = set(keys)
    for detail in ("ER_PHA_F", "ER_CAM_F"):
        rows = read_strings(synth_dir / "snds" / f"{detail}.csv")
        assert set(zip(*(rows[k].to_pylist() for k in key), strict=True)) <= known, detail


def test_pmsi_tables_share_their_stay_key(synth_dir: Path) -> None:
    planted = defect_lines(synth_dir)
    for yy in ("19", "20", "21", "22", "23"):
        b = read_strings(synth_dir / "snds" / f"T_MCO{yy}B.csv")
        c = read_strings(synth_dir / "snds" / f"T_MCO{yy}C.csv")
        d = read_strings(synth_dir / "snds" / f"T_MCO{yy}D.csv")
        kb = set(zip(b["ETA_NUM"].to_pylist(), b["RSA_NUM"].to_pylist(), strict=True))
        kc = list(zip(c["ETA_NUM"].to_pylist(), c["RSA_NUM"].to_pylist(), strict=True))
        copies = [p for p in planted.get(f"snds/T_MCO{yy}B.csv", {}).values()]
        assert b.num_rows - len(kb) == copies.count(("duplicate_key", "ETA_NUM+RSA_NUM"))
        assert len(kc) == len(set(kc)) and set(kc) == kb
        assert set(zip(d["ETA_NUM"].to_pylist(), d["RSA_NUM"].to_pylist(), strict=True)) <= kb
        assert {s[-4:] for s in c["EXE_SOI_DTF"].to_pylist()} <= {":00:00:00"[-4:]}
        assert {s[5:9] for s in c["EXE_SOI_DTF"].to_pylist()} == {f"20{yy}"}
