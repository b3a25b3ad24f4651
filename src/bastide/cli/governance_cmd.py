"""``bastide user``, ``bastide project`` and ``bastide catalog``.

In embedded mode the CLI acts as the local account named by ``--as`` or
``$BASTIDE_USER`` (whoever runs it already holds the hub's key file). A production
deployment authenticates people with OIDC tokens through the REST API instead.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bastide.cli.app import HubOption, UserError, app, console
from bastide.hub import Hub

if TYPE_CHECKING:  # governance (SQLAlchemy, Alembic) loads only when a command runs
    from bastide.governance import Governance, Identity, ProjectView


def _check_user_name(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise UserError("--as: the user name is empty; pass --as USER or set BASTIDE_USER")
    return value


AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="BASTIDE_USER",
        callback=_check_user_name,
        help="Act as this local user (default: $BASTIDE_USER).",
        show_default=False,
    ),
]
NoteOption = Annotated[str, typer.Option("--note", help="A comment kept in the project history.")]

user_app = typer.Typer(help="Local user accounts and their roles.", no_args_is_help=True)
project_app = typer.Typer(
    help="Research projects: request, review, approve...", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(project_app, name="project")


@contextmanager
def governed(
    hub: Path | None, as_user: str | None, *, need_actor: bool = True
) -> Iterator[tuple[Governance, Identity | None]]:
    """The hub's governance service and the acting identity."""
    from bastide.governance import Governance

    gov = Governance(Hub.locate(hub))
    try:
        if as_user is None and need_actor:
            raise UserError("who is acting? pass --as USER or set BASTIDE_USER")
        yield gov, gov.identity(as_user) if as_user else None
    finally:
        gov.close()


def _actor(identity: Identity | None) -> Identity:
    assert identity is not None
    return identity


