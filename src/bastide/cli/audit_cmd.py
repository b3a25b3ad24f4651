"""``bastide audit verify | show | checkpoint`` and ``bastide audit witness init | add``."""

from __future__ import annotations

from pathlib import Path
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
        if not result.witnesses:
            console.print(
                "[yellow]no checkpoint witness: a rollback of both the database and the head, "
                "or a rewrite by a key holder, cannot be detected (docs/audit.md)[/]"
            )
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


@audit_app.command("checkpoint")
def audit_checkpoint(as_user: AsOption = None, hub: HubOption = None) -> None:
    """Verify the log, then have every witness countersign it up to its latest entry."""
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        report = gov.checkpoint_audit(actor)
    for made in report.made:
        console.print(
            f"witness {made.witness}: checkpoint {made.n} at entry {made.seq}", highlight=False
        )
    if not report.made:
        console.print(f"every witness already holds a checkpoint at entry {report.seq}")


witness_app = typer.Typer(
    help="Witnesses: auditor keys that countersign checkpoints of the audit log.",
    no_args_is_help=True,
)
audit_app.add_typer(witness_app, name="witness")

KeyPath = Annotated[
    Path | None,
    typer.Option("--key", help="The auditor's Ed25519 key file (kept outside the hub)."),
]
Module = Annotated[str | None, typer.Option("--pkcs11-module", help="PKCS#11 library.")]
Token = Annotated[str | None, typer.Option("--token", help="The auditor's token label.")]
Label = Annotated[str, typer.Option("--label", help="Key label on the token.")]
PinEnv = Annotated[
    str, typer.Option("--pin-env", help="Environment variable holding the token's user PIN.")
]


@witness_app.command("init")
def witness_init(
    key: KeyPath = None,
    module: Module = None,
    token: Token = None,
    label: Label = "bastide-witness",
    pin_env: PinEnv = "BASTIDE_WITNESS_PIN",
) -> None:
    """Create an auditor's signing key: an Ed25519 key file (--key) or an EC P-256 key
    generated on the auditor's PKCS#11 token (--pkcs11-module, --token). It touches no hub.
    """
    from bastide.audit.witness_keys import create_witness_key

    fingerprint = create_witness_key(key, module, token, label, pin_env)
    console.print(f"witness key created: {fingerprint}", highlight=False)


@witness_app.command("add")
def witness_add(
    name: Annotated[str, typer.Argument(help="A name for the witness, e.g. the auditor's.")],
    store: Annotated[
        Path,
        typer.Option("--store", help="Append-only checkpoint file outside the hub directory."),
    ],
    key: KeyPath = None,
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="Base64 DER public key (default: read from the key)."),
    ] = None,
    module: Module = None,
    token: Token = None,
    label: Label = "bastide-witness",
    pin_env: PinEnv = "BASTIDE_WITNESS_PIN",
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Register a witness in bastide.toml (auditors); it countersigns the log at once."""
    from bastide.audit.witness_keys import witness_table

    table = witness_table(store, key, public_key, module, token, label, pin_env)
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        description = gov.add_witness(actor, name, table)
    console.print(f"added {description}", highlight=False)
