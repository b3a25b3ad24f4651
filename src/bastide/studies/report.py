"""The study report: one self-contained HTML file (figures embedded), rendered by Jinja2
with autoescaping, so that no label or code from the data can inject markup."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import pyarrow as pa

from bastide.cohorts import (
    Cohort,
    CohortDefinition,
    EventCriterion,
    Events,
    ExposureEndExit,
    FixedExit,
)
from bastide.studies.results import AnalysisOutput, OutputTable
from bastide.studies.study import Study


def format_cell(value: Any) -> tuple[str, bool]:
    """Display text of a cell and whether it is a number."""
    if value is None:
        return "—", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        if math.isnan(value):
            return "—", True
        if math.isinf(value):
            return ("∞" if value > 0 else "−∞"), True
        if value != 0 and abs(value) < 0.001:
            return f"{value:.2e}", True
        return (f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"), True
    return str(value), False


def _table(title: str, table: pa.Table, description: str = "") -> dict[str, Any]:
    rows = [[format_cell(v) for v in row.values()] for row in table.to_pylist()]
    return {
        "title": title,
        "columns": table.column_names,
        "rows": rows,
        "description": description,
    }


def _side_by_side(tables: Sequence[OutputTable]) -> dict[str, Any]:
    """Tables 1 of several cohorts as one: an n (%) column per cohort."""
    keys: list[tuple[str, str]] = []
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for t in tables:
        for r in t.table.to_pylist():
            key = (r["section"], r["characteristic"])
            if key not in keys:
                keys.append(key)
            cells[(t.population, *key)] = r
    out = []
    for section, label in keys:
        line = [(section, False), (label, False)]
        for t in tables:
            r = cells.get((t.population, section, label))
            if r is None:
                line.append(("—", True))
                continue
            percent = r.get("percent")
            shown = "" if percent is None or math.isnan(percent) else f" ({percent:.1f} %)"
            line.append((f"{r['n']:,}{shown}", True))
        out.append(line)
    return {
        "title": "Table 1",
        "columns": ["section", "characteristic", *(f"{t.population}: n (%)" for t in tables)],
        "rows": out,
        "description": tables[0].description,
    }


def _displays(tables: Sequence[OutputTable]) -> list[dict[str, Any]]:
    table1 = [t for t in tables if t.dims == ("section", "characteristic")]
    shown = [_side_by_side(table1)] if table1 else []
    return shown + [_table(t.title, t.table, t.description) for t in tables if t not in table1]


def _events(e: Events) -> str:
    what = f"{e.domain} of {e.concept_set}" if e.concept_set else f"any {e.domain}"
    if e.type_concept_ids:
        what += f" (types {', '.join(map(str, e.type_concept_ids))})"
    if e.value_min is not None or e.value_max is not None:
        low = "" if e.value_min is None else e.value_min
        high = "" if e.value_max is None else e.value_max
        what += f" (value {low}–{high})"
    return what


def describe(definition: CohortDefinition) -> list[str]:
    """The definition in a few lines of text, for people."""
    lines = []
    for cs in definition.concept_sets:
        lines.append(f"Concept set {cs.name}: " + "; ".join(str(c) for c in cs.concepts))
    entry = " or ".join(_events(e) for e in definition.entry.events)
    which = "first" if definition.entry.occurrence == "first" else "every"
    lines.append(f"Entry: {which} {entry}")
    obs = definition.observation
    lines.append(f"Observation: {obs.prior_days} days before the index date, {obs.post_days} after")
    for c in definition.inclusion:
        detail = (
            f"{c.count} {_events(c.events)} in {c.window}"
            + (" (any time, in or out of observation)" if c.ignore_observation_period else "")
            if isinstance(c, EventCriterion)
            else c.describe()
        )
        lines.append(f"Inclusion — {c.name}: {detail}")
    rule = definition.exit.rule
    if isinstance(rule, FixedExit):
        end = f"{rule.days} days after the index date"
    elif isinstance(rule, ExposureEndExit):
        end = (
            f"end of exposure to {rule.concept_set} (gaps up to {rule.gap_days} days, "
            f"then {rule.extend_days} more days)"
        )
    else:
        end = "end of the observation period"
    extra = (["death"] if definition.exit.censor_at_death else []) + [
        _events(e) for e in definition.exit.censor
    ]
    lines.append(
        f"Exit: {end}; at the latest the end of observation"
        + (f"; earlier at {', '.join(extra)}" if extra else "")
    )
    if definition.collapse_days:
        lines.append(f"Periods less than {definition.collapse_days} days apart are merged")
    return lines


def render_report(
    study: Study,
    cohorts: Mapping[str, Cohort],
    outputs: Sequence[AnalysisOutput],
    *,
    run_at: str,
    source: str = "",
) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("bastide.studies", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        study=study,
        run_at=run_at,
        source=source,
        cohorts=[
            {
                "name": c.name,
                "version": c.definition.version,
                "description": c.definition.description,
                "persons": f"{c.persons:,}",
                "periods": f"{c.table.num_rows:,}",
                "summary": describe(c.definition),
                "warnings": c.warnings,
                "attrition": _table("Attrition", c.attrition),
            }
            for c in cohorts.values()
        ],
        analyses=[
            {
                "name": a.name,
                "kind": a.kind,
                "title": a.title,
                "notes": a.notes,
                "parameters": sorted(
                    (k, ", ".join(map(str, v)) if isinstance(v, list) else v)
                    for k, v in a.parameters.items()
                    if v is not None
                ),
                "figures": [
                    {"title": f.title, "data": base64.b64encode(f.png).decode("ascii")}
                    for f in a.figures
                ],
                "tables": _displays(a.tables),
            }
            for a in outputs
        ],
    )
