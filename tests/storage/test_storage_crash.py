"""A writer killed (SIGKILL) at any step of a write or commit leaves the previous snapshot
current and reading identically; the lock dies with it and gc clears what it left."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from storage_helpers import content, people

from bastide.storage import Warehouse, WarehouseBusy
from bastide.storage.fsutil import FAULT_ENV, FAULT_STEPS

# The child: a second load that rewrites one partition, drops one and adds a table.
CHILD = """
import sys
import pyarrow as pa
sys.path.insert(0, {helpers!r})
from storage_helpers import people
from bastide.storage import Warehouse

wh = Warehouse(__import__("pathlib").Path(sys.argv[1]))
with wh.begin("second load", row_group_rows=1000, file_rows=2000) as w:
    w.write("person", "snds", people(5000, 4500))
    w.drop_partition("person", "hospital-750100125")
    w.write("death", "snds", pa.table({{"person_id": [1, 2]}}))
    w.commit({{"run": 2}})
"""


def start(root: Path, step: str) -> subprocess.Popen[str]:
    code = CHILD.format(helpers=str(Path(__file__).parent))
    return subprocess.Popen(
        [sys.executable, "-c", code, str(root)],
        env={**os.environ, FAULT_ENV: step},
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_paused(proc: subprocess.Popen[str], step: str) -> None:
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        if line.strip() == f"bastide-storage-fault: paused at {step}":
            return
        seen.append(line)
    pytest.fail(f"child never reached {step}:\n{''.join(seen)}")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def base(tmp_path: Path) -> tuple[Path, dict[str, list[dict]]]:
    """A warehouse holding snapshot 1, and the content it must keep reading."""
    wh = Warehouse(tmp_path / "base")
    with wh.begin("first load", row_group_rows=1000) as w:
        w.write("person", "snds", people(0, 3000))
        w.write("person", "hospital-750100125", people(9000, 40))
        w.write("visit", "snds", pa.table({"visit_id": [1, 2, 3], "person_id": [0, 1, 2]}))
        snap = w.commit({"run": 1})
    return wh.root, {t: content(snap, t) for t in snap.tables()}


def test_kill_at_every_step_leaves_the_previous_snapshot(tmp_path: Path, base) -> None:
    root, expected = base
    roots = {step: tmp_path / step.replace(":", "_") for step in FAULT_STEPS}
    for copy in roots.values():
        shutil.copytree(root, copy)
    children = {step: start(roots[step], step) for step in FAULT_STEPS}  # run side by side
    for step, proc in children.items():
        wait_paused(proc, step)
        kill(proc)

    for step, copy in roots.items():
        wh = Warehouse(copy)
        snap = wh.current()
        assert snap is not None
        if step == "commit:done":  # killed after the commit point: the new snapshot stands
            assert snap.version == 2 and snap.metadata == {"run": 2}, step
            assert snap.tables() == ["death", "person", "visit"] and snap.verify().ok
            assert snap.row_count("person") == 4500
            continue
        assert snap.version == 1, step
        assert [s.version for s in wh.snapshots()] == [1], step
        assert {t: content(snap, t) for t in snap.tables()} == expected, step
        assert snap.verify().ok, step
        # The killed writer's lock is gone; gc leaves exactly snapshot 1's files.
        wh.gc()
        assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*.parquet")) == sorted(
            f.path for f in snap.files()
        ), step
        assert list((copy / "staging").iterdir()) == [] and not (copy / "CURRENT.tmp").exists()
        # And the next load commits normally.
        with wh.begin("retry") as w:
            w.write("person", "snds", people(0, 10))
            assert w.commit().version == 2, step
        assert wh.current().row_count("person") == 50, step  # type: ignore[union-attr]


def test_lock_names_the_live_writer_and_dies_with_it(base) -> None:
    root, _ = base
    proc = start(root, "commit:start")
    try:
        wait_paused(proc, "commit:start")
        with pytest.raises(WarehouseBusy, match=f"pid {proc.pid} .*'second load'"):
            Warehouse(root).begin("concurrent ingest")
    finally:
        kill(proc)
    Warehouse(root).begin("after the crash").abort()
    assert Warehouse(root).current().version == 1  # type: ignore[union-attr]
