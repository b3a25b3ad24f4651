"""``bastide demo``: the main job end to end, on embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bastide.cli.app import app, console
from bastide.cli.progress import RichProgress


@app.command()
def demo(
    persons: Annotated[
        int, typer.Option("--persons", min=100, help="Size of the synthetic population.")
    ] = 20_000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the synthetic data.")] = 1,
    hospitals: Annotated[
        int, typer.Option("--hospitals", min=1, max=20, help="Hospital extracts to link.")
    ] = 4,
    directory: Annotated[
        Path,
        typer.Option("--dir", help="Working directory (a previous demo's is replaced)."),
    ] = Path("bastide-demo"),
) -> None:
    """Generate linked synthetic SNDS and hospital extracts, ingest them into a fresh hub,
    check data quality, and summarise: persons, rows, quarantine, linkage, timings."""
    from bastide.demo import run_demo

    with RichProgress(console) as progress:
        result = run_demo(
            directory.resolve(),
            persons=persons,
            seed=seed,
            hospitals=hospitals,
            progress=progress,
        )

    summary = Table(title="bastide demo — summary", show_header=False)
    summary.add_column("what", style="bold")
    summary.add_column("value", justify="right")
    summary.add_row("hub", str(result.hub.root))
    summary.add_row("persons in the warehouse", f"{result.persons:,}")
    for table in (
        "visit_occurrence",
        "condition_occurrence",
        "drug_exposure",
        "procedure_occurrence",
        "measurement",
        "observation_period",
        "death",
    ):
        summary.add_row(f"  {table}", f"{result.rows.get(table, 0):,}")
    read = sum(r.reconciliation.rows_read for r in result.ingests if r.reconciliation)
    summary.add_row("source rows read", f"{read:,}")
    quarantined = result.quarantined_by_reason()
    summary.add_row("rows quarantined", f"{sum(quarantined.values()):,}")
    for reason, n in quarantined.items():
        summary.add_row(f"  {reason}", f"{n:,}")
    link = result.linkage()
    if link is not None:
        summary.add_row("hospital patients", f"{link.patients:,}")
        summary.add_row("linkage precision", f"{link.precision:.4f}")
        summary.add_row("linkage recall", f"{link.recall:.4f}")
    failed = sum(1 for c in result.quality.results if c.status.value == "fail")
    summary.add_row("quality checks failed", f"{failed} of {len(result.quality.results)}")
    summary.add_row("quality report", str(result.quality_html))
    for step, seconds in result.seconds.items():
        summary.add_row(f"time: {step}", f"{seconds:.1f} s")
    console.print(summary)
