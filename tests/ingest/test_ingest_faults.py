"""Faults during an ingest: the metadata database stopped at each step, and the main
process killed outright. Each case ends, after the next start, in a consistent and fully
audited state: every audited intent has an outcome, the current snapshot is audited and
catalogued once, no staging folder or staging key is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bastide.audit import AuditLog
from bastide.governance.errors import MetadataUnreachable
from bastide.governance.store import MetadataStore
from bastide.governance.tables import Snapshot as CatalogueSnapshot
from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.ingest.records import pending_intents
from bastide.ingest.steps import BORDER_LANE_STEP, INGEST_STEPS
from bastide.storage import Warehouse
from bastide.storage.fsutil import FAULT_ENV
from bastide.synth import SynthOptions, generate


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small") / "x"
    generate(SynthOptions(persons=300, seed=5, out=out, hospitals=1))
    return out / "snds"


def _hub(root: Path, url: str | None = None) -> Hub:
    Hub.init(root)
    if url is not None:
        config = root / "bastide.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace('url = "sqlite:///{hub}/metadata.db"', f'url = "{url}"'),
            encoding="utf-8",
        )
    return Hub(root)


def assert_consistent(hub: Hub) -> None:
    """Everything published is audited and catalogued once; nothing is left in staging."""
    log = AuditLog(hub)
    try:
        assert log.verify().ok
        assert pending_intents(log, "ingest") == []
        entries = log.entries(newest_first=False)
    finally:
        log.close()
    current = Warehouse(hub).current_version()
    for version in range(1, (current or 0) + 1):
        published = [
            e
            for e in entries
            if e.action == "ingest"
            and e.outcome == "succeeded"
            and e.details_dict.get("snapshot") == str(version)
        ]
        assert len(published) == 1, f"snapshot {version} audited {len(published)} times"
        catalogued = [
            e
            for e in entries
            if e.action == "record_snapshot" and e.details_dict.get("snapshot") == str(version)
        ]
        assert len(catalogued) == 1, f"snapshot {version} catalogued {len(catalogued)} times"
        with MetadataStore.for_hub(hub) as store, store.session() as session:
            rows = session.scalar(
                select(func.count()).where(CatalogueSnapshot.version == str(version))
            )
        assert rows
    assert not list(hub.paths.tmp.glob("ingest-*")), "staging left behind"
    assert not list((hub.paths.wrapped_keys / "staging").glob("*.key")), "staging key left"


@pytest.mark.postgresql
@pytest.mark.parametrize("step", INGEST_STEPS)
def test_metadata_database_stopped_at_each_step(
    step: str, small: Path, tmp_path: Path, postgresql_server, metadata_url: str
) -> None:
    if not metadata_url.startswith("postgresql"):
        pytest.skip("the server is stopped: PostgreSQL only")
    hub = _hub(tmp_path / "hub", metadata_url)
    ingest(hub, small, "snds")  # snapshot 1, recorded
    (small / "IR_BEN_R.csv").touch()  # same content: a new run would be "unchanged"...
    moved = tmp_path / "extract"
    subprocess.run(["cp", "-r", str(small), str(moved)], check=True)
    with (moved / "NOTES.txt").open("w") as f:  # ...an unrecognised file changes it
        f.write("delivery note\n")

    def stop(reached: str) -> None:
        if reached == step:
            postgresql_server.stop()

    try:
        with pytest.raises(MetadataUnreachable, match=r"^the metadata database is unreachable: "):
            ingest(hub, moved, "snds", on_step=stop)
    finally:
        postgresql_server.start()
    published = Warehouse(hub).current_version()
    assert published == (
        2 if INGEST_STEPS.index(step) >= INGEST_STEPS.index("ingest:publish") else 1
    )
    rerun = ingest(hub, moved, "snds")
    if published == 2:  # the rerun records the interrupted publish rather than skip it
        assert rerun.unchanged
        assert rerun.reconciled and "snapshot 2" in rerun.reconciled[0]
        log = AuditLog(hub)
        try:
            recorded = [e for e in log.entries() if e.action == "ingest"][1]
        finally:
            log.close()
        assert recorded.reason.startswith("reconciled after an interruption")
    else:
        assert rerun.version == 2 and not rerun.reconciled
    assert_consistent(hub)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("step", [BORDER_LANE_STEP, "ingest:publish", "ingest:published"])
def test_kill_9_of_the_main_process(step: str, small: Path, tmp_path: Path) -> None:
    hub = _hub(tmp_path / "hub")
    env = {**os.environ, FAULT_ENV: step, "BASTIDE_INGEST__WORKERS": "2", "COLUMNS": "200"}
    child = subprocess.Popen(
        [sys.executable, "-m", "bastide", "ingest", str(small), "--source", "snds",
         "--hub", str(hub.root)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert child.stderr is not None
    for line in child.stderr:
        if f"paused at {step}" in line:
            break
    else:
        pytest.fail(f"the ingest ended without reaching {step} (exit {child.wait()})")
    workers = _children(child.pid)
    if step == BORDER_LANE_STEP:
        assert workers, "the border's worker processes were expected"
    if step != "ingest:published":  # published: the run has removed its staging already
        assert list(hub.paths.tmp.glob("ingest-*")), "a live run has its staging"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    for _ in range(600):  # the kernel ends them; they are not waited for by anyone here
        if not any(_alive(w) for w in workers):
            break
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "worker processes outlived their parent"
    gc = subprocess.run(
        [sys.executable, "-m", "bastide", "gc", "--hub", str(hub.root)],
        capture_output=True, text=True, env={k: v for k, v in env.items() if k != FAULT_ENV},
    )  # fmt: skip
    assert gc.returncode == 0, gc.stderr
    assert "1 staging key(s) destroyed" in gc.stdout or step == "ingest:published"
    if step == "ingest:published":
        assert "snapshot 1, published by an interrupted ingest" in gc.stdout
        assert Warehouse(hub).current_version() == 1
    else:
        assert Warehouse(hub).current_version() is None
    assert_consistent(hub)
    tombstones = list((hub.paths.wrapped_keys / "staging").glob("*.key.shredded"))
    assert len(tombstones) == 1
