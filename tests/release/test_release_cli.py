"""``bastide release`` end to end, and every release command in docs/disclosure.md."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from release_tables import crosstab
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import PermissionDenied


@pytest.fixture
def bastide(hub, project):
    runner = CliRunner()

    def invoke(*args: str, user: str):
        env = {"BASTIDE_HUB": str(hub.root), "BASTIDE_USER": user, "COLUMNS": "200"}
        return runner.invoke(app, list(args), env=env)

    return invoke


def _ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_request_review_list_show(bastide, hub, tmp_path: Path) -> None:
    path = tmp_path / "by_sex_age.csv"
    pacsv.write_csv(crosstab({("F", "a"): 4, ("F", "b"): 40, ("M", "a"): 25, ("M", "b"): 30}), path)
    out = _ok(
        bastide(
            "release",
            "request",
            "asthma-care",
            str(path),
            "--justification",
            "Table 1",
            user="rob",
        )
    )
    assert "Release 1 of by_sex_age (asthma-care): checks pass, pending" in out
    assert "secondary_suppression: 3 further cells suppressed" in out
    denied = bastide("release", "review", "1", "--approve", user="rob")
    assert isinstance(denied.exception, PermissionDenied)
    listing = _ok(bastide("release", "list", "asthma-care", user="stella"))
    assert "by_sex_age" in listing and "pending" in listing
    out = _ok(bastide("release", "review", "1", "--approve", "--note", "ok", user="stella"))
    assert "approved" in out and "Written to" in out
    assert (hub.root / "releases" / "asthma-care" / "1" / "by_sex_age.csv").is_file()
    shown = _ok(bastide("release", "show", "1", "--json", user="audrey"))
    assert '"decided_by": "stella"' in shown
    assert "released sha256" in _ok(bastide("release", "show", "1", user="rita"))
    neither = bastide("release", "review", "1", user="stella")
    assert "say --approve or --reject" in str(neither.exception)


def test_every_release_command_is_documented() -> None:
    import typer.main

    text = (Path(__file__).resolve().parents[2] / "docs" / "disclosure.md").read_text()
    group = typer.main.get_group(app)
    for sub in group.commands["release"].commands:  # type: ignore[attr-defined]
        assert f"bastide release {sub}" in text, f"'bastide release {sub}' is not documented"
