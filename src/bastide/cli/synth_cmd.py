"""``bastide synth``: realistic synthetic SNDS and hospital extracts with their ground truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bastide.cli.app import app, console


@app.command()
def synth(
    persons: Annotated[
        int, typer.Option("--persons", min=1, help="Number of people in the national extract.")
    ],
    seed: Annotated[
        int,
        typer.Option(
            "--seed", min=0, help="Random seed: the same seed and options give identical files."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output directory (created; must be empty if it exists).")
    ],
    hospitals: Annotated[
        int,
        typer.Option("--hospitals", help="Number of hospitals delivering an OMOP extract (1-20)."),
    ] = 4,
    fmt: Annotated[str, typer.Option("--format", help="SNDS file format: csv or parquet.")] = "csv",
    encoding: Annotated[
        str, typer.Option("--encoding", help="SNDS CSV text encoding: utf-8 or latin-1.")
    ] = "utf-8",
    compress: Annotated[
        str, typer.Option("--compress", help="SNDS file compression: none or gzip.")
    ] = "none",
    defects: Annotated[
        float,
        typer.Option(
            "--defects",
            metavar="RATE",
            help=(
                "Share of the rows of the affected tables planted with one defect the "
                "border must quarantine (0 gives clean files; at most 0.1)."
            ),
        ),
    ] = 0.001,  # bastide.synth.defects.DEFAULT_RATE (not imported: keeps the CLI light)
) -> None:
    """Generate linked synthetic SNDS (DCIR, PMSI MCO, beneficiaries, causes of death) and
    hospital OMOP extracts, with a ground truth for tests and linkage evaluation."""
    from bastide.synth import SynthOptions, generate

    opts = SynthOptions(
        persons=persons,
        seed=seed,
        out=out,
        hospitals=hospitals,
        format=fmt.lower(),
        encoding=encoding.lower(),
        compress=compress.lower(),
        defects=defects,
    )
    opts.check()
    started = time.perf_counter()
    columns = (
        TextColumn("[bold]synth[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("persons"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("persons", total=persons)
        manifest = generate(opts, progress=lambda n: progress.advance(task, n))
    elapsed = time.perf_counter() - started
    rows = manifest["total_rows"]
    console.print(
        f"Wrote {rows:,} rows for {persons:,} persons to [bold]{out}[/] in {elapsed:.1f} s "
        f"({rows / max(elapsed, 1e-9):,.0f} rows/s)"
    )
    console.print(f"  hospitals: {', '.join(manifest['hospitals'])}")
    planted = manifest["defects"]
    console.print(
        f"  defects: {planted['rows']:,} rows the border must quarantine "
        f"(rate {planted['rate']:g}; ground_truth/defects.csv)"
    )
    console.print(f"  ground truth: {out / 'ground_truth'} (not for ingestion)")
