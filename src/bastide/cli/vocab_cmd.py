"""``bastide vocab``: import standard OMOP vocabularies (an Athena download), show them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bastide.cli.app import HubOption, app, console
from bastide.cli.governance_cmd import AsOption, governed

vocab_app = typer.Typer(
    help="Standard OMOP vocabularies (SNOMED, RxNorm, LOINC…) from an OHDSI Athena download.",
    no_args_is_help=True,
)
app.add_typer(vocab_app, name="vocab")


@vocab_app.command("import")
def import_(
    directory: Annotated[
        Path,
        typer.Argument(
            help="The unzipped Athena download (CONCEPT.csv, CONCEPT_RELATIONSHIP.csv…)."
        ),
    ],
    subset: Annotated[
        bool,
        typer.Option(
            "--subset",
            help="The download is a shard (e.g. Eunomia's): drop relationship, ancestor and "
            "synonym rows naming concepts it does not ship, instead of refusing them.",
        ),
    ] = False,
    hub: HubOption = None,
    as_user: AsOption = None,
) -> None:
    """Check and import a vocabulary download as a new encrypted warehouse snapshot
    (operators). A bad file is refused with its name, line and problem, and nothing is
    published; importing the same files again does nothing."""
    from bastide.vocab.service import import_vocabulary

    with governed(hub, as_user) as (gov, identity):
        assert identity is not None
        result = import_vocabulary(gov, identity, directory, subset=subset)
    if result.unchanged:
        console.print("These files are already imported; nothing was published.")
        return
    rows = ", ".join(f"{table} {n:,}" for table, n in result.rows.items())
    console.print(
        f"Vocabulary snapshot {result.version} published ({result.release or 'undated'}): {rows}.",
        highlight=False,
    )


@vocab_app.command("status")
def status(hub: HubOption = None, as_user: AsOption = None) -> None:
    """List the vocabularies of the current warehouse snapshot: where they come from,
    their versions and concept counts, and what the last import stored."""
    from bastide.vocab.service import vocabulary_status_for

    with governed(hub, as_user) as (gov, identity):
        assert identity is not None
        report = vocabulary_status_for(gov, identity)
    if not report.lines:
        console.print("No vocabulary is loaded yet (ingest an extract or import one).")
        return
    table = Table("vocabulary", "from", "version", "concepts", "standard", title="vocabularies")
    for line in report.lines:
        table.add_row(
            line.vocabulary_id,
            line.partition,
            line.version or "—",
            f"{line.concepts:,}",
            f"{line.standard:,}",
        )
    console.print(table)
    if report.imported_in is None:
        console.print("No Athena download imported.")
        return
    console.print(
        f"Imported download: {report.release or 'undated'}, stored by snapshot "
        f"{report.imported_in} (current {report.snapshot}).",
        highlight=False,
    )
    for name, rows in report.rows.items():
        note = ""
        if name == "concept_ancestor" and report.ancestor_derived:
            note = " (derived from 'Is a': the download's CONCEPT_ANCESTOR is empty)"
        dropped = report.dropped.get(name)
        if dropped:
            note += f" ({dropped:,} rows naming concepts not in the shard left out)"
        console.print(f"  {name}: {rows:,} rows{note}", highlight=False)
    if report.french_concepts_reused:
        console.print(
            f"  {report.french_concepts_reused:,} imported concepts of French vocabularies "
            "are bastide's own concepts (their relationships were attached to them).",
            highlight=False,
        )
