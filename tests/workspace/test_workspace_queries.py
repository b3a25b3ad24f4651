"""What researchers do in the workspace: query, introspect their own tables, save
outputs; what is audited; the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hub_world import open_project, scope
from typer.testing import CliRunner
from workspace_lab import ASTHMA, Lab

from bastide.cli import app
from bastide.governance import PermissionDenied
from bastide.projects import ExtractError, ExtractMissing, extract_project, read_manifest
from bastide.projects.layout import extract_dir, outputs_dir
from bastide.storage import DataShredded
from bastide.workspace import Limits, QueryRefused, WorkspaceError
from bastide.workspace.outputs import output_datasets
from bastide.workspace.workspace import query_digest


def test_queries_run_over_the_project_extract(lab: Lab) -> None:
    manifest = read_manifest(lab.world.hub, "asthma-care")
    with lab.workspace() as ws:
        tables = ws.tables()
        assert tables == {n: list(e.columns) for n, e in sorted(manifest.tables.items())}
        assert {n: set(c) for n, c in tables.items()} == {n: set(c) for n, c in ASTHMA.items()}
        counted = ws.query("SELECT count(*) AS n FROM person").to_pylist()
        joined = ws.query(
            """
            WITH ill AS (SELECT DISTINCT person_id FROM condition_occurrence)
            SELECT p.gender_concept_id, count(*) AS n
            FROM person AS p JOIN ill USING (person_id)
            GROUP BY ALL ORDER BY 1
            """
        ).to_pylist()
        years = ws.query(
            "SELECT min(visit_start_date) AS first, max(visit_start_date) AS last "
            "FROM visit_occurrence"
        ).to_pylist()[0]
        series = ws.query("SELECT count(*) AS n FROM range(5)").to_pylist()
    assert counted == [{"n": manifest.persons}] and manifest.persons == 40
    assert sum(row["n"] for row in joined) == 21  # persons with any condition
    assert (years["first"].year, years["last"].year) == (2018, 2022)
    assert series == [{"n": 5}]


def test_introspection_shows_only_the_project_own_tables(lab: Lab) -> None:
    own = set(ASTHMA)
    foreign = (
        "drug_exposure",
        "death",
        "diabetes",
        "warehouse",
        "concept_ancestor",
        lab.paths["hub"],
    )
    with lab.workspace() as ws:
        for sql in (
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM information_schema.columns",
            "SELECT * FROM duckdb_tables()",
            "SELECT * FROM duckdb_columns() WHERE NOT internal",
            "SELECT * FROM duckdb_views() WHERE NOT internal",
        ):
            result = ws.query(sql)
            everything = ws.query(sql.split(" WHERE ")[0])  # the engine's own objects too
            assert not any(word in str(everything.to_pylist()) for word in foreign), sql
            text = str(result.to_pylist())
            assert not any(word in text for word in foreign), (sql, text[:300])
            names = {
                row.get("table_name") or row.get("view_name")
                for row in result.to_pylist()
                if row.get("table_name") or row.get("view_name")
            }
            assert names <= own, (sql, names)
        listed = ws.query("SELECT table_name FROM information_schema.tables").column(0)
    assert set(listed.to_pylist()) == own


def test_a_comment_never_runs_as_a_statement(lab: Lab, tmp_path: Path) -> None:
    target = tmp_path / "leak.csv"
    with lab.workspace() as ws:
        hidden = ws.query(f"SELECT 42 AS answer -- ; COPY person TO '{target}'")
        smuggled = ws.query(f"SELECT 43 AS answer -- */ COPY person TO '{target}'; /*")
    assert hidden.to_pylist() == [{"answer": 42}] and smuggled.to_pylist() == [{"answer": 43}]
    assert not target.exists()


def test_outputs_are_saved_encrypted_in_the_workspace_and_queryable(lab: Lab) -> None:
    hub = lab.world.hub
    with lab.workspace() as ws:
        info = ws.save("women", "SELECT person_id FROM person WHERE gender_concept_id = 8532")
        again = ws.query("SELECT count(*) AS n FROM women").to_pylist()
        assert "women" in ws.tables()
        assert [o.name for o in ws.outputs()] == ["women"]
        with pytest.raises(QueryRefused, match="'person' is already a table of this workspace"):
            ws.save("person", "SELECT 1")
        with pytest.raises(QueryRefused, match="'women' is already a table"):
            ws.save("women", "SELECT 1")
        replaced = ws.save("women", "SELECT person_id FROM women LIMIT 3", replace=True)
        with pytest.raises(QueryRefused, match="output name"):
            ws.save("../escape", "SELECT 1")
    assert info.rows == 20 and again == [{"n": 20}] and replaced.rows == 3
    assert (info.created_by, info.columns) == ("rita", ["person_id"])
    files = sorted(p.name for p in outputs_dir(hub, "asthma-care").iterdir())
    assert files == ["women.json", "women.parquet"]
    assert (outputs_dir(hub, "asthma-care") / "women.parquet").read_bytes()[-4:] == b"PARE"
    # Nothing was written outside the project's workspace area.
    written = [p for p in hub.root.rglob("*women*")]
    assert all(outputs_dir(hub, "asthma-care") in p.parents for p in written)


def test_outputs_die_with_the_project_key(lab: Lab) -> None:
    world = lab.world
    open_project(world, "short-study", world.people.rita, scope({"person": ["person_id"]}))
    extract_project(world.gov, world.people.olga, "short-study")
    with lab.workspace(project="short-study") as ws:
        saved = ws.save("everyone", "SELECT * FROM person")
    world.gov.revoke_project(world.people.stella, "short-study")
    with pytest.raises(DataShredded, match="project 'short-study'"):
        output_datasets(world.hub, "short-study", [saved])


def test_every_query_is_audited_without_its_text(lab: Lab) -> None:
    sql = "SELECT count(*) AS n FROM person WHERE year_of_birth > 1977 -- rita's question"
    with lab.workspace() as ws:
        ws.query(sql)
        with pytest.raises(QueryRefused):
            ws.query("SELECT * FROM read_csv('/etc/passwd')")
    entries = lab.world.gov.audit.entries(4)
    done, allowed = entries[2], entries[3]
    assert (allowed.action, allowed.outcome, allowed.actor, allowed.project) == (
        "query_project",
        "allowed",
        "rita",
        "asthma-care",
    )
    assert allowed.details_dict["query_sha256"] == query_digest(sql)
    assert (done.outcome, done.details_dict["row_count"]) == ("succeeded", 1)
    assert set(done.details_dict) == {"query_sha256", "row_count", "duration_ms"}
    refused = entries[0]
    assert (refused.outcome, refused.details_dict["error"]) == ("failed", "QueryRefused")
    assert "passwd" not in refused.reason
    everything = str([(e.reason, e.details, e.object) for e in lab.world.gov.audit.entries(None)])
    assert "1977" not in everything and "passwd" not in everything


def test_a_project_must_be_active_and_extracted(lab: Lab) -> None:
    world = lab.world
    open_project(
        world, "not-yet", world.people.rita, scope({"person": ["person_id"]}), activate=False
    )
    with (
        lab.workspace(project="not-yet") as ws,
        pytest.raises(
            PermissionDenied,
            match="query_project needs a project that is active; this one is approved",
        ),
    ):
        ws.query("SELECT 1")
    world.gov.activate_project(world.people.olga, "not-yet")
    with lab.workspace(project="not-yet") as ws, pytest.raises(ExtractMissing) as missing:
        ws.query("SELECT 1")
    assert str(missing.value) == (
        "project 'not-yet' has no extract yet; an operator runs 'bastide extract not-yet'"
    )


def test_a_tampered_extract_is_refused(lab: Lab) -> None:
    world = lab.world
    open_project(world, "tampered", world.people.rita, scope({"person": ["person_id"]}))
    extract_project(world.gov, world.people.olga, "tampered")
    person = extract_dir(world.hub, "tampered") / "person.parquet"
    kept = person.with_name("kept")
    os.rename(person, kept)
    try:
        person.symlink_to(Path(lab.paths["other_extract"]).with_name("person.parquet"))
        with (
            lab.workspace(project="tampered") as ws,
            pytest.raises(ExtractError, match=r"person\.parquet is not a regular file"),
        ):
            ws.query("SELECT * FROM person")
        person.unlink()
        person.write_bytes(kept.read_bytes()[:-10])
        with (
            lab.workspace(project="tampered") as ws,
            pytest.raises(ExtractError, match="altered or replaced"),
        ):
            ws.query("SELECT * FROM person")
    finally:
        person.unlink(missing_ok=True)
        os.rename(kept, person)
    with lab.workspace(project="tampered") as ws:
        assert ws.query("SELECT count(*) AS n FROM person").to_pylist() == [{"n": 40}]


def test_limits_come_from_the_hub_settings() -> None:
    limits = Limits.from_settings({"timeout_seconds": "5", "memory_limit": "256MB", "max_rows": 7})
    assert (limits.timeout_seconds, limits.memory_limit, limits.max_rows) == (5.0, "256MB", 7)
    with pytest.raises(WorkspaceError, match="unknown setting"):
        Limits.from_settings({"timeout": 5})
    with pytest.raises(WorkspaceError, match="memory_limit: expected a size"):
        Limits.from_settings({"memory_limit": "lots"})
    with pytest.raises(WorkspaceError, match="max_rows: expected a positive integer"):
        Limits(max_rows=0)


def test_the_query_command(lab: Lab) -> None:
    runner = CliRunner()
    base = ["--project", "asthma-care", "--hub", lab.paths["hub"]]
    done = runner.invoke(app, ["query", "SELECT count(*) AS n FROM person", *base, "--as", "rita"])
    assert done.exit_code == 0, done.output
    assert "40" in done.output and "1 row(s)" in done.output
    listed = runner.invoke(app, ["query", "--tables", *base, "--as", "rita"])
    assert listed.exit_code == 0 and "condition_occurrence" in listed.output
    saved = runner.invoke(
        app, ["query", "SELECT * FROM person", "--save", "all_persons", *base, "--as", "rita"]
    )
    assert saved.exit_code == 0 and "Output 'all_persons': 40 row(s) saved" in saved.output
    refused = runner.invoke(app, ["query", "ATTACH ':memory:' AS m", *base, "--as", "rita"])
    assert refused.exit_code != 0 and "got ATTACH" in str(refused.exception)
    denied = runner.invoke(app, ["query", "SELECT 1", *base, "--as", "stella"])
    assert "needs the role researcher" in str(denied.exception)


def test_a_refusal_on_the_command_line_is_one_line(lab: Lab) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bastide",
            "query",
            "SELECT * FROM read_csv('/etc/passwd')",
            "--project",
            "asthma-care",
            "--hub",
            lab.paths["hub"],
            "--as",
            "rita",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: table function read_csv is not available in the workspace (allowed: "
        "duckdb_columns, duckdb_tables, duckdb_views, generate_series, range, unnest)"
    )
    assert "Traceback" not in proc.stdout + proc.stderr
