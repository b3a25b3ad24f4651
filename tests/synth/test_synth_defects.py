"""Planted defects: malformed rows the border must quarantine, with a known answer.

The ground truth (effects.json "defects" and defects.csv) is checked three ways: against
an independent scan of the files (declarations and nomenclatures only), against what the
border reports, and against the same extract generated clean (``defects=0``): a defect
changes one value of one eligible row, or repeats a row, and nothing else.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from synth_checks import MESSY, Problems, border_scan, defect_lines, read_strings, scan_rows

from bastide.synth import SynthOptions
from bastide.synth.defects import DEFAULT_RATE, KINDS, MAX_RATE, invented_codes
from bastide.synth.nomenclatures import ccam, cim10

HIGH = 0.05  # a high rate, for small extracts


def _one_each(found: dict[str, Problems]) -> dict[str, dict[int, tuple[str, str]]]:
    """The scan's problems, each row required to have exactly one."""
    single: dict[str, dict[int, tuple[str, str]]] = {}
    for file, lines in found.items():
        for line, problems in lines.items():
            assert len(problems) == 1, f"{file} line {line}: {sorted(problems)}"
            single.setdefault(file, {})[line] = next(iter(problems))
    return single


def _template(file: str) -> str:
    table = Path(file).name.split(".")[0]
    return f"T_MCOaa{table[-1]}" if table.startswith("T_MCO") else table


@pytest.fixture(scope="module")
def messy(small_extract: Callable[..., Path]) -> Path:
    return small_extract(**MESSY)


def test_effects_count_the_planted_rows(synth_dir: Path, effects: dict[str, Any]) -> None:
    planted = defect_lines(synth_dir)
    defects = effects["defects"]
    assert defects["rate"] == DEFAULT_RATE == SynthOptions(1, 1, Path(".")).defects
    by_file = {f: dict(Counter(r for r, _ in lines.values())) for f, lines in planted.items()}
    assert {f: c for f, c in defects["files"].items() if c} == by_file
    total = sum(len(lines) for lines in planted.values())
    assert defects["rows"] == total == sum(defects["by_reason"].values()) > 0
    # about RATE of the rows of the affected tables (ER_PRS_F and ER_PHA_F dominate)
    counts = json.loads((synth_dir / "manifest.json").read_text())["counts"]
    rows = sum(counts[f] for f in defects["files"])
    assert 0.7 * DEFAULT_RATE < total / rows < 1.3 * DEFAULT_RATE
    assert set(defects["files"]) == {f for f in counts if _template(f) in KINDS}


def test_a_rescan_of_the_files_finds_exactly_the_planted_rows(synth_dir: Path) -> None:
    assert _one_each(scan_rows(synth_dir)) == defect_lines(synth_dir)


def test_the_border_quarantines_exactly_the_planted_rows(synth_dir: Path) -> None:
    assert border_scan(synth_dir) == defect_lines(synth_dir)


def test_every_kind_is_planted_and_found(messy: Path) -> None:
    planted = defect_lines(messy)
    kinds = {(table, k.reason, k.column) for table, ks in KINDS.items() for k in ks}
    seen = {(_template(f), *p) for f, lines in planted.items() for p in lines.values()}
    assert seen == kinds
    assert _one_each(scan_rows(messy)) == planted
    assert border_scan(messy) == planted
    effects = json.loads((messy / "ground_truth" / "effects.json").read_text())
    assert effects["defects"]["rows"] == sum(len(lines) for lines in planted.values())


@pytest.mark.parametrize(
    "options", [{"format": "parquet"}, {"encoding": "latin-1", "compress": "gzip"}]
)
def test_the_border_finds_them_in_every_format(
    small_extract: Callable[..., Path], options: dict[str, str]
) -> None:
    root = small_extract(seed=5, persons=1000, defects=HIGH, **options)
    planted = defect_lines(root)
    assert planted and border_scan(root, options.get("encoding")) == planted


def test_invented_codes_exist_nowhere() -> None:
    codes = invented_codes()
    assert codes["cim10"] and not set(codes["cim10"]) & set(cim10())
    assert codes["ccam"] and not set(codes["ccam"]) & set(ccam())


def test_no_defects_gives_clean_files(small_extract: Callable[..., Path]) -> None:
    clean = small_extract(defects=0)
    effects = json.loads((clean / "ground_truth" / "effects.json").read_text())
    assert effects["defects"]["rows"] == 0 and effects["defects"]["by_reason"] == {}
    assert defect_lines(clean) == {}
    assert scan_rows(clean) == {}
    assert border_scan(clean) == {}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_defect_spoils_one_value_of_one_eligible_row(
    small_extract: Callable[..., Path],
) -> None:
    """The same seed with and without defects: files are the same but for the planted
    rows; a spoiled row differs from the clean one in its recorded column only, a
    duplicate repeats the row before it, and only true claim lines are spoiled."""
    clean, messy = small_extract(defects=0), small_extract(defects=HIGH)
    planted = defect_lines(messy)
    extracts = sorted(
        p.relative_to(messy) for d in ("snds", "hospitals") for p in (messy / d).rglob("*.csv")
    )
    for rel in extracts:
        lines = planted.get(str(rel), {})
        if not lines:
            assert _digest(messy / rel) == _digest(clean / rel), rel
            continue
        delimiter = ";" if rel.parts[0] == "snds" else ","
        before = read_strings(clean / rel, delimiter).to_pylist()
        after = read_strings(messy / rel, delimiter).to_pylist()
        copies = 0
        for i, row in enumerate(after):
            problem = lines.get(i + 2)
            if problem is not None and problem[0] == "duplicate_key":
                assert row == after[i - 1]
                copies += 1
                continue
            original = before[i - copies]
            changed = {k for k in row if row[k] != original[k]}
            assert changed == ({problem[1]} if problem else set()), (rel, i + 2)
            if problem and rel.name == "ER_PRS_F.csv":  # a true line, never noise
                assert float(original["PRS_ACT_QTE"]) > 0 and original["DPN_QLF"] == "0"
        assert len(after) == len(before) + copies
    assert {str(p) for p in extracts} >= set(planted)


def test_another_seed_plants_other_defects(small_extract: Callable[..., Path]) -> None:
    # same seed, same defects: test_same_seed_same_bytes (defects are on by default)
    assert defect_lines(small_extract()) != defect_lines(small_extract(seed=4))


def test_cli_default_is_the_generators() -> None:
    from bastide.cli.synth_cmd import synth

    assert inspect.signature(synth).parameters["defects"].default == DEFAULT_RATE
    assert MAX_RATE == 0.1