def _read_mapping(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise UserError(f"{path}: not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a table of fields")
    return data


def _table(*names: str) -> Table:
    """A Rich table whose first columns (names, states) never wrap; the last one does."""
    table = Table()
    for i, name in enumerate(names):
        last = i == len(names) - 1
        table.add_column(name, no_wrap=not last, overflow="fold" if last else "ellipsis")
    return table


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "—"


# -- users ----------------------------------------------------------------------------------
@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name (lower case).")],
    role: Annotated[
        list[str],
        typer.Option("--role", help="operator, steward, researcher or auditor (repeatable)."),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Add a local account. The hub's first account needs no --as and must be an operator."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with governed(hub, as_user, need_actor=False) as (gov, actor):
        created = gov.add_user(actor, name, role, password)
    console.print(f"Added user [bold]{created.name}[/] ({', '.join(sorted(created.roles))})")


@user_app.command("list")
def user_list(as_user: AsOption = None, hub: HubOption = None) -> None:
    """List accounts and their roles."""
    with governed(hub, as_user) as (gov, actor):
        accounts = gov.users(_actor(actor))
    table = _table("user", "roles", "provider", "password", "created (UTC)")
    for a in accounts:
        table.add_row(
            a.name,
            ", ".join(a.roles),
            a.provider,
            "set" if a.has_password else "—",
            _when(a.created_at),
        )
    console.print(table)


# -- projects -------------------------------------------------------------------------------
def _show(project: ProjectView) -> None:
    console.print(f"[bold]{project.name}[/] — {project.title}")
    console.print(f"  state:         {project.state}")
    console.print(f"  requester:     {project.requester}")
    console.print(f"  members:       {', '.join(project.members)}")
    console.print(f"  legal basis:   {project.legal_basis}")
    console.print(f"  authorisation: {project.authorisation}")
    console.print(f"  expires:       {_when(project.expires_at)}")
    for label, scope in (("requested", project.requested), ("granted", project.granted)):
        if scope is not None:
            console.print(
                f"  {label}:",
                json.dumps(scope.to_dict(), sort_keys=True),
                highlight=False,
                soft_wrap=True,
            )
    for step in project.history:
        note = f" — {step.note}" if step.note else ""
        console.print(
            f"    {_when(step.at)}  {step.from_state or '·'} → {step.to_state} "
            f"by {step.actor}{note}",
            highlight=False,
        )


@project_app.command("request")
def project_request(
    file: Annotated[
        Path,
        typer.Argument(
            help="The request as TOML (or JSON): name, title, purpose, legal_basis, "
            "authorisation, \\[tables], \\[population], \\[period].",
            exists=True,
            dir_okay=False,
        ),
    ],
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Request access for a project (researchers)."""
    from bastide.governance import ProjectRequest

    request = ProjectRequest.from_dict(_read_mapping(file))
    with governed(hub, as_user) as (gov, actor):
        project = gov.request_project(_actor(actor), request)
    console.print(f"Requested project [bold]{project.name}[/] (state: {project.state})")


@project_app.command("list")
def project_list(as_user: AsOption = None, hub: HubOption = None) -> None:
    """List the projects you may see."""
    with governed(hub, as_user) as (gov, actor):
        projects = gov.projects(_actor(actor))
    table = _table("project", "state", "requester", "expires (UTC)", "title")
    for p in projects:
        table.add_row(p.name, p.state, p.requester, _when(p.expires_at), p.title)
    console.print(table)


@project_app.command("show")
def project_show(name: str, as_user: AsOption = None, hub: HubOption = None) -> None:
    """Show a project: scope requested and granted, members, history."""
    with governed(hub, as_user) as (gov, actor):
        _show(gov.project(_actor(actor), name))


@project_app.command("review")
def project_review(
    name: str, note: NoteOption = "", as_user: AsOption = None, hub: HubOption = None
) -> None:
    """Take a requested project under review (stewards, not the requester)."""
    with governed(hub, as_user) as (gov, actor):
        _done(gov.review_project(_actor(actor), name, note))


@project_app.command("approve")
def project_approve(
    name: str,
    expires: Annotated[
        str, typer.Option("--expires", help="Last day of validity, YYYY-MM-DD (UTC).")
    ],
    scope: Annotated[
        Path | None,
        typer.Option(
            "--scope",
            help="Granted scope as TOML/JSON (\\[tables], \\[population], \\[period]); "
            "default: as requested. It may only narrow the request.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    note: NoteOption = "",
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Approve a project under review (stewards, not the requester)."""
    try:
        until = date.fromisoformat(expires)
    except ValueError:
        raise UserError(f"--expires: expected YYYY-MM-DD, got {expires!r}") from None
    from bastide.governance import Scope

    granted = Scope.from_dict(_read_mapping(scope)) if scope else None
    with governed(hub, as_user) as (gov, actor):
        _done(gov.approve_project(_actor(actor), name, expires=until, granted=granted, note=note))


@project_app.command("reject")
def project_reject(
    name: str, note: NoteOption = "", as_user: AsOption = None, hub: HubOption = None
) -> None:
    """Reject a project under review (stewards, not the requester)."""
    with governed(hub, as_user) as (gov, actor):
        _done(gov.reject_project(_actor(actor), name, note))


@project_app.command("activate")
def project_activate(
    name: str, note: NoteOption = "", as_user: AsOption = None, hub: HubOption = None
) -> None:
    """Start an approved project (stewards, operators)."""
    with governed(hub, as_user) as (gov, actor):
        _done(gov.activate_project(_actor(actor), name, note))


@project_app.command("revoke")
def project_revoke(
    name: str, note: NoteOption = "", as_user: AsOption = None, hub: HubOption = None
) -> None:
    """Withdraw an approved or active project's authorisation (stewards)."""
    with governed(hub, as_user) as (gov, actor):
        _done(gov.revoke_project(_actor(actor), name, note))


@project_app.command("close")
def project_close(
    name: str, note: NoteOption = "", as_user: AsOption = None, hub: HubOption = None
) -> None:
    """Close a project (its requester, or a steward)."""
    with governed(hub, as_user) as (gov, actor):
        _done(gov.close_project(_actor(actor), name, note))


@project_app.command("add-member")
def project_add_member(
    name: str, user: str, as_user: AsOption = None, hub: HubOption = None
) -> None:
    """Add a researcher to a project (stewards)."""
    with governed(hub, as_user) as (gov, actor):
        project = gov.add_member(_actor(actor), name, user)
    console.print(f"{user} is a member of [bold]{project.name}[/]: {', '.join(project.members)}")


def _done(project: ProjectView) -> None:
    expiry = f", expires {_when(project.expires_at)} UTC" if project.expires_at else ""
    console.print(f"Project [bold]{project.name}[/] is now {project.state}{expiry}")


# -- catalogue ------------------------------------------------------------------------------
@app.command("catalog")
def catalog(
    table: Annotated[str | None, typer.Argument(help="Show this table's variables.")] = None,
    document: Annotated[
        bool,
        typer.Option(
            "--document",
            help="First (re)draw table and variable documentation from the OMOP and SNDS "
            "specifications (of TABLE only, when given).",
        ),
    ] = False,
    source: Annotated[
        str | None, typer.Option("--source", help="List only tables of this source.")
    ] = None,
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Browse the catalogue: tables with source, snapshot and rows, or one table's variables."""
    with governed(hub, as_user) as (gov, actor):
        if document:
            written = gov.document_variables(_actor(actor), [table] if table else None)
            console.print(f"Documented {written} variables")
        if table is None:
            datasets = gov.datasets(_actor(actor))
        else:
            info, variables = gov.describe(_actor(actor), table)
    if table is None:
        shown = _table("table", "source", "snapshot", "rows", "variables", "description")
        for d in datasets:
            if source is None or d.source == source:
                rows = f"{d.row_count:,}" if d.row_count is not None else "—"
                shown.add_row(
                    d.name,
                    d.source,
                    d.snapshot_version or "—",
                    rows,
                    str(d.variables),
                    d.description[:80],
                )
        console.print(shown)
        return
    rows = f"{info.row_count:,}" if info.row_count is not None else "—"
    console.print(
        f"[bold]{info.name}[/] ({info.source}; snapshot {info.snapshot_version or '—'}; "
        f"{rows} rows)",
        highlight=False,
    )
    if info.description:
        console.print(info.description, highlight=False, soft_wrap=True)
    shown = _table("variable", "type", "required", "description")
    for v in variables:
        shown.add_row(v.name, v.type, "yes" if v.required else "", v.description)
    console.print(shown)
