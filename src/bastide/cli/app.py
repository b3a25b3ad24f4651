"""The Typer application, shared options and the error boundary of the CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, ConsoleDimensions
from rich.markup import escape

app = typer.Typer(
    name="bastide",
    help="bastide — a sovereign health data hub (SNDS + hospital extracts -> encrypted OMOP CDM).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Width of the output when it is not a terminal (a log, a pipe, CI) and COLUMNS is not
# set: wide enough that tables keep every column whole instead of Rich's 80.
NON_TERMINAL_WIDTH = 1000


class CliConsole(Console):
    """The CLI's console: a terminal's own width; ``COLUMNS`` when it is set; otherwise,
    when the output is a file or a pipe, ``NON_TERMINAL_WIDTH`` so that reports written
    to logs stay readable."""

    @property
    def size(self) -> ConsoleDimensions:
        dims = Console.size.fget(self)  # type: ignore[attr-defined]
        columns = self._environ.get("COLUMNS", "")
        if self._width is None and not columns.isdigit() and not self.is_terminal:
            return ConsoleDimensions(NON_TERMINAL_WIDTH, dims.height)
        return dims  # type: ignore[no-any-return]

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


# The one place for the CLI's consoles: every command prints through these two.
console = CliConsole()
err_console = CliConsole(stderr=True)

HubOption = Annotated[
    Path | None,
    typer.Option(
        "--hub",
        help="Hub directory (default: $BASTIDE_HUB, then the current directory).",
        show_default=False,
    ),
]


class UserError(Exception):
    """An error caused by input or configuration: shown as one clear line, exit code 2."""


def _expected_errors() -> tuple[type[BaseException], ...]:
    from bastide.config import ConfigError
    from bastide.hub import HubNotFound
    from bastide.keys import KeyError_

    errors: list[type[BaseException]] = [
        UserError,
        ConfigError,
        HubNotFound,
        KeyError_,
        FileExistsError,
        FileNotFoundError,
    ]
    try:  # the border's errors, once that package is present
        from bastide.errors import BastideError

        errors.append(BastideError)
    except ImportError:
        pass
    return tuple(errors)


def run() -> None:
    """Run the CLI; expected errors print one line on stderr instead of a stack trace."""
    from sqlalchemy.exc import DBAPIError

    from bastide.filemodes import owner_only_umask

    owner_only_umask()  # every file a command creates is the owner's only
    try:
        try:
            app()
        except DBAPIError as exc:  # the metadata database went away mid-command
            from bastide.governance.store import unreachable

            raise unreachable(exc) from None
    except _expected_errors() as exc:
        # escape: messages quote "[keys] provider" or "bastide[spark]", not Rich markup
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(2)


@app.callback()
def _root(
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Compute engine for this command: duckdb or spark "
            "(default: engine.name in bastide.toml).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """bastide — a sovereign health data hub (SNDS + hospital extracts -> encrypted OMOP CDM)."""
    from bastide.filemodes import owner_only_umask

    owner_only_umask()
    if engine is not None:
        from bastide.engines import ENGINES

        if engine not in ENGINES:
            raise typer.BadParameter(f"{engine!r}: expected one of {', '.join(ENGINES)}")
        if engine == "spark":
            from bastide.optional import SPARK, require

            require(SPARK)  # an optional extra: say so now, before any work is done
        # The same override as the environment variable: it wins over bastide.toml.
        os.environ["BASTIDE_ENGINE__NAME"] = engine
