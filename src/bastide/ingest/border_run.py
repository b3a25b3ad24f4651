"""Run the border over one extract: every recognised file validated into staging."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from bastide.ingest.progress import Progress
from bastide.ingest.staging import Staging
from bastide.pseudonym import Pseudonymiser
from bastide.sources import CodeChecker, Reconciliation, read_extract

DOMAINS = ("person", "hospital_patient", "stay", "provider")


def pseudonymisers(key: bytes) -> dict[str, object]:
    """One vectorised pseudonymiser per identifier domain, under the hub secret."""
    return {d: Pseudonymiser(key, d).pseudonymise for d in DOMAINS}


def stage_extract(
    directory: Path,
    source: str,
    staging: Staging,
    *,
    key: bytes,
    code_checker: CodeChecker | None,
    progress: Progress,
    tables: list[str] | None = None,
    encoding: str | None = None,
) -> Reconciliation:
    """Validate ``directory``'s files into ``staging``; return their reconciliation.

    A file that cannot be parsed raises ``SourceFileError`` (file, line, problem) after
    its partial staging is discarded; the caller abandons the whole run.
    """
    extract = read_extract(
        directory,
        source,
        pseudonymise=pseudonymisers(key),  # type: ignore[arg-type]
        code_checker=code_checker,
        tables=tables,
        encoding=encoding,
    )
    recognised = [f for f in extract.files if f.recognised]
    if tables is not None:
        wanted = {t.upper() for t in tables}
        recognised = [f for f in recognised if (f.table or "").upper() in wanted]
    progress.step(f"border: {directory.name}", total=sum(f.path.stat().st_size for f in recognised))
    quarantine = staging.quarantine_writer()
    try:
        for reader in extract:
            staged = staging.open(reader.schema)  # type: ignore[arg-type]
            try:
                for batch in reader:
                    staged.write(batch.valid)
                    if batch.quarantine.num_rows:
                        quarantine.write_row_group(pa.Table.from_batches([batch.quarantine]))
            except BaseException:
                staged.discard()
                raise
            staged.close()
            staging.keep(staged)
            progress.advance(reader.file.path.stat().st_size, reader.file.relpath)
    finally:
        quarantine.close()
    return extract.reconciliation
