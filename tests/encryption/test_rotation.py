"""``bastide keys rotate``: a new master key re-wraps every data key; no data is rewritten,
everything still reads, and the old master key opens nothing any more."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from health_data import conditions, person
from key_backends import Backend
from typer.testing import CliRunner

from bastide.cli import app
from bastide.governance import Governance
from bastide.hub import Hub
from bastide.keys.store import WrappedKey
from bastide.storage import Warehouse, encryption_for
from bastide.storage.parquet_io import open_dataset, write_parquet


def loaded(backend: Backend, root: Path) -> Hub:
    hub = backend.make_hub(root)
    with Governance(hub) as gov:  # key operations are governed: an operator acts
        olga = gov.add_user(None, "olga", ["operator"])
        gov.add_user(olga, "rita", ["researcher"])
    with Warehouse(hub).begin("load") as w:
        w.write("person", "snds", person())
        w.write("condition_occurrence", "snds", conditions())
        w.commit()
    extract = root / "projects" / "p1" / "cohort.parquet"
    extract.parent.mkdir(parents=True)
    write_parquet(extract, conditions(50), encryption=encryption_for(hub, "project:p1"))
    return hub


def fingerprints(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def readable(root: Path) -> None:
    hub = Hub(root)
    snap = Warehouse(hub).current()
    assert snap is not None
    assert snap.read("person").equals(person())
    assert snap.read("condition_occurrence").equals(conditions())
    extract = root / "projects" / "p1" / "cohort.parquet"
    enc = encryption_for(hub, "project:p1")
    assert (
        open_dataset([extract], conditions().schema, encryption=enc)
        .to_table()
        .equals(conditions(50))
    )


def test_rotate_rewraps_every_data_key_and_rewrites_no_data(
    backend: Backend, tmp_path: Path
) -> None:
    hub = loaded(backend, tmp_path / "hub")
    before = fingerprints(hub.root)
    old_master = hub.keys.key_id
    backup = backend.backup_master(hub)

    refused = CliRunner().invoke(app, ["keys", "rotate", "--hub", str(hub.root), "--as", "rita"])
    assert refused.exit_code != 0 and "manage_keys needs the role operator" in str(
        refused.exception
    )
    assert Hub(hub.root).keys.key_id == old_master

    result = CliRunner().invoke(app, ["keys", "rotate", "--hub", str(hub.root), "--as", "olga"])
    assert result.exit_code == 0, result.output
    # pseudonym secret, audit log, person and condition_occurrence snapshots, project p1
    assert "Re-wrapped 5 data key(s)" in result.output
    with Governance(Hub(hub.root)) as gov:
        entries = [e for e in gov.audit.entries(newest_first=False) if e.action == "manage_keys"]
    assert [(e.actor, e.outcome) for e in entries] == [
        ("rita", "denied"),
        ("olga", "allowed"),
        ("olga", "succeeded"),
    ]

    assert fingerprints(hub.root) == before  # not one data file rewritten
    fresh = Hub(hub.root)
    new_master = fresh.keys.key_id
    assert new_master != old_master
    assert {r.master for r in fresh.keyring.store.records()} == {new_master}
    assert fresh.keys.next_key() is None
    readable(hub.root)

    # A process holding the old master key (a kept copy of the key file, or a backup of
    # the HSM token) opens nothing any more.
    done = subprocess.run(
        [sys.executable, "-m", "bastide", "sql", "SELECT count(*) FROM person",
         "--hub", str(hub.root)],
        capture_output=True, text=True, env=backend.env_with_master(backup), timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert "does not open with this master key" in done.stderr
    assert old_master in done.stderr and "Traceback" not in done.stderr


def test_an_interrupted_rotation_keeps_everything_readable_and_resumes(
    backend: Backend, tmp_path: Path
) -> None:
    hub = loaded(backend, tmp_path / "hub")
    ring = hub.keyring
    new = ring.provider.next_key(create=True)
    assert new is not None
    new_id = new.key_id
    first = next(ring.store.records())  # re-wrapped, then the rotation "crashes"
    key = ring.provider.unwrap(first.blob, first.scope.encode())
    ring.store.replace(
        WrappedKey(first.scope, new.key_id, new.wrap(key, first.scope.encode()), first.created)
    )

    readable(hub.root)  # half re-wrapped: both master keys open what they wrapped
    status = CliRunner().invoke(app, ["keys", "status", "--hub", str(hub.root), "--as", "olga"])
    assert "rotation was interrupted" in status.output

    report = Hub(hub.root).keyring.rotate()
    assert (report.already_done, report.rewrapped) == (1, 4)  # of 5, the audit key included
    assert report.new_master == new_id
    readable(hub.root)
    status = CliRunner().invoke(app, ["keys", "status", "--hub", str(hub.root), "--as", "olga"])
    assert "rotation was interrupted" not in status.output and report.new_master in status.output
