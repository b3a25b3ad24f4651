"""Data-quality checks on OMOP CDM tables, in the spirit of OHDSI's Data Quality
Dashboard: conformance, completeness and plausibility, run through an engine session.

    report = run_checks(engine, ["person", "observation_period", "condition_occurrence"])
    console.print(report.to_rich())
    report.to_html("quality.html")
"""

from bastide.quality.builder import Settings, default_thresholds
from bastide.quality.model import Category, Check, CheckResult, Status
from bastide.quality.report import QualityReport
from bastide.quality.runner import run_checks

__all__ = [
    "Category",
    "Check",
    "CheckResult",
    "QualityReport",
    "Settings",
    "Status",
    "default_thresholds",
    "run_checks",
]
