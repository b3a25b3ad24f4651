"""Where outputs and records are kept, and how they are read, written and hashed.

::

    <hub>/projects/<project>/releases/<id>/     the project area: nothing here leaves
        original.parquet, released.parquet      encrypted under the project's key
        original.schema, released.schema        their Arrow schemas (to read them back)
        record.json                             the record as checked
    <hub>/releases/<project>/<id>/              written only when a steward approves
        <output>.csv                            the released table
        record.json                             the record, with the decision

A table's hash is the SHA-256 of its CSV (``table_csv``): for a released table, exactly
the bytes of the released CSV file.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv

from bastide.release.errors import ReleaseError
from bastide.storage import encryption_for
from bastide.storage.parquet_io import open_dataset, write_parquet

if TYPE_CHECKING:
    from bastide.hub import Hub

PROJECTS_DIR = "projects"
RELEASES_DIR = "releases"
WORKSPACE_OUTPUTS = Path("workspace") / "outputs"


def project_scope(project: str) -> str:
    return f"project:{project}"


def pending_dir(hub: Hub, project: str, release_id: int) -> Path:
    return hub.root / PROJECTS_DIR / project / RELEASES_DIR / str(release_id)


def released_dir(hub: Hub, project: str, release_id: int) -> Path:
    return hub.root / RELEASES_DIR / project / str(release_id)


# Floating-point columns are written with this many significant digits (10.8219, not
# 10.821909702179909): more than any estimate of a released table can claim.
CSV_SIGNIFICANT_DIGITS = 6


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return value
    return float(f"{value:.{CSV_SIGNIFICANT_DIGITS}g}")


def rounded(table: pa.Table) -> pa.Table:
    """``table`` with its floating-point columns rounded to ``CSV_SIGNIFICANT_DIGITS``
    significant digits."""
    for i, field in enumerate(table.schema):
        if pa.types.is_floating(field.type):
            values = [_round(v) for v in table.column(i).to_pylist()]
            table = table.set_column(i, field, pa.array(values, type=field.type))
    return table


def table_csv(table: pa.Table) -> bytes:
    """The CSV form of a table (what is released and hashed), floats rounded."""
    sink = io.BytesIO()
    pacsv.write_csv(rounded(table), sink)
    return sink.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def table_sha256(table: pa.Table) -> str:
    return sha256(table_csv(table))


def record_json(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()


# -- reading a researcher's output ------------------------------------------------------
def resolve_output(hub: Hub, project: str, given: str) -> Path:
    """A file path, or the name of an output saved in the project's workspace."""
    path = Path(given)
    if path.is_file():
        return path
    saved = hub.root / PROJECTS_DIR / project / WORKSPACE_OUTPUTS / f"{given}.parquet"
    if saved.is_file():
        return saved
    raise ReleaseError(f"no file {given!r} and no saved output of that name in {project!r}")


def read_output(hub: Hub, project: str, path: Path) -> pa.Table:
    """A CSV file, or a Parquet file encrypted under the project's key (saved outputs)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            return pacsv.read_csv(path)
        except (pa.ArrowInvalid, OSError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ReleaseError(f"{path.name}: not a readable CSV table ({first})") from None
    if suffix == ".parquet":
        return _read_encrypted(hub, project, path)
    raise ReleaseError(f"{path.name}: give a .csv file or a saved .parquet output")


def _read_encrypted(
    hub: Hub, project: str, path: Path, schema: pa.Schema | None = None
) -> pa.Table:
    encryption = encryption_for(hub, project_scope(project))
    if schema is None:
        import pyarrow.parquet as pq

        from bastide.storage.readcheck import check_footers

        props = encryption.file_decryption_properties()
        check_footers([path], encryption, props)
        schema = pq.ParquetFile(str(path), decryption_properties=props).schema_arrow
    return open_dataset([path], schema, encryption=encryption).to_table()


# -- the project area -------------------------------------------------------------------
def write_pending(
    hub: Hub,
    project: str,
    release_id: int,
    original: pa.Table,
    released: pa.Table,
    record: dict[str, Any],
) -> Path:
    directory = pending_dir(hub, project, release_id)
    directory.mkdir(parents=True, exist_ok=False)
    encryption = encryption_for(hub, project_scope(project))
    for name, table in (("original", original), ("released", released)):
        write_parquet(directory / f"{name}.parquet", table, encryption=encryption)
        (directory / f"{name}.schema").write_bytes(table.schema.serialize().to_pybytes())
    (directory / "record.json").write_bytes(record_json(record))
    return directory


def read_pending(hub: Hub, project: str, release_id: int, name: str) -> pa.Table:
    directory = pending_dir(hub, project, release_id)
    try:
        schema = pa.ipc.read_schema(pa.py_buffer((directory / f"{name}.schema").read_bytes()))
    except (OSError, pa.ArrowInvalid):
        raise ReleaseError(
            f"release {release_id}: its {name} table is missing from the project area"
        ) from None
    return _read_encrypted(hub, project, directory / f"{name}.parquet", schema)


def remove_pending(hub: Hub, project: str, release_id: int) -> None:
    shutil.rmtree(pending_dir(hub, project, release_id), ignore_errors=True)


# -- outside the project area -----------------------------------------------------------
def write_released(
    hub: Hub, project: str, release_id: int, output: str, csv: bytes, record: bytes
) -> Path:
    """Write the approved output and its record, all at once (a directory renamed into
    place); refuses to overwrite an earlier release."""
    target = released_dir(hub, project, release_id)
    if target.exists():
        raise ReleaseError(f"release {release_id} was already written to {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{release_id}.", dir=target.parent))
    try:
        for name, data in ((f"{output}.csv", csv), ("record.json", record)):
            with open(staging / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        staging.chmod(0o700)  # owner-only, as every file of the hub
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def remove_released(hub: Hub, project: str, release_id: int) -> None:
    shutil.rmtree(released_dir(hub, project, release_id), ignore_errors=True)
