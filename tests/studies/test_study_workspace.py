"""``bastide study run --project``: a study on a project's extract, in its sandboxed
workspace, as a member; refused to others; outputs in the project area; audited."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from study_world import STUDY, World
from typer.testing import CliRunner

from bastide.cli import app
from bastide.cohorts import build_cohort
from bastide.cohorts.loader import parse_document
from bastide.engines import open_engine
from bastide.governance import Governance, ProjectRequest, Scope
from bastide.hub import Hub
from bastide.projects import extract_project
from bastide.release import Releases
from bastide.storage import Warehouse
from bastide.studies import study_from_dict
from bastide.studies.runner import required_columns
from bastide.studies.workspace import exports_dir, list_runs, open_run, studies_dir


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, world: World) -> Path:
    root = tmp_path_factory.mktemp("study-hub") / "hub"
    hub = Hub.init(root)
    with Warehouse(hub).begin("simulated load") as w:
        for name, table in world.tables.items():
            w.write(name, "simulated", table)
        w.commit()
    study = study_from_dict(parse_document(STUDY))
    needed = {t: sorted(c) for t, c in required_columns(study).items()}
    narrow = dict(needed, drug_exposure=[c for c in needed["drug_exposure"] if c != "days_supply"])
    with Governance(hub) as gov:
        olga = gov.add_user(None, "olga", ["operator"])
        stella = gov.add_user(olga, "stella", ["steward"])
        sam = gov.add_user(olga, "sam", ["steward"])
        rita = gov.add_user(olga, "rita", ["researcher"])
        gov.add_user(olga, "rex", ["researcher"])
        gov.add_user(olga, "audrey", ["auditor"])
        for name, tables in (("nsaid-safety", needed), ("too-narrow", narrow)):
            scope = {"tables": tables, "population": {}}
            request = ProjectRequest.from_dict(
                {
                    "name": name,
                    "title": "NSAIDs and GI bleeding",
                    "purpose": "Compare the risk of GI bleeding of two NSAIDs.",
                    "legal_basis": "RGPD art. 6.1.e and 9.2.j",
                    "authorisation": "CNIL DR-2025-042",
                    **scope,
                }
            )
            gov.request_project(rita, request)
            gov.review_project(stella, name)
            gov.approve_project(sam, name, expires=date(2099, 1, 1), granted=Scope.from_dict(scope))
            extract_project(gov, olga, name)
            gov.activate_project(olga, name)
    return root


@pytest.fixture(scope="module")
def study_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("study") / "simulated.yaml"
    path.write_text(STUDY, encoding="utf-8")
    return path


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def _run(hub: Path, study_file: Path, project: str, user: str, *more: str) -> object:
    return invoke(
        "study",
        "run",
        str(study_file),
        "--project",
        project,
        "--as",
        user,
        "--hub",
        str(hub),
        *more,
    )


def _audit(hub: Path) -> list[object]:
    with Governance(Hub(hub)) as gov:
        return [
            e
            for e in gov.audit_entries(gov.identity("audrey"), limit=None)
            if e.action == "run_study"
        ]


def test_a_member_runs_a_study_in_the_workspace(hub: Path, study_file: Path, world: World) -> None:
    done = _run(hub, study_file, "nsaid-safety", "rita")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert "Nothing has left the project" in done.output  # type: ignore[attr-defined]
    runs = list((studies_dir(Hub(hub), "nsaid-safety") / "simulated").iterdir())
    assert len(runs) == 1
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    assert manifest["source"]["project"] == "nsaid-safety"
    assert manifest["encrypted"] is True
    files = open_run(Hub(hub), "nsaid-safety", "rita", runs[0])
    persons = {r["cohort"]: r["persons"] for r in files.table("counts.cohorts").to_pylist()}
    # The same cohorts as on the warehouse itself, though identifiers were re-keyed.
    engine = open_engine(threads=1)
    for name, table in world.tables.items():
        engine.register(name, table)
    study = study_from_dict(parse_document(STUDY))
    direct = {c.name: build_cohort(engine, c) for c in study.cohorts}
    engine.close()
    assert persons == {name: c.persons for name, c in direct.items()}
    assert persons["celecoxib"] == world.target
    new_users = files.table("use.new_users").to_pylist()
    assert new_users[-1] == {"year": "Total", "new_users": direct["celecoxib"].persons}
    assert "<html" in files.report()
    (entry,) = [e for e in _audit(hub) if e.project == "nsaid-safety"]  # type: ignore[attr-defined]
    assert (entry.actor, entry.outcome, entry.object) == ("rita", "succeeded", "study:simulated")  # type: ignore[attr-defined]
    details = entry.details_dict  # type: ignore[attr-defined]
    assert details["query_sha256"] == study.digest
    assert details["count"] == len(manifest["outputs"])


def test_the_study_is_refused_to_whoever_is_not_a_member(hub: Path, study_file: Path) -> None:
    denied = _run(hub, study_file, "nsaid-safety", "rex")
    assert denied.exit_code != 0
    assert "permission denied" in str(denied.exception)  # type: ignore[attr-defined]
    steward = _run(hub, study_file, "nsaid-safety", "stella")
    assert "needs the role researcher" in str(steward.exception)  # type: ignore[attr-defined]


def test_an_extract_without_a_needed_column_runs_nothing(hub: Path, study_file: Path) -> None:
    refused = _run(hub, study_file, "too-narrow", "rita")
    message = str(refused.exception)  # type: ignore[attr-defined]
    assert "does not hold: drug_exposure.days_supply" in message
    assert not (studies_dir(Hub(hub), "too-narrow")).exists()
    failed = [e for e in _audit(hub) if e.project == "too-narrow"]  # type: ignore[attr-defined]
    assert [e.outcome for e in failed] == ["failed"]  # type: ignore[attr-defined]
    assert failed[0].details_dict["error"] == "StudyError"  # type: ignore[attr-defined]


def test_outputs_stay_in_the_project_area(hub: Path, study_file: Path, tmp_path: Path) -> None:
    outside = _run(hub, study_file, "nsaid-safety", "rita", "--out", str(tmp_path / "out"))
    assert "--out must lie inside the project area" in str(outside.exception)  # type: ignore[attr-defined]


def test_study_check(study_file: Path) -> None:
    done = invoke("study", "check", str(study_file))
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    for text in ("cohort celecoxib", "comparative", "days_supply"):
        assert text in done.output  # type: ignore[attr-defined]
    bad = study_file.with_name("bad.yaml")
    bad.write_text(STUDY.replace("type: comparative", "type: compare"), encoding="utf-8")
    failed = invoke("study", "check", str(bad))
    assert "analyses[4].type: expected one of" in str(failed.exception)  # type: ignore[attr-defined]


def test_outputs_are_encrypted_under_the_project_key(hub: Path) -> None:
    (run,) = list_runs(Hub(hub), "nsaid-safety")
    written = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    assert [w for w in written if not w.startswith("tables/")] == ["files.parquet", "manifest.json"]
    assert all(w.endswith(".parquet") for w in written if w.startswith("tables/"))
    for path in run.rglob("*.parquet"):
        data = path.read_bytes()
        for plain in (b"Total", b"person_years", b"celecoxib", b"<html", b"\x89PNG\r\n\x1a\n"):
            assert plain not in data, (path.name, plain)
        with pytest.raises(OSError):
            pq.read_table(path)  # no key, no data


def test_a_member_sees_and_asks_to_release_a_table(hub: Path) -> None:
    base = ["--project", "nsaid-safety", "--hub", str(hub)]
    shown = invoke("study", "show", *base, "--as", "rita")
    assert shown.exit_code == 0, shown.output  # type: ignore[attr-defined]
    assert "risk.km_curve" in shown.output and "table (survival)" in shown.output  # type: ignore[attr-defined]
    table = invoke("study", "show", *base, "--table", "use.new_users", "--as", "rita")
    assert "Total" in table.output  # type: ignore[attr-defined]
    refused = invoke("study", "show", *base, "--as", "rex")
    assert "permission denied" in str(refused.exception)  # type: ignore[attr-defined]
    asked = invoke(
        "study", "release", "use.new_users", *base,
        "--justification", "New users per year for the paper.", "--as", "rita",
    )  # fmt: skip
    assert asked.exit_code == 0, asked.output  # type: ignore[attr-defined]
    assert "automatic checks" in asked.output  # type: ignore[attr-defined]
    estimates = invoke(
        "study", "release", "risk.cox", *base, "--justification", "HR.", "--as", "rita"
    )
    assert "holds estimates, not counts" in str(estimates.exception)  # type: ignore[attr-defined]
    with Governance(Hub(hub)) as gov:
        views = Releases(gov).list(gov.identity("rita"), "nsaid-safety")
    assert [(v.output, v.kind, v.population) for v in views] == [
        ("use.new_users", "frequency", "celecoxib")
    ]


def test_a_member_exports_the_report_and_figures_in_the_workspace(
    hub: Path, tmp_path: Path
) -> None:
    base = ["--project", "nsaid-safety", "--hub", str(hub)]
    (run,) = list_runs(Hub(hub), "nsaid-safety")
    manifest = json.loads((run / "manifest.json").read_text())
    figures = [o["name"] for o in manifest["outputs"] if o["kind"] == "figure"]
    assert figures
    # The report and figures are not tables: one clear line naming the command to use.
    for name in ("report", figures[0]):
        shown = invoke("study", "show", *base, "--table", name, "--as", "rita")
        assert shown.exit_code != 0
        message = str(shown.exception)  # type: ignore[attr-defined]
        assert "not a table" in message and "bastide study export" in message, message
    done = invoke("study", "export", *base, "--as", "rita")
    assert done.exit_code == 0, (done.output, done.exception)  # type: ignore[attr-defined]
    target = exports_dir(Hub(hub), "nsaid-safety") / "simulated" / run.name
    report = (target / "report.html").read_text(encoding="utf-8")
    assert "<html" in report and "data:image/png;base64," in report
    pngs = sorted(target.glob("figures/*.png"))
    assert len(pngs) == len(figures)
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert png.stat().st_mode & 0o077 == 0
    # Exports stay inside the project's workspace, and are not written twice over.
    outside = invoke("study", "export", *base, "--out", str(tmp_path / "x"), "--as", "rita")
    assert "exports stay in the workspace" in str(outside.exception)  # type: ignore[attr-defined]
    again = invoke("study", "export", *base, "--as", "rita")
    assert "not an empty directory" in str(again.exception)  # type: ignore[attr-defined]
    refused = invoke("study", "export", *base, "--out", str(target.parent / "r"), "--as", "rex")
    assert "permission denied" in str(refused.exception)  # type: ignore[attr-defined]
    assert not (target.parent / "r").exists()
    with Governance(Hub(hub)) as gov:
        (entry,) = [
            e
            for e in gov.audit_entries(gov.identity("audrey"), limit=None)
            if e.action == "export_study"
        ]
    assert (entry.actor, entry.outcome, entry.object) == ("rita", "succeeded", "study:simulated")
    assert entry.details_dict["count"] == len(figures) + 1
