"""``bastide study``: check a study file; run it in a project's workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bastide.cli.app import HubOption, UserError, app, console
from bastide.cli.governance_cmd import AsOption
from bastide.hub import Hub

study_app = typer.Typer(
    help="Studies: cohorts and analyses from a study file.", no_args_is_help=True
)
app.add_typer(study_app, name="study")

StudyFile = Annotated[Path, typer.Argument(help="The study file (YAML or JSON).")]


@study_app.command("check")
def study_check(study_file: StudyFile) -> None:
    """Read and validate a study file; list its cohorts, analyses and the tables and
    columns it needs in a project's extract."""
    from bastide.studies import load_study
    from bastide.studies.report import describe
    from bastide.studies.runner import required_columns
    from bastide.studies.study import analysis_type, cohorts_of

    study = load_study(study_file)
    console.print(
        f"[bold]{study.title or study.name}[/] — study {study.name} version {study.version}, "
        f"digest {study.digest[:16]}",
        highlight=False,
    )
    for definition in study.cohorts:
        console.print(f"\n[bold]cohort {definition.name}[/] (version {definition.version})")
        for line in describe(definition):
            console.print(f"  {line}", highlight=False)
    analyses = Table("analysis", "type", "cohorts", title="analyses")
    for spec in study.analyses:
        analyses.add_row(spec.name, analysis_type(spec), ", ".join(cohorts_of(spec)))
    console.print(analyses)
    needs = Table("table", "columns", title="what the project's extract must hold")
    for table, columns in sorted(required_columns(study).items()):
        needs.add_row(table, ", ".join(sorted(columns)))
    console.print(needs)


@study_app.command("run")
def study_run(
    study_file: StudyFile,
    project: Annotated[
        str, typer.Option("--project", "-p", help="The project whose workspace runs it.")
    ] = "",
    hub: HubOption = None,
    as_user: AsOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output directory inside the project area (default: "
            "projects/<p>/workspace/studies/<study>/<time>).",
        ),
    ] = None,
) -> None:
    """Run a study on a project's extract, in its sandboxed workspace. Outputs stay in the
    project area until a release request takes them out."""
    if not project:
        raise UserError("which project? pass --project NAME")
    if as_user is None:
        raise UserError("who is acting? pass --as USER or set BASTIDE_USER")
    from bastide.studies import load_study
    from bastide.studies.workspace import run_in_workspace, studies_dir

    study = load_study(study_file)
    h = Hub.locate(hub)
    directory = None
    if out is not None:
        area = studies_dir(h, project).resolve()
        directory = out.resolve()
        if not directory.is_relative_to(area):
            raise UserError(f"--out must lie inside the project area ({area})")
    with console.status(f"running study {study.name}…") as status:

        def progress(message: str) -> None:
            status.update(f"study {study.name}: {message}")

        run = run_in_workspace(h, project, as_user, study, directory=directory, progress=progress)
    summary = Table("cohort", "persons", "periods", title=f"study {study.name}")
    for name, cohort in run.cohorts.items():
        summary.add_row(name, f"{cohort.persons:,}", f"{cohort.table.num_rows:,}")
    console.print(summary)
    for name, cohort in run.cohorts.items():
        for warning in cohort.warnings:
            console.print(f"[yellow]warning[/] cohort {name}: {warning}", highlight=False)
    tables = sum(1 for o in run.manifest["outputs"] if o["kind"] == "table")
    figures = sum(1 for o in run.manifest["outputs"] if o["kind"] == "figure")
    console.print(
        f"{tables} tables, {figures} figures and the report in {run.directory}\n"
        "Nothing has left the project: ask for a release with 'bastide release request'.",
        highlight=False,
    )


ProjectOption = Annotated[
    str, typer.Option("--project", "-p", help="The project whose study outputs to use.")
]
RunArgument = Annotated[
    Path | None,
    typer.Argument(help="A run directory (default: the project's latest run of any study)."),
]


def _run_directory(hub: Hub, project: str, run: Path | None) -> Path:
    from bastide.studies.workspace import list_runs

    if run is not None:
        return run
    runs = list_runs(hub, project)
    if not runs:
        raise UserError(f"project {project!r} has no study run yet")
    return max(runs, key=lambda p: p.name)


