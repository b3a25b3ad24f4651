"""``bastide release request|review|list|show``: outputs leave a project only this way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from bastide.cli.app import HubOption, app, console
from bastide.cli.governance_cmd import AsOption, governed

if TYPE_CHECKING:
    from bastide.release import ReleaseView

release_app = typer.Typer(
    help="Release outputs: request, automatic disclosure checks, a steward's decision.",
    no_args_is_help=True,
)
app.add_typer(release_app, name="release")

_COLOURS = {"pass": "green", "review": "yellow", "fail": "red"}


def _summary(view: ReleaseView) -> None:
    colour = _COLOURS[view.status.value]
    console.print(
        f"Release [bold]{view.id}[/] of {escape(view.output)} ({view.project}): checks "
        f"[{colour}]{view.status.value}[/], {view.state}",
        highlight=False,
    )
    for check in view.record.checks:
        mark = _COLOURS[check.result.value]
        console.print(
            f"  [{mark}]{check.result.value:6}[/] {check.check}: {escape(check.reason)}",
            highlight=False,
            soft_wrap=True,
        )


@release_app.command("request")
def release_request(
    project: Annotated[str, typer.Argument(help="The project the output comes from.")],
    output_file: Annotated[
        str,
        typer.Argument(help="A CSV file, or the name of an output saved in the workspace."),
    ],
    justification: Annotated[
        str, typer.Option("--justification", help="Why this output is needed outside.")
    ],
    exception: Annotated[
        str,
        typer.Option("--exception", help="Why points flagged for review are acceptable."),
    ] = "",
    kind: Annotated[
        str, typer.Option("--kind", help="frequency, rate, magnitude or survival.")
    ] = "frequency",
    name: Annotated[
        str | None, typer.Option("--name", help="Output name (default: the file's stem).")
    ] = None,
    dim: Annotated[
        list[str] | None,
        typer.Option("--dim", help="A dimension column (repeatable; default: text columns)."),
    ] = None,
    count: Annotated[
        list[str] | None,
        typer.Option("--count", help="A count column (repeatable; default by kind)."),
    ] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="The summed column of a magnitude table.")
    ] = None,
    population: Annotated[
        str | None,
        typer.Option("--population", help="The population (cohort) counted (default: all)."),
    ] = None,
    total_label: Annotated[
        str, typer.Option("--total-label", help="The label of margin rows.")
    ] = "Total",
    profile: Annotated[
        str | None, typer.Option("--profile", help="Rule profile (default: the hub's).")
    ] = None,
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Ask for an output to be released; the automatic checks run at once."""
    from bastide.disclosure import Output
    from bastide.release import Releases
    from bastide.release import files as release_files

    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        path = release_files.resolve_output(gov.hub, project, output_file)
        table = release_files.read_output(gov.hub, project, path)
        output = Output.of(
            name or Path(path).stem,
            table,
            kind,
            dims=dim or None,
            counts=count or None,
            value=value,
            total_label=total_label,
            population=population,
        )
        view = Releases(gov).request(
            actor, project, output, justification, exception=exception, profile=profile
        )
    _summary(view)
    console.print(f"A steward reviews it: bastide release review {view.id} --approve|--reject")


@release_app.command("review")
def release_review(
    release_id: Annotated[int, typer.Argument(help="The release request number.")],
    approve: Annotated[bool, typer.Option("--approve", help="Release the output.")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="Refuse the release.")] = False,
    note: Annotated[str, typer.Option("--note", help="A comment kept with the record.")] = "",
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Approve or reject a release request (a steward who did not request it)."""
    from bastide.cli.app import UserError
    from bastide.release import Releases

    if approve == reject:
        raise UserError("say --approve or --reject")
    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        view = Releases(gov).review(actor, release_id, approve=approve, note=note)
    _summary(view)
    if view.path is not None:
        console.print(f"Written to {view.path}", highlight=False)


@release_app.command("list")
def release_list(
    project: Annotated[str, typer.Argument(help="The project.")],
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """List a project's release requests."""
    from bastide.release import Releases

    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        views = Releases(gov).list(actor, project)
    table = Table()
    for column in ("id", "output", "kind", "profile", "checks", "state", "by", "decided by"):
        table.add_column(column, no_wrap=True)
    for v in views:
        colour = _COLOURS[v.status.value]
        table.add_row(
            str(v.id),
            escape(v.output),
            v.kind,
            v.profile,
            f"[{colour}]{v.status.value}[/]",
            v.state,
            v.requester,
            v.decided_by or "—",
        )
    console.print(table)


@release_app.command("show")
def release_show(
    release_id: Annotated[int, typer.Argument(help="The release request number.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole record.")] = False,
    as_user: AsOption = None,
    hub: HubOption = None,
) -> None:
    """Show a release request's record: checks, reasons, suppressed cells, hashes."""
    from bastide.release import Releases

    with governed(hub, as_user) as (gov, actor):
        assert actor is not None
        view = Releases(gov).show(actor, release_id)
    if as_json:
        typer.echo(json.dumps(view.record.to_dict(), indent=1, ensure_ascii=False))
        return
    _summary(view)
    console.print(f"  original sha256 {view.original_sha256}", highlight=False)
    console.print(f"  released sha256 {view.released_sha256}", highlight=False)
