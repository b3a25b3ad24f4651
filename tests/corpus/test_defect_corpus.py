"""Every case of the bad-input corpus (defects.toml) ends as the case says.

The case id names the test. A case owned by another change (``pending``) is skipped
with that reason until it lands.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from corpus_cases import CORPUS, Case, Extract, apply, load_cases

from bastide.audit import AuditLog
from bastide.errors import BastideError
from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.ingest import tables as t
from bastide.sources import (
    FileReconciliation,
    SourceFileError,
    describe_file,
    known_codes,
    read_extract,
)
from bastide.storage import Warehouse

CASES = load_cases()
DOCS = Path(__file__).parents[2] / "docs" / "border.md"


@dataclass
class Outcome:
    refused: str | None = None  # the run's error
    files: dict[str, FileReconciliation] = field(default_factory=dict)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    audit: dict[str, Any] = field(default_factory=dict)
    exclusions: set[str] = field(default_factory=set)
    tables: set[str] | None = None  # the tables read (None: all)


def _touched(case: Case, x: Extract) -> set[str]:
    """The tables the case's steps name: the border reads those (and lists the rest)."""
    names = set()
    for step in case.steps:
        for key in ("file", "name", "to"):
            value = step.get(key)
            names.update(value if isinstance(value, list) else [value] if value else [])
    tables = {describe_file(x.dir / n, case.source, x.dir).table for n in names}
    return {table.upper() for table in tables if table}


def _border(case: Case, x: Extract, keys: dict, code_sets: dict[str, pa.Array]) -> Outcome:
    checker = known_codes(code_sets) if case.source == "snds" else None
    extract = read_extract(
        x.dir, case.source, pseudonymise=keys, code_checker=checker, tables=_touched(case, x)
    )
    out = Outcome()
    try:
        for reader in extract:
            try:
                for batch in reader:
                    out.quarantine += batch.quarantine.to_pylist()
            except SourceFileError:
                pass  # the reconciliation records it as rejected
    except SourceFileError as exc:
        out.refused = str(exc)
        return out
    out.files = {f.source_file: f for f in extract.reconciliation.files}
    out.tables = _touched(case, x)
    return out


def _ingest(case: Case, x: Extract, tmp: Path, baseline: Path) -> Outcome:
    root = tmp / "hub"
    if case.baseline:
        shutil.copytree(baseline, root, symlinks=True)
        hub = Hub(root)
    else:
        hub = Hub.init(root)
    before = Warehouse(hub).current()
    out = Outcome()
    try:
        result = ingest(hub, x.dir, case.source, accept_shrink=case.accept_shrink)
    except BastideError as exc:
        out.refused = str(exc)
        after = Warehouse(hub).current()
        # refused: the current snapshot is the one before, and the refusal is audited
        assert (after.version if after else None) == (before.version if before else None)
        entry = next(e for e in AuditLog(hub).entries() if e.action == "ingest")
        assert entry.outcome == "failed"
        return out
    assert result.version is not None and result.reconciliation is not None
    out.files = {f.source_file: f for f in result.reconciliation.files}
    snapshot = Warehouse(hub).current()
    assert snapshot is not None
    data = snapshot.dataset(t.QUARANTINE, partitions=[result.partition]).to_table()
    out.quarantine = data.to_pylist()
    out.audit = next(e for e in AuditLog(hub).entries() if e.action == "ingest").details_dict
    out.exclusions = {e.rule for e in result.exclusions if e.rows}
    return out


def _entries(directory: Path) -> set[str]:
    """What the reconciliation must list: every entry but the sub-directories walked."""
    found = set()
    for top, dirs, files in os.walk(directory):
        base = Path(top)
        for name in [*files, *dirs]:
            path = base / name
            if path.is_dir() and not path.is_symlink() and "." not in name:
                continue
            found.add(path.relative_to(directory).as_posix())
        dirs[:] = [d for d in dirs if "." not in d and not (base / d).is_symlink()]
    return found


def _read(x: Extract, case: Case, name: str, tables: set[str]) -> bool:
    path = x.dir / name
    if path.is_symlink() or not path.is_file():
        return True  # refused whatever its name
    table = describe_file(path, case.source, x.dir).table
    return table is None or table.upper() in tables


