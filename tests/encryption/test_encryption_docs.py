"""The encryption docs and the threat model cite tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `encryption/test_x.py::test_y`, `test_x.py::test_y` (in tests/encryption), `tests/...`
CITED = re.compile(r"`(?:tests/)?((?:\w+/)?test_\w+\.py)(?:::(\w+))?")


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("doc", ["encryption.md", "threat-model.md"])
def test_every_cited_test_exists(doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    cited = CITED.findall(text)
    assert len(cited) > 10
    for file, function in cited:
        path = ROOT / "tests" / file if "/" in file else ROOT / "tests" / "encryption" / file
        assert path.is_file(), f"{doc}: {file}"
        if function:
            assert function in _functions(path), f"{doc}: {file}::{function}"
