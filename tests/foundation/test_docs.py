"""The docs stay true: every test the security properties cite exists, and every document
the README links to is there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`(tests/[\w/]+/)`")


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


def test_every_test_cited_by_the_security_properties_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    cited = CITED.findall(text)
    assert len(cited) > 15
    for file, function, folder in cited:
        if folder:
            assert (ROOT / folder).is_dir(), folder
            continue
        assert (ROOT / file).is_file(), file
        if function:
            assert function in _functions(ROOT / file), f"{file}::{function}"


def test_readme_links_resolve() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links
    for link in links:
        assert (ROOT / link).exists(), link
