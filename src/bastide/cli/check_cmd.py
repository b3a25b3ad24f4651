"""``bastide check``: the data-quality report of a warehouse snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastide.cli.app import HubOption, UserError, app, console


@app.command()
def check(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="HTML report path (default: the hub's reports directory)."),
    ] = None,
    snapshot: Annotated[
        int | None, typer.Option("--snapshot", help="Snapshot version (default: current).")
    ] = None,
    all_checks: Annotated[
        bool, typer.Option("--all", help="List passing checks too, not only failures.")
    ] = False,
    hub: HubOption = None,
) -> None:
    """Conformance, completeness and plausibility checks of the OMOP tables (DQD-style),
    shown as a table and written as an HTML report."""
    from bastide.hub import Hub
    from bastide.quality.warehouse import check_snapshot

    the_hub = Hub.locate(hub)
    report, version = check_snapshot(the_hub, snapshot)
    if report is None:
        raise UserError("the warehouse is empty: ingest an extract first")
    path = out or the_hub.paths.reports / f"quality-snapshot-{version}.html"
    report.to_html(path)
    console.print(report.to_rich(failures_only=not all_checks))
    console.print(f"HTML report: [bold]{path}[/]")
