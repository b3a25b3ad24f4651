"""``bastide snapshots`` and ``bastide gc``: the warehouse's versions and their upkeep."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bastide.cli.app import HubOption, app, console
from bastide.hub import Hub
from bastide.storage import Warehouse


@app.command()
def snapshots(hub: HubOption = None) -> None:
    """List the warehouse's committed snapshots (the current one is marked *)."""
    wh = Warehouse(Hub.locate(hub))
    current = wh.current_version()
    infos = wh.snapshots()
    if not infos:
        console.print("The warehouse has no snapshot yet.")
        return
    table = Table("version", "created", "message", "tables", "rows", title="snapshots")
    for s in infos:
        table.add_row(
            f"{s.version}{' *' if s.version == current else ''}",
            s.created.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            s.message,
            str(s.tables),
            f"{s.rows:,}",
        )
    console.print(table)


@app.command()
def gc(
    hub: HubOption = None,
    keep: Annotated[
        int | None,
        typer.Option("--keep", min=1, help="Keep only the newest N snapshots (default: all)."),
    ] = None,
) -> None:
    """Delete what no kept snapshot needs: leftovers of interrupted writes, old versions.

    Also removes the staging of interrupted ingests (destroying their staging keys) and
    records in the audit log the outcome of runs interrupted after their audited intent."""
    from bastide.ingest.records import reconcile_ingests
    from bastide.ingest.staging import clean_orphans
    from bastide.projects.extract import reconcile_extracts

    the_hub = Hub.locate(hub)
    orphans = clean_orphans(the_hub)
    for line in [*reconcile_ingests(the_hub), *reconcile_extracts(the_hub)]:
        console.print(line, highlight=False)
    report = Warehouse(the_hub).gc(keep=keep)
    console.print(
        f"Removed the staging of {orphans.runs} interrupted ingest(s): {orphans.folders} "
        f"folder(s) ({orphans.bytes:,} bytes), {orphans.keys} staging key(s) destroyed."
    )
    console.print(
        f"Removed {report.files} file(s) ({report.bytes:,} bytes), "
        f"{report.manifests} snapshot manifest(s), {report.staging_dirs} staging dir(s)."
    )
