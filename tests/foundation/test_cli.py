"""Every command has --help, and expected errors are one clear line, not a stack trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from bastide.cli import app

runner = CliRunner()


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_group(app)
    return sorted(group.commands)


def test_every_command_has_help() -> None:
    commands = _commands()
    assert "init" in commands
    for name in commands:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.output


def test_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "bastide", "init", str(tmp_path)], check=True)
    proc = subprocess.run(
        [sys.executable, "-m", "bastide", "init", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "already holds a hub" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
