"""Per-file reconciliation: every row read is loaded, quarantined (with its reason) or
excluded by a mapping rule: ``read = loaded + quarantined + excluded``.

`FileReconciliation` refuses counts that do not add up; `Reconciliation` gathers the files
of an extract (unrecognised and rejected ones included) for storage and display. The
border's counts have no exclusions (``loaded`` is what it staged); ``settle`` replaces them
with what the ETL made of the staged rows, and refuses a file whose rows do not balance.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
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
        pa.field("rows_excluded", pa.int64(), nullable=False),
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
    rows_excluded: int = 0  # left out by a mapping rule (each recorded with its line)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        unknown = set(self.quarantined_by_reason) - set(REASONS)
        if unknown:
            raise ReconciliationError(f"{self.source_file}: unknown reasons {sorted(unknown)}")
        by_reason = {r: int(n) for r, n in self.quarantined_by_reason.items() if n}
        object.__setattr__(self, "quarantined_by_reason", MappingProxyType(by_reason))
        if self.rows_read != self.rows_loaded + self.rows_quarantined + self.rows_excluded:
            raise ReconciliationError(self.imbalance())

    def imbalance(self, loaded: int | None = None, excluded: int | None = None) -> str:
        """What does not add up, were ``loaded`` and ``excluded`` its counts."""
        loaded = self.rows_loaded if loaded is None else loaded
        excluded = self.rows_excluded if excluded is None else excluded
        missing = self.rows_read - loaded - self.rows_quarantined - excluded
        return (
            f"{self.source_file}: {self.rows_read:,} rows read but {loaded:,} loaded + "
            f"{self.rows_quarantined:,} quarantined + {excluded:,} excluded "
            f"({abs(missing):,} {'unaccounted for' if missing > 0 else 'counted twice'})"
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
    def rows_excluded(self) -> int:
        return sum(f.rows_excluded for f in self.files)

    def settle(self, loaded: Mapping[str, int], excluded: Mapping[str, int]) -> Reconciliation:
        """The reconciliation once the ETL has run: per source file, the staged rows that
        are part of an OMOP row (``loaded``) and those a rule left out (``excluded``).
        Raises ``ReconciliationError`` naming every file that does not balance (or that the
        ETL reports and the border never read)."""
        known = {f.source_file for f in self.files}
        problems = [
            f"{name}: {loaded.get(name, 0) + excluded.get(name, 0):,} rows in the ETL's "
            "accounting but the file was not read"
            for name in sorted((set(loaded) | set(excluded)) - known, key=str)
        ]
        settled = []
        for f in self.files:
            if f.status != "loaded":
                settled.append(f)
                continue
            n_loaded, n_excluded = loaded.get(f.source_file, 0), excluded.get(f.source_file, 0)
            if f.rows_read != n_loaded + f.rows_quarantined + n_excluded:
                problems.append(f.imbalance(n_loaded, n_excluded))
                continue
            settled.append(replace(f, rows_loaded=n_loaded, rows_excluded=n_excluded))
        if problems:
            raise ReconciliationError(
                "the reconciliation does not balance (read = loaded + quarantined + "
                "excluded): " + "; ".join(problems)
            )
        return Reconciliation.of(settled)

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
            ("excluded", "right"),
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
                f"{f.rows_excluded:,}",
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
            f"{self.rows_excluded:,}",
        )
        return table

    def __rich__(self) -> Table:
        return self.render()
