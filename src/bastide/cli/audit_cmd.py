"""``bastide audit verify`` and ``bastide audit show`` (auditors)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bastide.cli.app import HubOption, app, console, err_console
from bastide.cli.governance_cmd import AsOption, governed

audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(as_user: AsOption = None, hub: HubOption = None) -> None:
    """Recompute the keyed hash chain and check the signed head; name the first bad entry.

    Exit code 0 when intact, 1 when tampered.
    """
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        result = gov.verify_audit(actor)
    if result.ok:
        console.print(f"[green]{result}[/]", highlight=False)
        return
    err_console.print(f"[bold red]{result}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@audit_app.command("show")
def audit_show(
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="How many entries (newest first).")
    ] = 20,
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Show the latest audit entries."""
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        entries = gov.audit_entries(actor, limit)
    table = Table()
    for name in ("seq", "time (UTC)", "actor", "action", "outcome"):
        table.add_column(name, no_wrap=True)
    table.add_column("project · object · reason · details", overflow="fold")
    colours = {"denied": "red", "failed": "yellow", "succeeded": "green", "allowed": "green"}
    for e in entries:
        about = " · ".join(p for p in (e.project, e.object, e.reason) if p)
        if e.details != "{}":
            about += f"\n{e.details}"
        table.add_row(
            str(e.seq),
            e.ts[:19].replace("T", " "),
            e.actor,
            e.action,
            f"[{colours.get(e.outcome, 'white')}]{e.outcome}[/]",
            escape(about),
        )
    console.print(table)
