"""The reference bundle shipped inside bastide: built reproducibly from the public source
files, faithful to them, checked against its manifest, small, and licensed."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import shutil
import sys
from importlib import resources
from pathlib import Path
from types import ModuleType

import pytest

from bastide import reference
from bastide.reference import Bundle, ReferenceDataCorrupt, ReferenceDataMissing
from shared_data import shared_data_dir

REPO = Path(__file__).resolve().parents[2]
SHIPPED = Path(str(resources.files("bastide.reference").joinpath(reference.BUNDLE)))
MAX_BYTES = 15_000_000


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_reference", REPO / "scripts" / "build_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    return _builder()


def test_the_shipped_bundle_is_what_the_script_builds_from_the_sources(
    builder: ModuleType, tmp_path: Path
) -> None:
    """Same inputs, same bytes: a rebuild now equals the committed bundle, file by file."""
    builder.build(shared_data_dir(), tmp_path / "bundle")
    rebuilt, shipped = _files(tmp_path / "bundle"), _files(SHIPPED)
    assert sorted(rebuilt) == sorted(shipped)
    changed = [name for name in rebuilt if rebuilt[name] != shipped[name]]
    assert not changed, f"rebuild differs: {changed}; run scripts/build_reference.py"


def test_every_table_holds_its_source_file_as_the_csv_module_reads_it(
    builder: ModuleType,
) -> None:
    source = shared_data_dir()
    checked = 0
    for spec in builder.SOURCES:
        if not isinstance(spec, builder.Delimited):
            continue
        text = (source / spec.path).read_bytes().decode(spec.encoding).removeprefix("\ufeff")
        quoting = csv.QUOTE_MINIMAL if spec.quoting else csv.QUOTE_NONE
        lines = list(
            csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter, quoting=quoting)
        )
        skipped = 0 if spec.header_line is None else spec.header_line - 1
        assert reference.rows(spec.name) == [r for r in lines[skipped:] if r], spec.name
        checked += 1
    assert checked >= 20


def test_every_json_document_is_kept_verbatim(builder: ModuleType) -> None:
    source = shared_data_dir()
    documents = reference.documents("snds/schema-snds")
    files = sorted((source / "snds" / "schema-snds").rglob("*.json"))
    assert len(documents) == len(files) == 188
    for path in files:
        relative = path.relative_to(source / "snds" / "schema-snds").as_posix()
        assert documents[relative] == json.loads(path.read_text(encoding="utf-8"))


def test_the_index_names_the_origin_licence_and_source_checksum_of_every_table() -> None:
    tables = reference.tables()
    assert {t.name for t in tables} >= {
        "omop-spec/field_level",
        "nomenclatures/IR_CIM_V",
        "nomenclatures/IR_CCAM_V63",
        "nomenclatures/bdpm/CIS_CIP_bdpm",
        "nomenclatures/NU_UCD_R",
        "snds/schema-snds",
    }
    for t in tables:
        assert t.origin and t.sources, t.name
        assert all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in t.sources.values())
        assert reference.table(t.name).num_rows == t.rows
        assert reference.licence_text(t.licence).strip(), t.licence
    assert {t.licence for t in tables} == {
        "Apache-2.0",
        "MPL-2.0",
        "Licence Ouverte 2.0 (Etalab)",
    }


def test_the_bundle_is_small() -> None:
    size = sum(len(data) for data in _files(SHIPPED).values())
    assert size <= MAX_BYTES, f"{size:,} bytes"


def test_a_changed_bundle_file_is_refused_by_its_checksum(tmp_path: Path) -> None:
    copy = tmp_path / "bundle"
    shutil.copytree(SHIPPED, copy)
    Bundle(copy).table("nomenclatures/IR_CIM_V")  # intact: reads
    target = copy / "tables" / "nomenclatures" / "IR_CIM_V.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ReferenceDataCorrupt, match=r"IR_CIM_V\.parquet does not match"):
        Bundle(copy).table("nomenclatures/IR_CIM_V")
    target.unlink()
    with pytest.raises(ReferenceDataMissing, match="reinstall bastide"):
        Bundle(copy).table("nomenclatures/IR_CIM_V")
    with pytest.raises(ReferenceDataMissing, match="not in the bundle"):
        Bundle(copy).table("nomenclatures/NO_SUCH_TABLE")


def test_product_code_never_names_the_source_folder() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "src").rglob("*.py")
        if re.search(r"\.\./shared|BASTIDE_SHARED_DATA|shared/data", path.read_text("utf-8"))
    ]
    assert offenders == []


def test_the_docs_list_every_table_with_its_licence() -> None:
    text = (REPO / "docs" / "reference-data.md").read_text(encoding="utf-8")
    for t in reference.tables():
        listed = t.name if "openmedic_ATC" not in t.name else "nomenclatures/openmedic_ATC1"
        row = next((line for line in text.splitlines() if f"`{listed}`" in line), None)
        assert row is not None, f"{t.name} is not listed in docs/reference-data.md"
        assert t.licence in row, f"{t.name}: its licence {t.licence} is not in its row"
