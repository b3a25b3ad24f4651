"""What a study run writes: aggregate tables only, figures, a self-contained report that
escapes every text from the data or the study file, and a manifest whose every table is
an output the disclosure checks accept."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from study_world import STUDY, simulate

from bastide.cohorts import text_tables as tt
from bastide.cohorts.loader import parse_document
from bastide.disclosure import OPENSAFELY, Output, assess
from bastide.engines import Engine
from bastide.studies import StudyError, StudyRun, run_study, study_from_dict

MARKUP = "<script>alert('x')</script>"


@pytest.fixture
def run(engine: Engine, tmp_path: Path) -> StudyRun:
    world = simulate(400, seed=3)
    tables = dict(world.tables)
    # A drug before the index date whose name carries markup, and a criterion named so.
    first = tables["drug_exposure"].to_pylist()[0]
    extra = {
        "person_id": first["person_id"],
        "drug_concept_id": 50,
        "drug_exposure_start_date": first["drug_exposure_start_date"] - timedelta(days=30),
    }
    tables["drug_exposure"] = pa.concat_tables(
        [tables["drug_exposure"], tt.arrow("drug_exposure", [extra])]
    )
    concept = {
        "concept_id": 50,
        "concept_name": MARKUP,
        "vocabulary_id": "ATC",
        "concept_code": "N02BE01",
    }
    tables["concept"] = pa.concat_tables([tables["concept"], tt.arrow("concept", [concept])])
    for name, table in tables.items():
        engine.register(name, table)
    text = STUDY.replace("no NSAID in the year before", "no <b>NSAID</b> in the year before")
    study = study_from_dict(parse_document(text))
    return run_study(study, engine, tmp_path / "out", source={"test": "simulated"})


def test_the_report_escapes_text_and_embeds_its_figures(run: StudyRun) -> None:
    html = (run.directory / "report.html").read_text(encoding="utf-8")
    assert run.files().report() == html
    assert MARKUP not in html and "<b>NSAID" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "no &lt;b&gt;NSAID&lt;/b&gt; in the year before" in html
    assert html.count('src="data:image/png;base64,') == sum(len(o.figures) for o in run.outputs)
    assert "http://" not in html and "https://" not in html


def test_the_manifest_lists_every_file_with_its_hash(run: StudyRun) -> None:
    manifest = json.loads((run.directory / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == run.manifest
    assert manifest["digest"] == run.study.digest
    assert {c["name"] for c in manifest["cohorts"]} == {"celecoxib", "diclofenac", "bleeding"}
    names = [o["name"] for o in manifest["outputs"]]
    assert len(names) == len(set(names))
    for entry in manifest["outputs"]:
        data = (run.directory / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        if entry["kind"] == "figure":
            assert data.startswith(b"\x89PNG\r\n\x1a\n")
            assert set(entry["tables"]) <= set(names)
    written = sorted(
        p.relative_to(run.directory).as_posix() for p in run.directory.rglob("*") if p.is_file()
    )
    listed = sorted(
        [o["file"] for o in manifest["outputs"]] + [c["file"] for c in manifest["cohorts"]]
    )
    assert written == sorted([*listed, "manifest.json"])


def test_only_aggregates_are_written(run: StudyRun) -> None:
    for path in (run.directory / "tables").glob("*.csv"):
        table = pacsv.read_csv(path)
        assert "person_id" not in table.column_names, path.name
        assert table.num_rows < 400, path.name  # never one row per person


def test_every_counted_table_is_an_output_the_disclosure_checks_take(run: StudyRun) -> None:
    checked = 0
    for output in run.outputs:
        for table in output.tables:
            if table.kind == "summary":
                continue
            disclosure = table.disclosure_output()
            assert isinstance(disclosure, Output)
            assert disclosure.counts == table.count_columns
            record = assess(disclosure, OPENSAFELY, []).record
            assert record.status.value in ("pass", "fail", "review")
            checked += 1
    assert checked >= 12
    entry = next(o for o in run.manifest["outputs"] if o["name"] == "risk.km_curve")
    assert entry["disclosure"] == {
        "kind": "survival",
        "dims": ["arm"],
        "counts": ["at_risk", "events"],
        "time": "day",
        "population": "celecoxib.vs.diclofenac",
    }


def test_a_run_never_writes_over_another(run: StudyRun, engine: Engine) -> None:
    with pytest.raises(StudyError, match="exists and is not empty"):
        run_study(run.study, engine, run.directory)


def test_calendar_year_figures_stay_readable() -> None:
    """79 years: at most 12 labels; a year with one person does not set the y-axis, its
    interval is cut at the top and marked."""
    from bastide.studies import plots

    labels = [str(y) for y in range(1940, 2019)]
    shown = plots.tick_positions(len(labels))
    assert 2 <= len(shown) <= plots.MAX_TICK_LABELS and shown[0] == 0
    assert plots.tick_positions(5) == [0, 1, 2, 3, 4]
    values = [10.0 + (i % 5) for i in range(len(labels))]
    upper = [v * 1.3 for v in values]
    upper[3] = 3000.0  # one person, one event
    top = plots.estimate_top(values, upper)
    assert top == max(values) * plots.Y_MARGIN and top < 100
    png = plots.estimates(
        labels, values, [v * 0.7 for v in values], upper, title="by year", ylabel="rate"
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_released_csv_rounds_floats() -> None:
    import pyarrow as pa

    from bastide.release.files import CSV_SIGNIFICANT_DIGITS, table_csv

    table = pa.table(
        {"year": ["2020"], "rate": [10.821909702179909], "p": [1.234567891e-8], "n": [3]}
    )
    text = table_csv(table).decode()
    assert "10.8219" in text and "10.821909702179909" not in text
    assert "1.23457e-8" in text
    assert CSV_SIGNIFICANT_DIGITS == 6
