"""What an ingest reports: reconciliation, exclusions, rows per table, linkage, timings."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
from rich.console import Group, RenderableType
from rich.table import Table

from bastide.etl.snds import Exclusion
from bastide.linkage.evaluation import LinkageQuality
from bastide.sources import Reconciliation
from bastide.sources.omop_version import CdmVersion


@dataclass(frozen=True)
class FindingSummary:
    """Loaded rows of one file with one data-quality finding (see sources/findings.py)."""

    source_file: str
    table: str
    finding: str
    column: str | None
    rows: int
    first_lines: tuple[int, ...]  # up to ten; every line is in ``ingest_findings``


@dataclass
class IngestResult:
    source: str
    partition: str
    version: int | None  # the snapshot made; None when nothing changed
    unchanged: bool
    reconciliation: Reconciliation | None = None
    exclusions: list[Exclusion] = field(default_factory=list)
    excluded_rows: pa.Table | None = None  # EXCLUDED_ROWS_SCHEMA: file, line, table, rule
    rows: dict[str, int] = field(default_factory=dict)  # OMOP rows this source wrote
    linkage_methods: dict[str, int] = field(default_factory=dict)
    linkage_quality: LinkageQuality | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    run: str | None = None  # the run id pairing the audited intent with its outcome
    reconciled: list[str] = field(default_factory=list)  # interrupted runs recorded first
    # persons / rows before and after, when the operator accepted a shrinking delivery
    shrink_accepted: dict[str, dict[str, int]] | None = None
    findings: list[FindingSummary] = field(default_factory=list)
    cdm_version: CdmVersion | None = None  # an OMOP extract's, told from its columns

    def quarantined_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.reconciliation.files if self.reconciliation else ():
            for reason, n in f.quarantined_by_reason.items():
                out[reason] = out.get(reason, 0) + n
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def render(self) -> RenderableType:
        if self.unchanged:
            return "\n".join(
                [
                    *self.reconciled,
                    f"[bold]{self.partition}[/]: unchanged since the current snapshot; "
                    "nothing to do",
                ]
            )
        parts: list[RenderableType] = list(self.reconciled)
        if self.cdm_version is not None:
            parts.append(f"[bold]{self.partition}[/]: {self.cdm_version.describe()}")
        if self.reconciliation is not None:
            parts.append(self.reconciliation.render(f"Border: {self.partition}"))
        if self.findings:
            fd = Table(title=f"Data-quality findings (rows loaded): {self.partition}")
            for column in ("file", "table", "finding", "column", "rows", "first lines"):
                fd.add_column(column, justify="right" if column == "rows" else "left")
            for f in self.findings:
                more = ", …" if f.rows > len(f.first_lines) else ""
                lines = ", ".join(map(str, f.first_lines)) + more
                fd.add_row(f.source_file, f.table, f.finding, f.column or "", f"{f.rows:,}", lines)
            parts.append(fd)
        if self.exclusions:
            ex = Table(title=f"Left out by mapping rules: {self.partition}")
            ex.add_column("source table")
            ex.add_column("rule")
            ex.add_column("rows", justify="right")
            for e in self.exclusions:
                ex.add_row(e.source_table, e.rule, f"{e.rows:,}")
            parts.append(ex)
        rows = Table(title=f"Warehouse rows written: {self.partition} (snapshot {self.version})")
        rows.add_column("table")
        rows.add_column("rows", justify="right")
        for name, n in sorted(self.rows.items()):
            rows.add_row(name, f"{n:,}")
        parts.append(rows)
        if self.linkage_methods:
            link = Table(title=f"Linkage: {self.partition}")
            link.add_column("method")
            link.add_column("patients", justify="right")
            for method, n in sorted(self.linkage_methods.items()):
                link.add_row(method, f"{n:,}")
            if self.linkage_quality is not None:
                q = self.linkage_quality
                link.add_row("precision (vs ground truth)", f"{q.precision:.4f}")
                link.add_row("recall (vs ground truth)", f"{q.recall:.4f}")
            parts.append(link)
        return Group(*parts)
