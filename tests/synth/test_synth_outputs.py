"""Determinism, output formats and the command line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from synth_checks import read_strings
from typer.testing import CliRunner

from bastide.cli import app
from bastide.sources.snds_schema import UnknownSndsTable, load_snds_schema, schema_name
from bastide.synth import SynthError


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes(small_extract: Callable[..., Path], tmp_path: Path) -> None:
    from bastide.synth import SynthOptions, generate

    again = tmp_path / "again"
    generate(SynthOptions(persons=600, seed=3, out=again))
    assert _digest(small_extract()) == _digest(again)
    planted = (again / "ground_truth" / "defects.csv").read_text().splitlines()
    assert len(planted) > 10, "defects are on by default, and reproducible"


def test_other_seed_other_data(small_extract: Callable[..., Path]) -> None:
    a, b = _digest(small_extract()), _digest(small_extract(seed=4))
    assert a.keys() == b.keys()
    assert a["snds/ER_PRS_F.csv"] != b["snds/ER_PRS_F.csv"]
    assert a["ground_truth/persons.csv"] != b["ground_truth/persons.csv"]


@pytest.mark.parametrize(
    ("options", "suffix", "encoding"),
    [
        ({"encoding": "latin-1"}, ".csv", "latin-1"),
        ({"compress": "gzip"}, ".csv.gz", "utf-8"),
        ({"format": "parquet"}, ".parquet", "utf-8"),
    ],
)
def test_formats_round_trip(
    small_extract: Callable[..., Path], options: dict[str, str], suffix: str, encoding: str
) -> None:
    plain = small_extract()
    other = small_extract(**options)
    for table in ("IR_BEN_R", "ER_PRS_F", "ER_PHA_F", "T_MCO21C", "IR_PHA_R"):
        expected = read_strings(plain / "snds" / f"{table}.csv")
        got = read_strings(other / "snds" / f"{table}{suffix}", encoding=encoding)
        assert got.column_names == expected.column_names
        assert got.to_pylist() == expected.to_pylist(), table
    # Hospital extracts and ground truth do not depend on the SNDS format options, but
    # for where planted defects are: the same rows, in files named for their format.
    assert _digest(plain / "hospitals") == _digest(other / "hospitals")
    apart = ("defects.csv", "effects.json")
    truth = {k: v for k, v in _digest(plain / "ground_truth").items() if k not in apart}
    assert truth.items() <= _digest(other / "ground_truth").items()
    assert _effects(plain) == _effects(other)
    assert _planted(plain) == _planted(other)


def _effects(root: Path) -> dict[str, Any]:
    effects = json.loads((root / "ground_truth" / "effects.json").read_text(encoding="utf-8"))
    files = effects.pop("defects").pop("files")
    return {**effects, "defect_files": {_table(f): c for f, c in files.items()}}


def _planted(root: Path) -> list[tuple[str, int, str, str]]:
    """Planted defects as (table, row, reason, column), whatever the file format."""
    rows = read_strings(root / "ground_truth" / "defects.csv", ",").to_pylist()
    first = {r["file"]: 1 if r["file"].endswith(".parquet") else 2 for r in rows}
    return sorted(
        (_table(r["file"]), int(r["line"]) - first[r["file"]], r["reason"], r["column"])
        for r in rows
    )


def _table(file: str) -> str:
    return file.split(".")[0]


def test_latin1_really_is_latin1(small_extract: Callable[..., Path]) -> None:
    raw = (small_extract(encoding="latin-1") / "snds" / "IR_PHA_R.csv").read_bytes()
    assert "é".encode("latin-1") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


def test_parquet_keeps_types(small_extract: Callable[..., Path]) -> None:
    table = pq.read_table(small_extract(format="parquet") / "snds" / "ER_PHA_F.parquet")
    assert str(table.schema.field("PHA_PRS_C13").type) == "int64"
    assert str(table.schema.field("FLX_DIS_DTD").type) == "date32[day]"


def test_schema_reader_resolves_year_tables() -> None:
    assert schema_name("T_MCO19B") == "T_MCOaaB"
    assert schema_name("ER_PRS_F") == "ER_PRS_F"
    names = [f["name"] for f in load_snds_schema("T_MCO23C")]
    assert "NIR_ANO_17" in names and "EXE_SOI_DTD" in names
    assert load_snds_schema("IR_PHA_R")[0]["name"] == "PHA_CIP_C13"
    with pytest.raises(UnknownSndsTable):
        load_snds_schema("NOT_A_TABLE")


def _bastide(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bastide", *args], capture_output=True, text=True)


def test_cli_help_documents_every_option() -> None:
    result = CliRunner().invoke(app, ["synth", "--help"])
    assert result.exit_code == 0
    for option in (
        "--persons",
        "--seed",
        "--out",
        "--hospitals",
        "--format",
        "--encoding",
        "--compress",
        "--defects",
    ):
        assert option in result.output


def test_cli_bad_option_is_one_line(tmp_path: Path) -> None:
    proc = _bastide(
        "synth", "--persons", "10", "--seed", "1", "--out", str(tmp_path / "x"), "--format", "xml"
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: --format must be csv or parquet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--encoding", "utf-16"], "--encoding must be utf-8 or latin-1"),
        (["--hospitals", "0"], "--hospitals must be between 1 and 20"),
        (["--compress", "zip"], "--compress must be none or gzip"),
        (["--format", "parquet", "--encoding", "latin-1"], "--encoding applies to CSV only"),
        (["--defects", "0.5"], "--defects must be between 0 and 0.1"),
        (["--defects", "-0.01"], "--defects must be between 0 and 0.1"),
    ],
)
def test_bad_options_are_refused_before_writing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        app, ["synth", "--persons", "10", "--seed", "1", "--out", str(tmp_path / "x"), *args]
    )
    assert isinstance(result.exception, SynthError) and message in str(result.exception)
    assert not (tmp_path / "x").exists()


def test_cli_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("x")
    result = CliRunner().invoke(
        app, ["synth", "--persons", "10", "--seed", "1", "--out", str(tmp_path)]
    )
    assert isinstance(result.exception, SynthError) and "not empty" in str(result.exception)


def test_cli_writes_an_extract(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["synth", "--persons", "300", "--seed", "5", "--out", str(out), "--hospitals", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output
    assert len(list((out / "hospitals").iterdir())) == 2
    assert read_strings(out / "snds" / "IR_BEN_R.csv").num_rows >= 300
