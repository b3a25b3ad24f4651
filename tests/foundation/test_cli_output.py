"""What the CLI prints: help texts keep their bracketed TOML names, tables stay whole when
the output is not a terminal, and a bad ``--as`` is one clear line."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main
from typer.testing import CliRunner

from bastide.cli import app
from bastide.cli.app import NON_TERMINAL_WIDTH, CliConsole

runner = CliRunner()
# What Rich leaves of "[tables], [population]" when it takes them for markup.
EMPTY_ITEM = re.compile(r"(,\s*,)|(\(\s*,)|(,\s*\))|(,\s*\.)|(\(\s*\))")
BRACKETED = re.compile(r"\\?\[([a-z_]+)\]")


def _commands(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if hasattr(group, "commands"):
        for name, sub in sorted(group.commands.items()):
            yield from _commands(sub, (*path, name))
    else:
        yield path


def _raw_help(command: Any) -> str:
    texts = [command.help or ""]
    texts += [getattr(p, "help", None) or "" for p in command.params]
    return " ".join(texts)


def _command(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def test_help_shows_bracketed_names_and_no_empty_item() -> None:
    paths = list(_commands(typer.main.get_command(app)))
    assert ("project", "request") in paths and ("project", "approve") in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, (path, result.output)
        text = " ".join(result.output.split())
        assert not EMPTY_ITEM.search(text), (path, EMPTY_ITEM.search(text), text)
        for name in BRACKETED.findall(_raw_help(_command(path))):
            if name in ("bold", "dim", "red", "green", "yellow"):
                continue
            assert f"[{name}]" in text, (path, name, text)
    for path in (("project", "request"), ("project", "approve")):
        text = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"}).output
        for name in ("[tables]", "[population]", "[period]"):
            assert name in text, (path, name)


def test_tables_are_not_cut_when_output_is_not_a_terminal(tmp_path: Path) -> None:
    from io import StringIO

    from rich.table import Table

    cells = ["T_MCO23C_stays_with_a_long_name", "loaded_after_the_border", "67,707", "x" * 60]
    out = StringIO()
    console = CliConsole(file=out, _environ={})
    assert not console.is_terminal and console.width == NON_TERMINAL_WIDTH
    table = Table("file", "status", "rows", "note")
    table.add_row(*cells)
    console.print(table)
    assert "…" not in out.getvalue()
    for cell in cells:
        assert cell in out.getvalue()
    # COLUMNS, when set, is respected.
    assert CliConsole(file=StringIO(), _environ={"COLUMNS": "132"}).width == 132


def test_cli_output_to_a_pipe_is_wide(tmp_path: Path) -> None:
    """A real command, its output piped (no terminal, no COLUMNS): nothing is cut."""
    hub = tmp_path / "hub"
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("COLUMNS", "TERM")}
    subprocess.run([sys.executable, "-m", "bastide", "init", str(hub)], check=True, env=env)
    name = "an_operator_with_a_rather_long_account_name"
    roles = ["--role", "operator", "--role", "steward", "--role", "auditor"]
    add = ["user", "add", name, *roles, "--password-stdin", "--hub", str(hub)]
    subprocess.run(
        [sys.executable, "-m", "bastide", *add],
        input="a long enough password 1\n",
        text=True,
        check=True,
        env=env,
        capture_output=True,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bastide", "user", "list", "--as", name, "--hub", str(hub)],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert name in proc.stdout
    assert "auditor, operator, steward" in proc.stdout
    assert "…" not in proc.stdout


def test_empty_as_is_one_clear_line(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    subprocess.run([sys.executable, "-m", "bastide", "init", str(hub)], check=True)
    for argv in (
        ["project", "list", "--as", "", "--hub", str(hub)],
        ["query", "--project", "p", "--as", "", "--hub", str(hub), "SELECT 1"],
        ["user", "list", "--as", "  ", "--hub", str(hub)],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "bastide", *argv], capture_output=True, text=True
        )
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr + proc.stdout
        assert "--as: the user name is empty" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
