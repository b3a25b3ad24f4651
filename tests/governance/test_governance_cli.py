"""The governance commands end to end: users, a project's life, the catalogue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import Governance, PermissionDenied
from bastide.hub import Hub

REQUEST = """
name = "asthma-care"
title = "Asthma care pathways"
purpose = "Describe care pathways of adults with asthma."
legal_basis = "RGPD art. 6.1.e and 9.2.j"
authorisation = "CNIL DR-2025-042"

[tables]
person = ["person_id", "year_of_birth"]
visit_occurrence = ["person_id", "visit_start_date"]

[population]
age_min = 18
conditions = [317009]

[period]
start = 2018-01-01
end = 2023-12-31
"""
GRANTED = """
[tables]
person = ["person_id", "year_of_birth"]

[population]
age_min = 18
conditions = [317009]

[period]
start = 2019-01-01
end = 2023-12-31
"""
PASSWORD = "a long enough password\n"


@pytest.fixture
def bastide(hub: Hub):
    runner = CliRunner()

    def invoke(*args: str, user: str | None = None, stdin: str | None = None):
        env = {"BASTIDE_HUB": str(hub.root), "BASTIDE_USER": user or ""}
        if user is None:
            env.pop("BASTIDE_USER")
        result = runner.invoke(app, list(args), input=stdin, env=env)
        return result

    return invoke


def _ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_project_life_from_the_command_line(bastide, tmp_path: Path) -> None:
    out = _ok(
        bastide("user", "add", "olga", "--role", "operator", "--password-stdin", stdin=PASSWORD)
    )
    assert "Added user olga (operator)" in out
    for name, role in [("stella", "steward"), ("rita", "researcher"), ("audrey", "auditor")]:
        _ok(bastide("user", "add", name, "--role", role, stdin=PASSWORD + PASSWORD, user="olga"))
    listing = _ok(bastide("user", "list", user="audrey"))
    assert "stella" in listing and "steward" in listing

    request, granted = tmp_path / "request.toml", tmp_path / "granted.toml"
    request.write_text(REQUEST)
    granted.write_text(GRANTED)
    assert "state: requested" in _ok(bastide("project", "request", str(request), user="rita"))
    _ok(bastide("project", "review", "asthma-care", user="stella"))
    out = _ok(
        bastide(
            "project",
            "approve",
            "asthma-care",
            "--expires",
            "2027-12-31",
            "--scope",
            str(granted),
            "--note",
            "visits not needed",
            user="stella",
        )
    )
    assert "is now approved, expires 2028-01-01 00:00 UTC" in out
    _ok(bastide("project", "activate", "asthma-care", user="olga"))
    shown = _ok(bastide("project", "show", "asthma-care", user="rita"))
    assert "state:         active" in shown and "visits not needed" in shown
    assert "asthma-care" in _ok(bastide("project", "list", user="stella"))

    denied = bastide("project", "approve", "asthma-care", "--expires", "2027-12-31", user="rita")
    assert isinstance(denied.exception, PermissionDenied)

    assert "Documented 17 variables" in _ok(
        bastide("catalog", "visit_occurrence", "--document", user="stella")
    )
    _ok(bastide("catalog", "ER_PRS_F", "--document", user="stella"))
    catalog = _ok(bastide("catalog", "--source", "omop-cdm-5.4", user="rita"))
    assert "visit_occurrence" in catalog and "ER_PRS_F" not in catalog
    _ok(bastide("catalog", "person", "--document", user="olga"))
    person = _ok(bastide("catalog", "person", user="rita"))
    assert "year_of_birth" in person and "Compute age using" in person
    assert "OK:" in _ok(bastide("audit", "verify", user="audrey"))
    shown = _ok(bastide("audit", "show", "--limit", "5", user="audrey"))
    assert "read_audit" in shown


def test_acting_user_is_required(bastide) -> None:
    _ok(bastide("user", "add", "olga", "--role", "operator", "--password-stdin", stdin=PASSWORD))
    result = bastide("user", "list")
    assert result.exit_code != 0 and "pass --as USER or set BASTIDE_USER" in str(result.exception)


def test_errors_are_one_line(tmp_path: Path) -> None:
    """Through the real entry point (one database is enough: this is about the CLI)."""
    hub = Hub.init(tmp_path / "hub")
    with Governance(hub) as gov:
        gov.add_user(None, "olga", ["operator"])
    env = {"BASTIDE_HUB": str(hub.root), "BASTIDE_USER": "olga", "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "bastide", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env)

    proc = run("audit", "show")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: permission denied: read_audit needs the role auditor; the actor has operator"
    )


def test_every_governance_command_is_documented() -> None:
    import typer.main

    docs = Path(__file__).resolve().parents[2] / "docs"
    text = (docs / "governance.md").read_text() + (docs / "audit.md").read_text()
    group = typer.main.get_group(app)
    for name in ("user", "project", "audit"):
        for sub in group.commands[name].commands:  # type: ignore[attr-defined]
            assert f"bastide {name} {sub}" in text, f"'bastide {name} {sub}' is not documented"
    assert "bastide catalog" in text
