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