@study_app.command("show")
def study_show(
    run: RunArgument = None,
    project: ProjectOption = "",
    table: Annotated[
        str | None, typer.Option("--table", help="Print this table of the run.")
    ] = None,
    hub: HubOption = None,
    as_user: AsOption = None,
) -> None:
    """List a run's outputs, or print one of its tables, to a member of the project (the
    outputs stay encrypted in the project area)."""
    if not project:
        raise UserError("which project? pass --project NAME")
    if as_user is None:
        raise UserError("who is acting? pass --as USER or set BASTIDE_USER")
    from bastide.studies.workspace import open_run

    h = Hub.locate(hub)
    files = open_run(h, project, as_user, _run_directory(h, project, run))
    if table is not None:
        kinds = {e["name"]: e["kind"] for e in files.entries()}
        if kinds.get(table, "table") != "table":
            raise UserError(
                f"{table!r} is a {kinds[table]} of the run, not a table: write the report "
                f"and figures in the workspace with 'bastide study export --project {project}'"
            )
        data = files.table(table)
        shown = Table(*data.column_names, title=table)
        for row in data.to_pylist():
            shown.add_row(*("" if v is None else str(v) for v in row.values()))
        console.print(shown)
        return
    listing = Table(
        "output", "kind", "title", title=f"{files.manifest['study']} — {files.directory.name}"
    )
    for entry in files.entries():
        kind = entry["kind"]
        if kind == "table":
            kind = f"table ({entry['disclosure']['kind']})"
        listing.add_row(entry["name"], kind, entry["title"])
    console.print(listing)


@study_app.command("export")
def study_export(
    run: RunArgument = None,
    project: ProjectOption = "",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Directory inside the project's workspace (default: "
            "projects/<p>/workspace/exports/<study>/<run>).",
        ),
    ] = None,
    hub: HubOption = None,
    as_user: AsOption = None,
) -> None:
    """Write a run's HTML report and PNG figures as files to open, inside the project's
    workspace (owner-only, removed when the project ends). Nothing leaves the hub: taking
    an output out is a release."""
    if not project:
        raise UserError("which project? pass --project NAME")
    if as_user is None:
        raise UserError("who is acting? pass --as USER or set BASTIDE_USER")
    from bastide.studies.workspace import export_run

    h = Hub.locate(hub)
    written = export_run(h, project, as_user, _run_directory(h, project, run), out)
    for path in written:
        console.print(f"  {path}", highlight=False)
    console.print(
        f"{len(written)} file(s) written in the workspace of {project!r}; "
        "they stay in the hub (a release takes a table out).",
        highlight=False,
    )


@study_app.command("release")
def study_release(
    output: Annotated[str, typer.Argument(help="The name of a table of the run.")],
    run: RunArgument = None,
    project: ProjectOption = "",
    justification: Annotated[
        str, typer.Option("--justification", help="Why this output is needed outside.")
    ] = "",
    exception: Annotated[
        str, typer.Option("--exception", help="Why points flagged for review are acceptable.")
    ] = "",
    profile: Annotated[
        str | None, typer.Option("--profile", help="Rule profile (default: the hub's).")
    ] = None,
    hub: HubOption = None,
    as_user: AsOption = None,
) -> None:
    """Ask for a table of a study run to be released: the roles of its columns come from
    the run's manifest; the disclosure checks run at once; a steward decides."""
    if not project:
        raise UserError("which project? pass --project NAME")
    if as_user is None:
        raise UserError("who is acting? pass --as USER or set BASTIDE_USER")
    from bastide.studies.workspace import request_release

    h = Hub.locate(hub)
    view = request_release(
        h,
        project,
        as_user,
        _run_directory(h, project, run),
        output,
        justification,
        exception=exception,
        profile=profile,
    )
    console.print(
        f"Release {view.id} of {output!r}: automatic checks {view.status}. "
        f"A steward reviews it: bastide release review {view.id} --approve|--reject",
        highlight=False,
    )
