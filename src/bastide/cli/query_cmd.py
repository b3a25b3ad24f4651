"""``bastide query --project P "SQL"``: a researcher's SQL in the project's workspace."""

from __future__ import annotations

from typing import Annotated

import pyarrow as pa
import typer
from rich.table import Table

from bastide.cli.app import HubOption, UserError, app, console
from bastide.cli.governance_cmd import AsOption
from bastide.hub import Hub


def _cell(value: object) -> str:
    return "[dim]NULL[/]" if value is None else str(value)


@app.command()
def query(
    sql: Annotated[
        str | None, typer.Argument(help="One SELECT (or WITH … SELECT) over the project's tables.")
    ] = None,
    project: Annotated[
        str, typer.Option("--project", "-p", help="The project whose workspace to use.")
    ] = "",
    hub: HubOption = None,
    as_user: AsOption = None,
    save: Annotated[
        str | None,
        typer.Option("--save", help="Keep the whole result as this output of the workspace."),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="With --save: replace an output of that name.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to print at most.")] = 50,
    tables: Annotated[
        bool, typer.Option("--tables", help="List the workspace's tables and columns.")
    ] = False,
) -> None:
    """Run a read-only query in a project's sandboxed workspace: it sees only the
    project's extract and saved outputs; results stay in the workspace."""
    if not project:
        raise UserError("which project? pass --project NAME")
    if as_user is None:
        raise UserError("who is acting? pass --as USER or set BASTIDE_USER")
    if (sql is None) != tables:
        raise UserError("give one query, or --tables")
    from bastide.workspace import Workspace

    with Workspace(Hub.locate(hub), project, as_user) as ws:
        if tables:
            listing = Table("table", "columns", title=f"workspace of {project}")
            for name, columns in ws.tables().items():
                listing.add_row(name, ", ".join(columns))
            console.print(listing)
            return
        assert sql is not None
        if save is not None:
            info = ws.save(save, sql, replace=replace)
            console.print(
                f"Output {info.name!r}: {info.rows:,} row(s) saved in the workspace of "
                f"{project!r} (query it as a table).",
                highlight=False,
            )
            return
        result = ws.query(sql)
    _show(result, limit)


def _show(result: pa.Table, limit: int) -> None:
    shown = result.slice(0, limit)
    table = Table(*result.column_names)
    for row in shown.to_pylist():
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
    more = result.num_rows > limit
    text = (
        f"first {limit} of {result.num_rows:,} rows (--limit)"
        if more
        else f"{result.num_rows:,} row(s)"
    )
    console.print(text, highlight=False)
