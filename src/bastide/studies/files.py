"""Where a study run's outputs go.

- `PlainFiles` (a run outside a hub, e.g. on Eunomia): ``tables/<name>.csv``,
  ``figures/<name>.png``, ``cohorts/<name>.json``, ``report.html``.
- `EncryptedFiles` (a run in a project's workspace): nothing readable at rest, like every
  file of a hub that holds health data. Each table is ``tables/<name>.parquet``, encrypted
  under the project's data key — the form ``bastide release request`` reads; figures,
  cohort definitions and the report are rows of ``files.parquet`` (name, media type,
  SHA-256, bytes), encrypted the same way. Destroying the project's key destroys them.

Both write ``manifest.json`` last: names, kinds, columns and hashes, no value of the data.
A table's hash is the SHA-256 of its CSV form (as the release records it); a file's, of
its bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv

from bastide.studies.errors import StudyError

if TYPE_CHECKING:
    from bastide.storage import ParquetEncryption

MANIFEST = "manifest.json"
REPORT = "report.html"
FILES = "files.parquet"
FILES_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("media_type", pa.string()),
        ("sha256", pa.string()),
        ("data", pa.binary()),
    ]
)


def table_csv(table: pa.Table) -> bytes:
    """A table's CSV form, as a release writes it (floats to 6 significant digits)."""
    from bastide.release.files import table_csv as release_csv

    return release_csv(table)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class OutputFiles(Protocol):
    directory: Path

    def table(self, name: str, table: pa.Table) -> dict[str, str]: ...

    def file(self, name: str, media_type: str, data: bytes) -> dict[str, str]: ...

    def finish(self, manifest: dict[str, Any]) -> None: ...


def _prepare(directory: Path) -> Path:
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise StudyError(f"{directory}: the output directory exists and is not empty")
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    return directory


def _write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, directory / MANIFEST)


class PlainFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = _prepare(directory)

    def table(self, name: str, table: pa.Table) -> dict[str, str]:
        data = table_csv(table)
        path = self.directory / "tables" / f"{name}.csv"
        path.write_bytes(data)
        return {"file": path.relative_to(self.directory).as_posix(), "sha256": sha256(data)}

    def file(self, name: str, media_type: str, data: bytes) -> dict[str, str]:
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return {"file": name, "sha256": sha256(data)}

    def finish(self, manifest: dict[str, Any]) -> None:
        _write_manifest(self.directory, manifest)


class EncryptedFiles:
    def __init__(self, directory: Path, encryption: ParquetEncryption) -> None:
        self.directory = _prepare(directory)
        self.encryption = encryption
        self._files: list[dict[str, Any]] = []

    def table(self, name: str, table: pa.Table) -> dict[str, str]:
        from bastide.storage.parquet_io import write_parquet

        path = self.directory / "tables" / f"{name}.parquet"
        write_parquet(path, table, encryption=self.encryption)
        return {
            "file": path.relative_to(self.directory).as_posix(),
            "sha256": sha256(table_csv(table)),
        }

    def file(self, name: str, media_type: str, data: bytes) -> dict[str, str]:
        digest = sha256(data)
        self._files.append({"name": name, "media_type": media_type, "sha256": digest, "data": data})
        return {"file": f"{FILES}#{name}", "sha256": digest}

    def finish(self, manifest: dict[str, Any]) -> None:
        from bastide.storage.parquet_io import write_parquet

        files = pa.Table.from_pylist(self._files, schema=FILES_SCHEMA)
        write_parquet(self.directory / FILES, files, encryption=self.encryption)
        _write_manifest(self.directory, manifest)


@dataclass(frozen=True)
class RunFiles:
    """A run's outputs read back (decrypted with ``encryption`` for a workspace run)."""

    directory: Path
    manifest: dict[str, Any]
    encryption: Any = None

    @classmethod
    def open(cls, directory: Path, encryption: ParquetEncryption | None = None) -> RunFiles:
        path = Path(directory) / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StudyError(f"{directory}: not a study run (no {MANIFEST})") from None
        except ValueError as exc:
            raise StudyError(f"{path}: not readable ({exc})") from None
        return cls(Path(directory), manifest, encryption)

    def entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [o for o in self.manifest["outputs"] if kind is None or o["kind"] == kind]

    def _entry(self, name: str) -> dict[str, Any]:
        for o in self.manifest["outputs"]:
            if o["name"] == name:
                return o
        raise StudyError(f"the run has no output {name!r}")

    def table(self, name: str) -> pa.Table:
        entry = self._entry(name)
        path = self.directory / entry["file"]
        if path.suffix == ".csv":
            table = pacsv.read_csv(path)
        else:
            table = _read_parquet(path, self.encryption)
        if sha256(table_csv(table)) != entry["sha256"] and path.suffix != ".csv":
            raise StudyError(f"{path.name}: does not match the run's manifest")
        return table

    def file(self, name: str) -> bytes:
        entry = self._entry(name)
        if "#" not in entry["file"]:
            data = (self.directory / entry["file"]).read_bytes()
        else:
            files = _read_parquet(self.directory / FILES, self.encryption).to_pylist()
            stored = entry["file"].split("#", 1)[1]
            found = [f["data"] for f in files if f["name"] == stored]
            if not found:
                raise StudyError(f"the run's {FILES} has no {stored!r}")
            data = found[0]
        if sha256(data) != entry["sha256"]:
            raise StudyError(f"{entry['file']}: does not match the run's manifest")
        return data

    def report(self) -> str:
        return self.file("report").decode("utf-8")


def _read_parquet(path: Path, encryption: Any) -> pa.Table:
    import pyarrow.parquet as pq

    from bastide.storage.parquet_io import open_dataset

    if encryption is None:
        return pq.read_table(path)
    from bastide.storage.readcheck import check_footers

    props = encryption.file_decryption_properties()
    check_footers([path], encryption, props)
    schema = pq.ParquetFile(str(path), decryption_properties=props).schema_arrow
    return open_dataset([path], schema, encryption=encryption).to_table()
