"""``bastide ingest``: load an extract into the warehouse as one new snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bastide.cli.app import HubOption, app, console
from bastide.cli.progress import RichProgress


@app.command()
def ingest(
    directory: Annotated[
        Path, typer.Argument(help="The extract: an SNDS directory or one hospital's OMOP CSVs.")
    ],
    source: Annotated[
        str, typer.Option("--source", help="Layout of the extract: 'snds' or 'omop'.")
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Source name (default: 'snds', or the directory name, e.g. a hospital's FINESS).",
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Ground truth of a synthetic extract, to measure linkage precision and recall.",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding of CSV files (default: detected)."),
    ] = None,
    accept_shrink: Annotated[
        bool,
        typer.Option(
            "--accept-shrink",
            help="Publish even if the source loses more than \\[ingest] max_shrink of its "
            "persons or rows (the acceptance is audited).",
        ),
    ] = False,
    hub: HubOption = None,
) -> None:
    """Validate, pseudonymise, link and harmonise an extract into the OMOP warehouse.

    Every row is loaded or quarantined with a reason; nothing is written unless the whole
    run succeeds. Re-running on unchanged files does nothing."""
    from bastide.hub import Hub
    from bastide.ingest import ingest as run_ingest

    the_hub = Hub.locate(hub)
    with RichProgress(console) as progress:
        result = run_ingest(
            the_hub,
            directory,
            source,
            name=name,
            truth=truth,
            encoding=encoding,
            progress=progress,
            accept_shrink=accept_shrink,
        )
    console.print(result.render())
