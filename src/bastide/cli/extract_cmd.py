"""``bastide extract``: materialise an approved project's perimeter (operators)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bastide.cli.app import HubOption, UserError, app, console
from bastide.cli.governance_cmd import AsOption, governed


@app.command()
def extract(
    project: Annotated[
        str | None, typer.Argument(help="The approved or active project to extract.")
    ] = None,
    hub: HubOption = None,
    as_user: AsOption = None,
    sweep: Annotated[
        bool,
        typer.Option(
            "--sweep",
            help="Instead: expire projects past their date and destroy the extract key of "
            "every ended project (for a scheduler).",
        ),
    ] = False,
) -> None:
    """Extract a project's granted tables, columns, population and period from the
    current warehouse snapshot, with identifiers re-keyed for this project and encrypted
    under its own key. A new extract replaces the previous one."""
    if sweep == (project is not None):
        raise UserError("name a project to extract, or pass --sweep (not both)")
    with governed(hub, as_user) as (gov, identity):
        assert identity is not None
        if sweep:
            from bastide.projects.retire import retire_ended

            destroyed = retire_ended(gov, identity)
            if destroyed:
                console.print("Extract keys destroyed: " + ", ".join(destroyed), highlight=False)
            else:
                console.print("No ended project holds an extract key.")
            return
        assert project is not None
        from bastide.projects import extract_project

        manifest = extract_project(gov, identity, project)
    table = Table("table", "columns", "rows", title=f"extract of {project}")
    for name, entry in sorted(manifest.tables.items()):
        table.add_row(name, str(len(entry.columns)), f"{entry.rows:,}")
    console.print(table)
    console.print(
        f"Project {project!r}: {manifest.persons:,} person(s) from snapshot {manifest.snapshot}, "
        "encrypted under the project's key.",
        highlight=False,
    )