def _first(case: Case, key: str) -> Any:
    for step in case.steps:
        for k in (key, "name", "to") if key == "file" else (key,):
            if isinstance(step.get(k), str | int) and not isinstance(step.get(k), bool):
                return step[k]
    return None


def _check(case: Case, x: Extract, out: Outcome) -> None:
    e = case.expect
    if case.outcome == "refused":
        assert out.refused is not None, "the run was not refused"
        assert re.search(e["message"], out.refused), out.refused
        return
    assert out.refused is None, f"the run was refused: {out.refused}"
    # every entry of the extract is accounted for, and no row is lost
    expected = _entries(x.dir)
    if out.tables is not None:  # a file of a table not read is not listed
        expected = {n for n in expected if _read(x, case, n, out.tables)}
    assert expected <= set(out.files), sorted(expected - set(out.files))
    for f in out.files.values():
        assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_excluded
    rejected = {n: f.error for n, f in out.files.items() if f.status == "rejected"}
    file = e.get("file") or _first(case, "file")
    if case.outcome == "rejected":
        assert set(rejected) == {file}, rejected
        assert re.search(e["message"], rejected[file] or ""), rejected[file]
        return
    assert not rejected, rejected
    if case.outcome == "listed":
        entry = out.files[file]
        assert entry.status == e["status"] and entry.rows_read == 0
        assert re.search(e["message"], entry.error or ""), entry.error
        assert not out.quarantine
        return
    if case.outcome == "quarantined":
        line = e.get("line") or _first(case, "line")
        assert len(out.quarantine) == e.get("count", 1), out.quarantine
        at = [q for q in out.quarantine if q["source_file"] == file and q["line_number"] == line]
        assert at, f"nothing quarantined at {file} line {line}: {out.quarantine}"
        assert at[0]["reason"] == e["reason"], at[0]
        if "column" in e:
            assert at[0]["column"] == e["column"], at[0]
    else:  # loaded
        assert not out.quarantine, out.quarantine
    facts = {k: v for k, v in e.items() if k not in ("outcome", "reason", "column", "line",
                                                     "count", "message", "file")}  # fmt: skip
    if facts:
        rec = out.files.get(file) if file else None
        for key, value in facts.items():
            if key == "audit":
                assert value in out.audit, out.audit
                counts = out.audit[value]
                if value == "shrink_accepted":  # the counts before and after, audited
                    assert counts["persons_before"] > counts["persons_after"] > 0, counts
            elif key == "exclusion":
                assert value in out.exclusions, out.exclusions
            elif key == "missing_columns_include":
                assert rec is not None and set(value) <= set(rec.missing_columns)
            elif key == "blank_lines":
                assert sum(f.blank_lines for f in out.files.values()) == value
            else:
                assert rec is not None, f"no reconciliation of {file}"
                found = getattr(rec, key)
                assert (list(found) if isinstance(found, tuple) else found) == value, key


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_defect(
    case: Case,
    clean_extract: Path,
    code_sets: dict[str, pa.Array],
    keys: dict,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    if case.pending:
        pytest.skip(f"pending {case.pending}")
    x = apply(case, clean_extract, tmp_path / "extract")
    if case.level == "border":
        out = _border(case, x, keys, code_sets)
    else:
        baseline = request.getfixturevalue("baseline_hub") if case.baseline else tmp_path
        out = _ingest(case, x, tmp_path, baseline)
    _check(case, x, out)


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 60
    active = [c for c in CASES if not c.pending]
    assert len(active) >= 60
    # distinct: no two cases make the same input and run it the same way
    recipes = [(c.source, c.level, c.baseline, c.accept_shrink, repr(c.steps)) for c in CASES]
    assert len(set(recipes)) == len(recipes)


def test_the_docs_list_the_corpus() -> None:
    from corpus_cases import markdown

    text = DOCS.read_text(encoding="utf-8")
    start, end = "<!-- corpus:start -->", "<!-- corpus:end -->"
    assert start in text and end in text, f"{DOCS} has no corpus section"
    listed = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert listed == markdown(CASES).strip(), (
        f"docs/border.md is out of date with {CORPUS.name}: "
        "run `uv run python tests/corpus/corpus_cases.py` to rewrite its list"
    )
