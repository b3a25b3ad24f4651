"""``bastide keys status | rotate | shred``: the hub's master key and the data keys it wraps.

Operators only (``manage_keys``); each command is a governed, audited key operation
(`bastide.services.keys`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from bastide.cli.app import HubOption, app, console
from bastide.cli.governance_cmd import AsOption, governed
from bastide.services import keys as key_service

keys_app = typer.Typer(help="Master key, data keys, rotation and crypto-shredding.")
app.add_typer(keys_app, name="keys")


@keys_app.command("status")
def status(hub: HubOption = None, as_user: AsOption = None) -> None:
    """Show the key provider, the master key id and how many data keys it wraps."""
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        s = key_service.key_status(gov, actor)
    console.print(f"provider:   {s.provider}", highlight=False)
    console.print(f"master key: {s.master}", highlight=False)
    if s.rotation_pending:
        console.print("[yellow]a rotation was interrupted: run 'bastide keys rotate'[/]")
    table = Table("kind", "data keys", title="wrapped data keys")
    for kind, count in s.keys.items():
        table.add_row(kind, str(count))
    console.print(table)
    others = {m: n for m, n in s.by_master.items() if m != s.master}
    for master, count in others.items():
        console.print(f"[yellow]{count} data key(s) wrapped by another master key {master}[/]")
    if s.shredded:
        console.print("shredded: " + ", ".join(s.shredded), highlight=False)


@keys_app.command("rotate")
def rotate(hub: HubOption = None, as_user: AsOption = None) -> None:
    """Create a new master key, re-wrap every data key under it, destroy the old one.

    No data file is rewritten. An interrupted rotation is finished by running it again.
    """
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        report = key_service.rotate_master_key(gov, actor)
    console.print(
        f"Re-wrapped {report.rewrapped} data key(s) under the new master key "
        f"{report.new_master}; the old master key {report.old_master} is destroyed.",
        highlight=False,
    )
    if report.already_done:
        console.print(f"({report.already_done} were already re-wrapped by an earlier run)")


@keys_app.command("shred")
def shred(
    project: Annotated[str, typer.Argument(help="The project whose data key to destroy.")],
    hub: HubOption = None,
    as_user: AsOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask for confirmation (it cannot be undone).")
    ] = False,
) -> None:
    """Destroy a project's data key: its extracts can never be read again (irreversible)."""
    if not yes and not typer.confirm(
        f"Destroy the data key of project {project!r}? Its data will be unreadable for ever.",
        default=False,
    ):
        raise typer.Exit(1)
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        key_service.shred_project_key(gov, actor, project)
    console.print(
        f"Project {project!r}: data key destroyed; its data can never be read again.",
        highlight=False,
    )
