"""The result of a data-quality run and its renderings: a Rich table for the terminal and
a self-contained HTML page. Only counts are shown, never row values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2
from rich.console import Group
from rich.table import Table
from rich.text import Text

from bastide.quality.model import Category, CheckResult, Status

_STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.PASS: 2, Status.INFO: 3}
_STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
    Status.PASS: "green",
    Status.INFO: "dim",
}


def _sort_key(result: CheckResult) -> tuple[int, float, str]:
    # Failures first, the worst of them first; then by check id.
    return (_STATUS_ORDER[result.status], -(result.pct_violated or 0.0), result.check.check_id)


@dataclass(frozen=True)
class QualityReport:
    results: tuple[CheckResult, ...]
    tables: tuple[str, ...]
    engine: str
    started_at: datetime
    elapsed_seconds: float

    # -- reading ------------------------------------------------------------------------------
    @property
    def ok(self) -> bool:
        """True when no check failed or errored."""
        return not any(r.status in (Status.FAIL, Status.ERROR) for r in self.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.sorted() if r.status in (Status.FAIL, Status.ERROR))

    def sorted(self) -> list[CheckResult]:
        return sorted(self.results, key=_sort_key)

    def get(self, check_id: str) -> CheckResult:
        """The result of one check, e.g. ``"foreign_key.person.gender_concept_id"``."""
        for result in self.results:
            if result.check.check_id == check_id:
                return result
        raise KeyError(f"no check {check_id!r} in this report")

    def summary(self) -> dict[str, dict[str, int]]:
        """Number of checks per category and status (every category and status listed)."""
        counts = {str(c): {str(s): 0 for s in Status} for c in Category}
        for result in self.results:
            counts[str(result.check.category)][str(result.status)] += 1
        return counts

    def to_dict(self) -> dict[str, object]:
        return {
            "engine": self.engine,
            "started_at": self.started_at.isoformat(),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "tables": list(self.tables),
            "ok": self.ok,
            "summary": self.summary(),
            "checks": [r.to_dict() for r in self.sorted()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    # -- terminal -----------------------------------------------------------------------------
    def to_rich(self, *, failures_only: bool = False) -> Group:
        """A summary by category and the checks, failures first."""
        summary = Table(title="Data quality", title_justify="left")
        summary.add_column("category")
        for status in Status:
            summary.add_column(str(status), justify="right", style=_STATUS_STYLE[status])
        for category, counts in self.summary().items():
            summary.add_row(category, *(str(counts[str(s)]) for s in Status))

        checks = Table(show_lines=False)
        for name, justify in (
            ("status", "left"),
            ("category", "left"),
            ("check", "left"),
            ("table.field", "left"),
            ("failing", "right"),
            ("%", "right"),
            ("threshold %", "right"),
            ("notes", "left"),
        ):
            checks.add_column(name, justify=justify)  # type: ignore[arg-type]
        for r in self.failures if failures_only else self.sorted():
            checks.add_row(
                Text(str(r.status), style=_STATUS_STYLE[r.status]),
                str(r.check.category),
                r.check.name,
                ".".join(p for p in (r.check.table, r.check.field) if p),
                "" if r.violated is None else f"{r.violated:,} / {r.denominator:,}",
                "" if r.pct_violated is None else f"{r.pct_violated:.2f}",
                "—" if r.check.threshold is None else f"{r.check.threshold:g}",
                r.message or r.check.description,
            )
        footer = Text(
            f"{len(self.results)} checks on {len(self.tables)} tables in "
            f"{self.elapsed_seconds:.1f} s ({self.engine})",
            style="dim",
        )
        return Group(summary, checks, footer)

    # -- HTML ---------------------------------------------------------------------------------
    def render_html(self) -> str:
        environment = jinja2.Environment(
            loader=jinja2.PackageLoader("bastide.quality", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        template = environment.get_template("report.html.j2")
        return template.render(
            report=self,
            summary=self.summary(),
            statuses=[str(s) for s in Status],
            results=self.sorted(),
        )

    def to_html(self, path: str | Path) -> Path:
        """Write the report as one self-contained HTML file (no external assets)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.render_html(), encoding="utf-8")
        return path
