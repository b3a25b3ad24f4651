"""The warehouse: a directory of immutable Parquet files and snapshot manifests.

Layout (under ``hub.paths.warehouse``)::

    CURRENT                          the committed version, e.g. "3"; the commit point
    LOCK                             flock'ed by the one writer (ingest or gc)
    snapshots/00000003.json          manifests, immutable once committed
    data/<table>/<partition>/*.parquet   immutable files, shared by snapshots
    staging/<writer id>/             files of a writer that has not committed

A snapshot is committed when CURRENT names it; manifests of higher versions are leftovers
of a crash, ignored by readers and removed by ``gc``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bastide.storage.errors import SnapshotNotFound, StorageError
from bastide.storage.lock import WriterLock
from bastide.storage.manifest import Manifest
from bastide.storage.parquet_io import ROW_GROUP_ROWS, ParquetEncryption
from bastide.storage.snapshot import Snapshot, SnapshotInfo
from bastide.storage.writer import FILE_ROWS, SnapshotWriter

if TYPE_CHECKING:
    from bastide.hub import Hub


@dataclass(frozen=True)
class GcReport:
    staging_dirs: int
    manifests: int
    files: int
    bytes: int


class Warehouse:
    """``Warehouse(hub)`` encrypts every file it writes and decrypts every scan with the
    hub's keys (``encryption_for(hub, "warehouse")``): there is no plaintext warehouse in a
    hub. ``Warehouse(path, encryption=...)`` is for stores outside a hub (tests, benches);
    without ``encryption`` it writes plain Parquet."""

    def __init__(self, hub: Hub | Path, *, encryption: ParquetEncryption | None = None) -> None:
        if isinstance(hub, Path):
            self.root = hub.resolve()
        else:
            self.root = hub.paths.warehouse.resolve()
            if encryption is None:
                from bastide.storage.encryption import WAREHOUSE, encryption_for

                encryption = encryption_for(hub, WAREHOUSE)
        self.encryption = encryption

    def _layout(self) -> None:
        for sub in ("snapshots", "data", "staging"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Warehouse({str(self.root)!r})"

    # -- reading ----------------------------------------------------------------------
    def current_version(self) -> int | None:
        try:
            text = (self.root / "CURRENT").read_text()
        except FileNotFoundError:
            return None
        try:
            return int(text.strip())
        except ValueError:
            raise StorageError(f"{self.root / 'CURRENT'}: not a version number") from None

    def current(self) -> Snapshot | None:
        """The committed snapshot readers see, or None before the first commit."""
        version = self.current_version()
        return None if version is None else self._load(version)

    def get(self, version: int) -> Snapshot:
        current = self.current_version()
        if current is None or not 1 <= version <= current:
            raise SnapshotNotFound(f"no committed snapshot {version} (current: {current})")
        return self._load(version)

    def snapshots(self) -> list[SnapshotInfo]:
        """Every committed snapshot still kept, oldest first."""
        current = self.current_version()
        if current is None:
            return []
        infos = []
        for v in self._manifest_versions():
            if v <= current:
                try:
                    infos.append(self._load(v).info)
                except SnapshotNotFound:  # forgotten by a concurrent gc
                    continue
        return infos

    def _manifest_versions(self) -> list[int]:
        folder = self.root / "snapshots"
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    def _load(self, version: int) -> Snapshot:
        path = self.root / "snapshots" / f"{version:08d}.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise SnapshotNotFound(f"snapshot {version} is no longer kept ({path})") from None
        return Snapshot(self.root, Manifest.from_json(raw, str(path)), self.encryption)

    # -- writing ----------------------------------------------------------------------
    def begin(
        self,
        message: str,
        *,
        row_group_rows: int = ROW_GROUP_ROWS,
        file_rows: int = FILE_ROWS,
    ) -> SnapshotWriter:
        """Start the next snapshot from the current one. Raises WarehouseBusy if another
        process is writing."""
        self._layout()
        lock = WriterLock(self.root / "LOCK", message)
        try:
            return SnapshotWriter(
                self,
                self.current(),
                message,
                lock,
                row_group_rows=row_group_rows,
                file_rows=file_rows,
            )
        except BaseException:
            lock.release()
            raise

    def gc(self, *, keep: int | None = None) -> GcReport:
        """Remove what no kept snapshot needs: staging leftovers, uncommitted manifests and
        unreferenced files. ``keep=N`` also forgets all but the newest N snapshots (by
        default every snapshot is kept). Takes the writer lock."""
        if keep is not None and keep < 1:
            raise StorageError("gc keep must be at least 1 (the current snapshot)")
        self._layout()
        lock = WriterLock(self.root / "LOCK", "gc")
        try:
            return self._gc(keep)
        finally:
            lock.release()

    def _gc(self, keep: int | None) -> GcReport:
        staging = [d for d in (self.root / "staging").iterdir()]
        for d in staging:
            shutil.rmtree(d) if d.is_dir() else d.unlink()
        current = self.current_version() or 0
        committed = [v for v in self._manifest_versions() if v <= current]
        kept = committed if keep is None else committed[-keep:]
        doomed = [v for v in self._manifest_versions() if v not in kept]
        # Forget manifests first: a crash after this point only leaves unreferenced files.
        for v in doomed:
            (self.root / "snapshots" / f"{v:08d}.json").unlink()
        for tmp in [self.root / "CURRENT.tmp", *(self.root / "snapshots").glob(".*.tmp")]:
            tmp.unlink(missing_ok=True)
        referenced = {f.path for v in kept for f in self._load(v).files()}
        files = freed = 0
        data = self.root / "data"
        for path in sorted(data.rglob("*")):
            if path.is_file() and path.relative_to(self.root).as_posix() not in referenced:
                freed += path.stat().st_size
                path.unlink()
                files += 1
        for d in sorted((p for p in data.rglob("*") if p.is_dir()), reverse=True):
            if not any(d.iterdir()):
                d.rmdir()
        return GcReport(staging_dirs=len(staging), manifests=len(doomed), files=files, bytes=freed)
