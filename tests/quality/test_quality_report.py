"""Renderings of a data-quality report: terminal, HTML, JSON."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from omop_samples import Check, clean_rows, to_tables
from rich.console import Console

from bastide.quality import QualityReport, Status


@pytest.fixture
def report(check: Check) -> QualityReport:
    rows = copy.deepcopy(clean_rows())
    rows["visit_occurrence"][0]["visit_end_date"] = date(2019, 12, 31)  # ends before it starts
    rows["person"][0]["year_of_birth"] = 1850
    names = ("person", "visit_occurrence", "observation_period")
    tables = {k: v for k, v in to_tables(rows).items() if k in names}
    # A column outside OMOP whose name would be markup if it were not escaped.
    person = tables["person"]
    tables["person"] = person.append_column("<b>x</b>", person.column("person_id"))
    return check(tables)


def test_failures_come_first(report: QualityReport) -> None:
    ordered = report.sorted()
    statuses = [r.status for r in ordered]
    assert statuses[: len(report.failures)] == [Status.FAIL] * len(report.failures)
    assert {r.check.check_id for r in report.failures} == {
        "end_before_start.visit_occurrence.visit_end_date",
        "year_of_birth.person.year_of_birth",
    }


def test_terminal_table(report: QualityReport) -> None:
    console = Console(record=True, width=200)
    console.print(report.to_rich())
    text = console.export_text()
    lines = [line for line in text.splitlines() if "│" in line]
    assert "conformance" in text and "plausibility" in text
    first_check = next(line for line in lines if "end_before_start" in line or "year_of" in line)
    assert "fail" in first_check
    console = Console(record=True, width=200)
    console.print(report.to_rich(failures_only=True))
    assert "null_share" not in console.export_text()


def test_html_is_self_contained_and_escaped(report: QualityReport, tmp_path) -> None:
    html = report.to_html(tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "src=" not in html and "href=" not in html and "@import" not in html
    assert "2 failing checks" in html


def test_json(report: QualityReport) -> None:
    data = json.loads(report.to_json())
    assert data["ok"] is False
    assert data["checks"][0]["status"] == "fail"
    assert set(data["summary"]) == {"conformance", "completeness", "plausibility"}
    assert len(data["checks"]) == len(report.results)
