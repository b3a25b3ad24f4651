"""Running a study on an engine session that holds OMOP tables (a project's extract in its
workspace, or a warehouse snapshot): build the cohorts, run the analyses, write the
outputs — aggregate tables (CSV), figures (PNG), the HTML report and a manifest that
lists every output with its checksum, for the disclosure checks and the release.

Cohort tables (patient-level rows) are never written: they stay in the engine session.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastide.cohorts import (
    Cohort,
    CohortDefinition,
    Entry,
    Events,
    Exit,
    ExposureEndExit,
    build_cohort,
    definition_to_dict,
)
from bastide.cohorts.compiler import required_columns as cohort_columns
from bastide.cohorts.domains import DOMAINS
from bastide.studies.characterisation import characterise
from bastide.studies.comparative import compare
from bastide.studies.counts import cohort_counts
from bastide.studies.errors import StudyError
from bastide.studies.files import (
    REPORT,
    EncryptedFiles,
    OutputFiles,
    PlainFiles,
    RunFiles,
)
from bastide.studies.incidence import incidence
from bastide.studies.report import render_report
from bastide.studies.results import AnalysisOutput
from bastide.studies.study import (
    AnalysisSpec,
    CharacterisationSpec,
    ComparativeSpec,
    CountsSpec,
    IncidenceSpec,
    Study,
    UtilisationSpec,
    analysis_type,
)
from bastide.studies.utilisation import drug_utilisation

if TYPE_CHECKING:
    from bastide.engines import Engine
    from bastide.storage import ParquetEncryption


@dataclass(frozen=True)
class StudyRun:
    study: Study
    directory: Path
    cohorts: dict[str, Cohort]
    outputs: tuple[AnalysisOutput, ...]
    manifest: dict[str, Any]

    def files(self, encryption: ParquetEncryption | None = None) -> RunFiles:
        """The outputs as written (``encryption``: the key the run was written under)."""
        return RunFiles.open(self.directory, encryption)

    def output(self, name: str) -> AnalysisOutput:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(name)


def run_analysis(
    engine: Engine, spec: AnalysisSpec, cohorts: Mapping[str, Cohort]
) -> AnalysisOutput:
    """One analysis of a study on cohorts already built."""
    if isinstance(spec, CountsSpec):
        return cohort_counts([cohorts[c] for c in spec.cohorts]).to_output(spec.name)
    if isinstance(spec, CharacterisationSpec):
        result = characterise(
            engine,
            [cohorts[c] for c in spec.cohorts],
            window=spec.window,
            top=spec.top,
            age_bands=spec.age_bands,
        )
        return result.to_output(spec.name, f"Characterisation: {', '.join(spec.cohorts)}")
    if isinstance(spec, IncidenceSpec):
        rates = incidence(
            engine,
            cohorts[spec.cohort],
            cohorts[spec.outcome],
            strata=spec.strata,
            age_bands=spec.age_bands,
            exclude_prior_outcome=spec.exclude_prior_outcome,
        )
        return rates.to_output(spec.name, f"Incidence of {spec.outcome} in {spec.cohort}")
    if isinstance(spec, UtilisationSpec):
        use = drug_utilisation(
            engine,
            cohorts[spec.cohort],
            concept_set=spec.concept_set,
            gap_days=spec.gap_days,
            extend_days=spec.extend_days,
        )
        return use.to_output(spec.name, f"Drug utilisation: {spec.cohort}")
    assert isinstance(spec, ComparativeSpec)
    comparison = compare(
        engine,
        cohorts[spec.target],
        cohorts[spec.comparator],
        cohorts[spec.outcome],
        adjust=spec.adjust,
        first_entry_only=spec.first_entry_only,
        exclude_in_both=spec.exclude_in_both,
        exclude_prior_outcome=spec.exclude_prior_outcome,
        km_days=spec.km_days,
    )
    return comparison.to_output(spec.name)


def run_study(
    study: Study,
    engine: Engine,
    directory: Path,
    *,
    source: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    encryption: ParquetEncryption | None = None,
) -> StudyRun:
    """Run ``study`` on the OMOP tables registered in ``engine`` and write its outputs to
    ``directory`` (created; refused when it holds anything): plain files, or encrypted
    under ``encryption`` (a project's key, see `bastide.studies.files`). ``source``
    describes the data (project, snapshot…) in the manifest and the report."""
    say = progress or (lambda _message: None)
    sink: OutputFiles = (
        PlainFiles(directory) if encryption is None else EncryptedFiles(directory, encryption)
    )
    started = datetime.now(UTC)
    cohorts: dict[str, Cohort] = {}
    for definition in study.cohorts:
        say(f"cohort {definition.name}")
        cohorts[definition.name] = build_cohort(engine, definition)
    outputs = []
    for spec in study.analyses:
        say(f"{analysis_type(spec)} {spec.name}")
        output = run_analysis(engine, spec, cohorts)
        outputs.append(replace(output, parameters=_spec_parameters(spec)))
    names = [t.name for o in outputs for t in o.tables] + [
        f.name for o in outputs for f in o.figures
    ]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise StudyError(f"study {study.name!r}: two outputs named {', '.join(clashes)}")
    say("writing outputs")
    files: list[dict[str, Any]] = []
    for output in outputs:
        for table in output.tables:
            files.append(
                {
                    "kind": "table",
                    "name": table.name,
                    "analysis": output.name,
                    "title": table.title,
                    **sink.table(table.name, table.table),
                    "rows": table.table.num_rows,
                    "columns": table.table.column_names,
                    "count_columns": list(table.count_columns),
                    "statistic_columns": list(table.statistic_columns),
                    # what a release request needs (bastide.disclosure.Output)
                    "disclosure": {
                        "kind": table.kind,
                        "dims": list(table.dims),
                        "counts": list(table.count_columns),
                        "time": table.time,
                        "population": table.population,
                    },
                }
            )
        for figure in output.figures:
            files.append(
                {
                    "kind": "figure",
                    "name": figure.name,
                    "analysis": output.name,
                    "title": figure.title,
                    **sink.file(f"figures/{figure.name}.png", "image/png", figure.png),
                    "tables": list(figure.tables),
                }
            )
    definitions = []
    for name, cohort in cohorts.items():
        text = json.dumps(definition_to_dict(cohort.definition), indent=2, ensure_ascii=False)
        stored = sink.file(f"cohorts/{name}.json", "application/json", text.encode("utf-8"))
        definitions.append(
            {
                "name": name,
                "version": cohort.definition.version,
                "digest": cohort.definition.digest,
                "warnings": list(cohort.warnings),
                **stored,
            }
        )
    run_at = started.strftime("%Y-%m-%d %H:%M UTC")
    source_text = ", ".join(f"{k} {v}" for k, v in (source or {}).items())
    report = render_report(study, cohorts, outputs, run_at=run_at, source=source_text)
    files.append(
        {
            "kind": "report",
            "name": "report",
            "title": study.title or study.name,
            **sink.file(REPORT, "text/html", report.encode("utf-8")),
            "tables": [f["name"] for f in files if f["kind"] == "table"],
        }
    )
    manifest = {
        "study": study.name,
        "version": study.version,
        "title": study.title,
        "digest": study.digest,
        "study_file": study.source,
        "source": dict(source or {}),
        "engine": getattr(engine, "name", "?"),
        "encrypted": encryption is not None,
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "cohorts": definitions,
        "outputs": files,
    }
    sink.finish(manifest)
    return StudyRun(study, sink.directory, cohorts, tuple(outputs), manifest)


PERSON_COLUMNS = (
    "person_id",
    "year_of_birth",
    "month_of_birth",
    "day_of_birth",
    "gender_concept_id",
)


def required_columns(study: Study) -> dict[str, set[str]]:
    """The columns of each OMOP table that the study's cohorts and analyses read."""
    need: dict[str, set[str]] = {}

    def merge(more: Mapping[str, set[str]]) -> None:
        for table, columns in more.items():
            need.setdefault(table, set()).update(columns)

    for definition in study.cohorts:
        merge(cohort_columns(definition))
    for spec in study.analyses:
        if isinstance(spec, CharacterisationSpec | IncidenceSpec | ComparativeSpec):
            merge({"person": set(PERSON_COLUMNS)})
        if isinstance(spec, CharacterisationSpec):
            for domain in ("condition_occurrence", "drug_exposure"):
                dom = DOMAINS[domain]
                merge({dom.table: {"person_id", dom.concept, dom.source_concept, dom.start}})
            merge({"concept": {"concept_id", "concept_name", "vocabulary_id", "concept_code"}})
        if isinstance(spec, UtilisationSpec):
            definition = study.cohort(spec.cohort)
            rule = definition.exit.rule
            concept_set = spec.concept_set or (
                rule.concept_set if isinstance(rule, ExposureEndExit) else None
            )
            if concept_set is not None:
                eras = CohortDefinition(
                    definition.name,
                    Entry((Events("drug_exposure", concept_set),)),
                    concept_sets=definition.concept_sets,
                    exit=Exit(ExposureEndExit(concept_set), censor_at_death=False),
                )
                merge(cohort_columns(eras))
    return need


def _spec_parameters(spec: AnalysisSpec) -> dict[str, object]:
    from dataclasses import asdict

    values = asdict(spec)
    values.pop("name")
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}
