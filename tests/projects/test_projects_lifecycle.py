"""When a project ends, its extract key is destroyed and every access fails with a clear
message; extraction on approval and the ``bastide extract`` command."""

from __future__ import annotations

from datetime import date

import pytest
from hub_world import World, open_project, scope
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import Governance
from bastide.hub import Hub
from bastide.projects import ProjectEnded, extract_project, open_extract
from bastide.projects.layout import extract_dir
from bastide.projects.retire import retire_ended
from bastide.storage import DataShredded
from bastide.workspace import Workspace

PERSON = {"person": ["person_id", "year_of_birth"]}


def key_state(world: World, project: str) -> tuple[bool, bool]:
    """(the wrapped key exists, a tombstone says it was destroyed)"""
    store = world.hub.keyring.store
    scope_ = f"project:{project}"
    return store.read(scope_) is not None, store.tombstone(scope_) is not None


def test_revocation_destroys_the_key_and_access_fails_clearly(world: World) -> None:
    people, gov = world.people, world.gov
    open_project(world, "withdrawn", people.rita, scope(PERSON))
    extract_project(gov, people.olga, "withdrawn")
    with Workspace(world.hub, "withdrawn", people.rita, governance=gov) as ws:
        assert ws.query("SELECT count(*) AS n FROM person").to_pylist() == [{"n": 40}]
        assert key_state(world, "withdrawn") == (True, False)

        gov.revoke_project(people.stella, "withdrawn", note="consent withdrawn")

        assert key_state(world, "withdrawn") == (False, True)
        with pytest.raises(ProjectEnded) as ended:
            ws.query("SELECT count(*) FROM person")
    assert str(ended.value) == (
        "project 'withdrawn' was revoked on 2025-03-01; its extract key was destroyed"
    )
    # The files are still there, and unreadable for good.
    assert (extract_dir(world.hub, "withdrawn") / "person.parquet").exists()
    with pytest.raises(DataShredded, match=r"project 'withdrawn'.*never be read again"):
        open_extract(Hub(world.hub.root), "withdrawn")
    shred = [e for e in gov.audit.entries(10) if e.action == "destroy_project_key"]
    assert [(e.actor, e.outcome, e.project, e.object) for e in shred] == [
        ("system", "succeeded", "withdrawn", "key:project:withdrawn")
    ]


def test_expiry_destroys_the_key_at_the_first_look(world: World) -> None:
    people, gov = world.people, world.gov
    open_project(world, "short-lived", people.rita, scope(PERSON), expires=date(2025, 3, 10))
    extract_project(gov, people.olga, "short-lived")
    world.clock.advance(days=30)
    assert key_state(world, "short-lived") == (True, False)  # nobody has looked yet
    with (
        Workspace(world.hub, "short-lived", people.rita, governance=gov) as ws,
        pytest.raises(ProjectEnded) as ended,
    ):
        ws.query("SELECT * FROM person")
    assert str(ended.value) == (
        "project 'short-lived' expired on 2025-03-11; its extract key was destroyed"
    )
    assert key_state(world, "short-lived") == (False, True)
    assert gov.audit.verify().ok


def test_a_scheduled_sweep_expires_projects_and_destroys_their_keys(world: World) -> None:
    people, gov = world.people, world.gov
    open_project(world, "ends-soon", people.rita, scope(PERSON), expires=date(2025, 3, 5))
    open_project(world, "goes-on", people.rob, scope(PERSON))
    extract_project(gov, people.olga, "ends-soon")
    extract_project(gov, people.olga, "goes-on")
    world.clock.advance(days=10)
    assert retire_ended(gov, people.olga) == ["ends-soon"]
    assert key_state(world, "ends-soon") == (False, True)
    assert key_state(world, "goes-on") == (True, False)
    assert retire_ended(gov, people.olga) == []  # nothing left to do


def test_a_revocation_in_another_process_destroys_the_key(world: World) -> None:
    """`bastide project revoke` opens its own governance service: the hook is there too."""
    people = world.people
    open_project(world, "elsewhere", people.rita, scope(PERSON))
    extract_project(world.gov, people.olga, "elsewhere")
    result = CliRunner().invoke(
        app, ["project", "revoke", "elsewhere", "--hub", str(world.hub.root), "--as", "stella"]
    )
    assert result.exit_code == 0, result.output
    assert key_state(world, "elsewhere") == (False, True)


def test_closing_a_project_destroys_its_key_too(world: World) -> None:
    people = world.people
    open_project(world, "study-done", people.rita, scope(PERSON))
    extract_project(world.gov, people.olga, "study-done")
    world.gov.close_project(people.rita, "study-done", note="published")
    assert key_state(world, "study-done") == (False, True)


def test_a_hub_can_extract_on_approval(world: World) -> None:
    config = world.hub.root / "bastide.toml"
    config.write_text(config.read_text() + "\n[projects]\nextract_on_approval = true\n")
    hub = Hub(world.hub.root)
    with Governance(hub, clock=world.clock) as gov:
        world.gov, previous = gov, world.gov
        try:
            view = open_project(
                world, "on-approval", world.people.rita, scope(PERSON), activate=False
            )
        finally:
            world.gov = previous
        entries = gov.audit.entries(5)
    assert view.state == "approved"
    assert sorted(open_extract(hub, "on-approval")) == ["person"]
    done = next(e for e in entries if e.action == "extract_project")
    assert (done.actor, done.outcome, done.details_dict["row_counts"]) == (
        "system",
        "succeeded",
        {"person": 40},
    )


def test_the_extract_command(world: World) -> None:
    open_project(world, "by-hand", world.people.rita, scope(PERSON))
    runner = CliRunner()
    hub = ["--hub", str(world.hub.root)]
    done = runner.invoke(app, ["extract", "by-hand", *hub, "--as", "olga"])
    assert done.exit_code == 0, done.output
    assert "person" in done.output and "40 person(s) from snapshot 1" in done.output
    refused = runner.invoke(app, ["extract", "by-hand", *hub, "--as", "rita"])
    assert refused.exit_code != 0
    assert str(refused.exception) == (
        "permission denied: extract_project needs the role operator; the actor has researcher"
    )
    swept = runner.invoke(app, ["extract", "--sweep", *hub, "--as", "olga"])
    assert swept.exit_code == 0 and "No ended project" in swept.output
