"""Named outputs: query results a member saves inside the project's workspace.

They are written under ``projects/<name>/workspace/outputs/``, encrypted under the
project's data key like the extract (so they die with it), and only there: nothing in
the workspace writes anywhere else. A saved output is a table of the workspace from then
on (``SELECT * FROM my_cohort``). Taking one out of the hub is a release, which is a
separate, reviewed step.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from bastide.projects.layout import key_scope, outputs_dir
from bastide.storage import encryption_for
from bastide.storage.fsutil import fsync_dir, write_durably
from bastide.storage.parquet_io import open_dataset, write_parquet
from bastide.storage.readcheck import check_footers
from bastide.workspace.errors import QueryRefused, WorkspaceError

if TYPE_CHECKING:
    import pyarrow.dataset as ds

    from bastide.hub import Hub

OUTPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class OutputInfo:
    name: str
    rows: int
    columns: list[str]
    created: str  # ISO 8601, UTC
    created_by: str
    query_sha256: str
    bytes: int


def check_output_name(name: str, taken: set[str]) -> str:
    if not isinstance(name, str) or not OUTPUT_NAME.match(name):
        raise QueryRefused(
            f"output name {name!r}: use 1-63 lower-case letters, digits and '_', "
            "starting with a letter"
        )
    if name in taken:
        raise QueryRefused(f"{name!r} is already a table of this workspace; choose another name")
    return name


def _paths(hub: Hub, project: str, name: str) -> tuple[Path, Path]:
    directory = outputs_dir(hub, project)
    return directory / f"{name}.parquet", directory / f"{name}.json"


def list_outputs(hub: Hub, project: str) -> list[OutputInfo]:
    directory = outputs_dir(hub, project)
    if not directory.is_dir():
        return []
    found = []
    for meta in sorted(directory.glob("*.json")):
        try:
            found.append(OutputInfo(**json.loads(meta.read_text(encoding="utf-8"))))
        except (ValueError, TypeError) as exc:
            raise WorkspaceError(f"{meta}: not a readable output description ({exc})") from None
    return found


def save_output(
    hub: Hub,
    project: str,
    info: OutputInfo,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
) -> OutputInfo:
    """Write an output (encrypted) and its description; replaces one of the same name."""
    data, meta = _paths(hub, project, info.name)
    data.parent.mkdir(parents=True, exist_ok=True)
    tmp = data.with_name(f".{info.name}.{secrets.token_hex(4)}.tmp")
    try:
        encryption = encryption_for(hub, key_scope(project))
        rows = write_parquet(tmp, batches, schema, encryption=encryption)
        done = OutputInfo(
            **(asdict(info) | {"rows": rows, "columns": schema.names, "bytes": tmp.stat().st_size})
        )
        meta_tmp = meta.with_name(f".{meta.name}.tmp")
        write_durably(meta_tmp, (json.dumps(asdict(done), indent=1) + "\n").encode())
        os.replace(tmp, data)
        os.replace(meta_tmp, meta)
        fsync_dir(data.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return done


def output_datasets(hub: Hub, project: str, outputs: list[OutputInfo]) -> dict[str, ds.Dataset]:
    """The saved outputs as Arrow datasets (regular files only, decrypted with the
    project's key)."""
    import pyarrow.parquet as pq

    encryption = encryption_for(hub, key_scope(project))
    found: dict[str, ds.Dataset] = {}
    for info in outputs:
        data, _ = _paths(hub, project, info.name)
        if not data.is_file() or data.is_symlink():
            raise WorkspaceError(
                f"output {info.name!r} of {project!r} is missing or not a regular file"
            )
        props = encryption.file_decryption_properties()
        check_footers([data], encryption, props)  # a clear error when the key is gone
        schema = pq.ParquetFile(str(data), decryption_properties=props).schema_arrow
        found[info.name] = open_dataset([data], schema, encryption=encryption)
    return found
