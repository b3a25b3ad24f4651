"""Per-file reconciliation: every row read is either loaded or quarantined, with reasons.

`FileReconciliation` refuses counts that do not add up; `Reconciliation` gathers the files
of an extract (unrecognised and rejected ones included) for storage and display.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pyarrow as pa
from rich.table import Table

from bastide.sources.errors import ReconciliationError
from bastide.sources.quarantine import REASONS

# loaded: read to the end; rejected: unreadable or lacking required columns (its rows
# must be discarded); unrecognised: no declared table; refused: not a regular file of the
# extract (a pipe, a link outside it, a directory named like a table); incomplete: stopped.
STATUSES = ("loaded", "rejected", "unrecognised", "refused", "incomplete")

RECONCILIATION_SCHEMA = pa.schema(
    [
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("table", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("rows_read", pa.int64(), nullable=False),
        pa.field("rows_loaded", pa.int64(), nullable=False),
        pa.field("rows_quarantined", pa.int64(), nullable=False),
        pa.field("quarantined_by_reason", pa.map_(pa.string(), pa.int64())),
        pa.field("ignored_columns", pa.list_(pa.string())),
        pa.field("missing_columns", pa.list_(pa.string())),
        pa.field("blank_lines", pa.int64(), nullable=False),
        pa.field("format", pa.string()),
        pa.field("compression", pa.string()),
        pa.field("encoding", pa.string()),
        pa.field("delimiter", pa.string()),
        pa.field("size_bytes", pa.int64()),
        pa.field("sha256", pa.string()),
        pa.field("duplicate_keys_checked", pa.bool_(), nullable=False),
        pa.field("error", pa.string()),
    ]
)


@dataclass(frozen=True)
class FileReconciliation:
    source_file: str
    table: str | None
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    quarantined_by_reason: Mapping[str, int] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()
    missing_columns: tuple[str, ...] = ()  # optional declared columns absent (all null)
    blank_lines: int = 0
    format: str | None = None
    compression: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    duplicate_keys_checked: bool = False
    error: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        unknown = set(self.quarantined_by_reason) - set(REASONS)
        if unknown:
            raise ReconciliationError(f"{self.source_file}: unknown reasons {sorted(unknown)}")
        by_reason = {r: int(n) for r, n in self.quarantined_by_reason.items() if n}
        object.__setattr__(self, "quarantined_by_reason", MappingProxyType(by_reason))
        if self.rows_read != self.rows_loaded + self.rows_quarantined:
            raise ReconciliationError(
                f"{self.source_file}: {self.rows_read} rows read but {self.rows_loaded} "
                f"loaded + {self.rows_quarantined} quarantined"
            )

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())

    def as_row(self) -> dict[str, object]:
        return {
            name: (
                list(getattr(self, name).items())
                if name == "quarantined_by_reason"
                else list(getattr(self, name))
                if name in ("ignored_columns", "missing_columns")
                else getattr(self, name)
            )
            for name in RECONCILIATION_SCHEMA.names
        }


@dataclass(frozen=True)
class Reconciliation:
    """The reconciliation of a set of files (an extract, or one file)."""

    files: tuple[FileReconciliation, ...]

    @classmethod
    def of(cls, files: Iterable[FileReconciliation]) -> Reconciliation:
        return cls(tuple(files))

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def ok(self) -> bool:
        """Every file was recognised and read to the end."""
        return all(f.status == "loaded" for f in self.files)

    def to_arrow(self) -> pa.Table:
        return pa.Table.from_pylist([f.as_row() for f in self.files], RECONCILIATION_SCHEMA)

    def render(self, title: str = "Reconciliation") -> Table:
        """A Rich table: one line per file, then the totals."""
        table = Table(title=title, show_footer=False)
        for name, justify in (
            ("file", "left"),
            ("table", "left"),
            ("status", "left"),
            ("read", "right"),
            ("loaded", "right"),
            ("quarantined", "right"),
            ("reasons", "left"),
            ("ignored columns", "left"),
            ("encoding", "left"),
            ("sha256", "left"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        colours = {"loaded": "green", "rejected": "red", "unrecognised": "yellow"}
        for f in self.files:
            reasons = ", ".join(f"{r} {n:,}" for r, n in sorted(f.quarantined_by_reason.items()))
            status = f"[{colours.get(f.status, 'magenta')}]{f.status}[/]"
            table.add_row(
                f.source_file,
                f.table or "",
                status + (f"\n{f.error}" if f.error else ""),
                f"{f.rows_read:,}",
                f"{f.rows_loaded:,}",
                f"{f.rows_quarantined:,}",
                reasons,
                ", ".join(f.ignored_columns),
                f.encoding or "",
                (f.sha256 or "")[:12],
            )
        table.add_section()
        table.add_row(
            "total",
            "",
            "",
            f"{self.rows_read:,}",
            f"{self.rows_loaded:,}",
            f"{self.rows_quarantined:,}",
        )
        return table

    def __rich__(self) -> Table:
        return self.render()
