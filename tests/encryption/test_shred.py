"""``bastide keys shred <project>``: the project's data key is destroyed, its files can
never be read again (a clear error naming the project), and nothing else is affected."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from health_data import conditions, person
from key_backends import Backend
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import Governance
from bastide.hub import Hub
from bastide.keys import KeyShredded
from bastide.storage import DataShredded, Warehouse, encryption_for
from bastide.storage.parquet_io import open_dataset, write_parquet


def extract(hub: Hub, project: str) -> Path:
    path = hub.root / "projects" / project / "cohort.parquet"
    path.parent.mkdir(parents=True)
    write_parquet(path, conditions(50), encryption=encryption_for(hub, f"project:{project}"))
    return path


def read(hub: Hub, project: str, path: Path) -> None:
    enc = encryption_for(hub, f"project:{project}")
    assert open_dataset([path], conditions().schema, encryption=enc).to_table().num_rows == 50


def test_shred_makes_one_project_unreadable_for_ever(backend: Backend, tmp_path: Path) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    with Governance(hub) as gov:  # key operations are governed: an operator acts
        olga = gov.add_user(None, "olga", ["operator"])
        gov.add_user(olga, "stella", ["steward"])
    with Warehouse(hub).begin("load") as w:
        w.write("person", "snds", person())
        w.commit()
    a, b = extract(hub, "a"), extract(hub, "b")
    read(hub, "a", a)
    wrapped = hub.keyring.store.path("project:a")
    record = hub.keyring.store.read("project:a")
    assert record is not None
    blob = base64.b64encode(record.blob)  # as the key store writes it

    shred = ["keys", "shred", "a", "--yes", "--hub", str(hub.root), "--as"]
    refused = CliRunner().invoke(app, [*shred, "stella"])
    assert refused.exit_code != 0 and "manage_keys" in str(refused.exception)
    read(Hub(hub.root), "a", a)  # refused: still readable
    result = CliRunner().invoke(app, [*shred, "olga"])
    assert result.exit_code == 0, result.output

    fresh = Hub(hub.root)
    with pytest.raises(DataShredded, match="project 'a'") as err:
        read(fresh, "a", a)
    assert err.value.path == str(a) and "never be read again" in str(err.value)
    assert not wrapped.exists()
    assert not any(blob in p.read_bytes() for p in hub.root.rglob("*") if p.is_file())
    # Other data is unaffected.
    read(fresh, "b", b)
    snap = Warehouse(fresh).current()
    assert snap is not None and snap.read("person").equals(person())
    # The name cannot be reused to write under a new key, and shredding twice is refused.
    with pytest.raises(KeyShredded):
        write_parquet(
            tmp_path / "x.parquet", conditions(5), encryption=encryption_for(fresh, "project:a")
        )
    again = CliRunner().invoke(app, [*shred, "olga"])
    assert again.exit_code != 0 and "already shredded" in str(again.exception)
    status = CliRunner().invoke(app, ["keys", "status", "--hub", str(hub.root), "--as", "olga"])
    assert "shredded: project:a" in status.output
    with Governance(Hub(hub.root)) as gov:
        outcomes = [
            (e.actor, e.outcome)
            for e in gov.audit.entries(newest_first=False)
            if e.action == "manage_keys" and e.object == "project:a"
        ]
    assert outcomes == [
        ("stella", "denied"),
        ("olga", "allowed"),
        ("olga", "succeeded"),
        ("olga", "allowed"),
        ("olga", "failed"),
    ]


def test_destroy_also_forgets_the_copy_this_process_holds(backend: Backend, tmp_path: Path) -> None:
    hub = backend.make_hub(tmp_path / "hub")
    path = extract(hub, "c")
    enc = encryption_for(hub, "project:c")
    read(hub, "c", path)  # the data key is now cached in memory
    enc.destroy(reason="authorisation expired")
    with pytest.raises(DataShredded, match="project 'c'"):
        open_dataset([path], conditions().schema, encryption=enc)
