"""``bastide vocab import`` and ``bastide vocab status`` from the command line."""

from __future__ import annotations

from pathlib import Path

from athena_fixture import write_download
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import Governance, Identity
from bastide.hub import Hub

runner = CliRunner()


def test_vocab_subcommands_have_help() -> None:
    for command in ("import", "status"):
        result = runner.invoke(app, ["vocab", command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, result.output
    assert "--subset" in runner.invoke(app, ["vocab", "import", "--help"]).output


def test_import_then_status(
    tmp_path: Path, hub: Hub, gov: Governance, olga: Identity, rita: Identity
) -> None:
    download = write_download(tmp_path / "athena")
    where = ["--hub", str(hub.root)]
    imported = runner.invoke(app, ["vocab", "import", str(download), *where, "--as", "olga"])
    assert imported.exit_code == 0, imported.output
    assert "Vocabulary snapshot 1 published (v5.0 TEST)" in imported.output
    again = runner.invoke(app, ["vocab", "import", str(download), *where, "--as", "olga"])
    assert "already imported; nothing was published" in again.output

    status = runner.invoke(app, ["vocab", "status", *where, "--as", "rita"], terminal_width=200)
    assert status.exit_code == 0, status.output
    snomed = next(line for line in status.output.splitlines() if "SNOMED" in line)
    assert "vocabulary-athena" in snomed and "2024-03-01 SNOMED" in snomed
    assert "derived from 'Is a'" in status.output
    assert "1 imported concepts of French vocabularies" in status.output
