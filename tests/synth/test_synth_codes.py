"""Every code in the extracts exists in its nomenclature; claims net to what was dispensed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from synth_checks import MESSY, defect_lines, read_clean, read_strings

from bastide.synth import nomenclatures


def _column(path: Path, name: str, delimiter: str = ";") -> set[str]:
    """The values of a column, rows of planted defects aside."""
    root = path.parents[2] if path.parent.parent.name == "hospitals" else path.parents[1]
    rel = str(path.relative_to(root))
    return {v for v in read_clean(root, rel, delimiter)[name].to_pylist() if v}


def test_cim10_codes_exist(synth_dir: Path) -> None:
    known = set(nomenclatures.cim10())
    snds = synth_dir / "snds"
    used = _column(snds / "KI_CCI_R.csv", "DCD_CIM_COD")
    for yy in ("19", "20", "21", "22", "23"):
        used |= _column(snds / f"T_MCO{yy}B.csv", "DGN_PAL") | _column(
            snds / f"T_MCO{yy}B.csv", "DGN_REL"
        )
        used |= _column(snds / f"T_MCO{yy}D.csv", "ASS_DGN")
    for h in (synth_dir / "hospitals").iterdir():
        used |= _column(h / "CONDITION_OCCURRENCE.csv", "condition_source_value", ",")
    assert used and used <= known


def test_drug_and_act_codes_exist(synth_dir: Path) -> None:
    snds = synth_dir / "snds"
    cip13 = {str(p.cip13) for p, _ in nomenclatures.bdpm_presentations()}
    cip7 = {str(p.cip7) for p, _ in nomenclatures.bdpm_presentations()}
    assert _column(snds / "ER_PHA_F.csv", "PHA_PRS_C13") <= cip13
    assert _column(snds / "ER_PHA_F.csv", "PHA_PRS_IDE") <= cip7
    assert _column(snds / "ER_PHA_F.csv", "PHA_PRS_C13") <= _column(
        snds / "IR_PHA_R.csv", "PHA_CIP_C13"
    )
    assert _column(snds / "IR_PHA_R.csv", "PHA_ATC_C07") <= set(nomenclatures.atc(5))
    assert _column(snds / "ER_CAM_F.csv", "CAM_PRS_IDE") <= set(nomenclatures.ccam())
    natures = {str(c) for c in nomenclatures.prs_nat_ref_codes()}
    assert _column(snds / "ER_PRS_F.csv", "PRS_NAT_REF") <= natures
    ucd = set(nomenclatures.ucd())
    for h in (synth_dir / "hospitals").iterdir():
        used = _column(h / "DRUG_EXPOSURE.csv", "drug_source_value", ",")
        assert used <= ucd and all(len(c) == 13 for c in used)


def test_dispensing_mix_follows_the_brief(synth_dir: Path) -> None:
    rows = read_strings(synth_dir / "snds" / "IR_PHA_R.csv").to_pylist()
    atc = {r["PHA_CIP_C13"]: r["PHA_ATC_C07"] for r in rows}
    names = {r["PHA_CIP_C13"]: r["PHA_MED_NOM"] for r in rows}
    used = _column(synth_dir / "snds" / "ER_PHA_F.csv", "PHA_PRS_C13")
    by_atc = {atc[c] for c in used}
    assert {"A10BA02", "M01AH01", "M01AB05", "C08CA01"} <= by_atc
    for code, word in (
        ("M01AH01", "CELECOXIB"),
        ("M01AB05", "DICLOFENAC"),
        ("A10BA02", "METFORMINE"),
    ):
        assert all(word in names[c] for c in used if atc[c] == code)
    natures = _column(synth_dir / "snds" / "ER_PRS_F.csv", "PRS_NAT_REF")
    assert {"3313", "1111", "1112", "3111", "3211", "1352", "1351"} <= natures


KEY9 = [
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


def _net(table: pa.Table, key: list[str], qty: str) -> pa.Array:
    """Summed quantity per netting key (nulls are a key value like any other)."""
    table = table.select([*key, qty]).set_column(len(key), qty, pc.cast(table[qty], pa.float64()))
    filled = [pc.fill_null(table[k], "<null>") for k in key]
    table = pa.table([*filled, table[qty]], names=[*key, qty])
    return table.group_by(key).aggregate([(qty, "sum")])[f"{qty}_sum"].combine_chunks()


@pytest.fixture(params=["default", "many defects"])
def claims_extract(
    request: pytest.FixtureRequest, synth_dir: Path, small_extract: Callable[..., Path]
) -> Path:
    if request.param == "default":
        return synth_dir
    return small_extract(**MESSY)


def test_cancellations_net_to_what_was_dispensed(claims_extract: Path) -> None:
    """What the border loads nets to the expected groups: rows of planted defects are
    quarantined, and detail rows of a quarantined line join no claim."""
    root = claims_extract
    effects = json.loads((root / "ground_truth" / "effects.json").read_text(encoding="utf-8"))
    prs = read_clean(root, "snds/ER_PRS_F.csv")
    drops = effects["etl_drops"]
    qty = pc.cast(prs["PRS_ACT_QTE"], pa.float64())
    assert pc.sum(pc.less(qty, 0)).as_py() == drops["dcir_cancelling_lines"] > 0
    info = pc.equal(pc.fill_null(prs["DPN_QLF"], ""), "71")
    assert pc.sum(info).as_py() == drops["dcir_information_only_lines_dpn_qlf_71"]
    kept = prs.filter(pc.invert(info))
    keys = drops["netting_keys"]

    net = _net(kept, keys["ER_PRS_F"], "PRS_ACT_QTE")
    assert pc.min(net).as_py() >= 0
    assert pc.sum(pc.greater(net, 0)).as_py() == drops["er_prs_f_groups_after_netting"]

    line_cols = sorted({*KEY9, *keys["ER_PRS_F"], "PRS_ACT_QTE"} - {"PHA_PRS_C13", "CAM_PRS_IDE"})
    lines = kept.select(line_cols)
    loaded_pha = read_clean(root, "snds/ER_PHA_F.csv")
    pha = loaded_pha.join(lines, KEY9, join_type="inner")
    assert pha.num_rows == loaded_pha.num_rows - _orphans(root, loaded_pha)
    net = _net(pha, keys["ER_PHA_F"], "PHA_ACT_QSN")
    assert pc.min(net).as_py() >= 0
    assert pc.sum(pc.greater(net, 0)).as_py() == drops["er_pha_f_groups_after_netting"]
    assert pc.min(pc.cast(pha["PHA_ACT_QSN"], pa.int64())).as_py() < 0

    cam = read_clean(root, "snds/ER_CAM_F.csv").join(lines, KEY9, join_type="inner")
    net = _net(cam, keys["ER_CAM_F"], "PRS_ACT_QTE")
    assert pc.min(net).as_py() >= 0
    assert pc.sum(pc.greater(net, 0)).as_py() == drops["er_cam_f_groups_after_netting"]


def _orphans(root: Path, details: pa.Table) -> int:
    """Detail rows whose claim line carries a planted defect."""
    prs = read_strings(root / "snds" / "ER_PRS_F.csv")
    spoiled = sorted(defect_lines(root).get("snds/ER_PRS_F.csv", {}))
    lines = prs.take(pa.array([line - 2 for line in spoiled], pa.int64())).select(KEY9)
    return details.join(lines, KEY9, join_type="inner").num_rows
