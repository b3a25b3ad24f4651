"""The manifest of a snapshot: what it holds, as immutable values, and its JSON form.

A manifest lists every table of a snapshot with its Arrow schema and its partitions; a
partition lists its Parquet files (path relative to the warehouse, rows, bytes, sha256), its
row count, the version that wrote it and the writer's ``fingerprint`` of its sources.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from bastide.storage.errors import StorageError

FORMAT = "bastide-snapshot/1"

_TABLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PARTITION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def check_table(name: str) -> str:
    if not isinstance(name, str) or not _TABLE.fullmatch(name):
        raise StorageError(
            f"invalid table name {name!r}: lower-case letters, digits and '_' (an SQL name)"
        )
    return name


def check_partition(name: str) -> str:
    if not isinstance(name, str) or not _PARTITION.fullmatch(name) or ".." in name:
        raise StorageError(
            f"invalid partition name {name!r}: letters, digits, '_', '-' and '.', "
            "e.g. 'snds' or 'hospital-750100125'"
        )
    return name


def canonical_json(value: Any, what: str) -> str:
    """Sorted, compact JSON; a clear error for what JSON cannot hold."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{what} must be JSON (str, number, bool, list, dict): {exc}") from exc


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the warehouse root, e.g. data/person/snds/v00000002-….parquet
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PartitionInfo:
    name: str
    rows: int
    files: tuple[FileEntry, ...]
    written_in: int  # the version whose writer produced these files
    fingerprint: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class TableEntry:
    schema: pa.Schema
    partitions: Mapping[str, PartitionInfo]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions.values())


@dataclass(frozen=True)
class Manifest:
    version: int
    parent: int | None
    created: datetime
    message: str
    metadata: Mapping[str, Any]
    tables: Mapping[str, TableEntry] = field(default_factory=dict)

    # -- JSON -------------------------------------------------------------------------
    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "version": self.version,
            "parent": self.parent,
            "created": self.created.isoformat(),
            "message": self.message,
            "metadata": self.metadata,
            "tables": {
                name: {
                    "schema": base64.b64encode(t.schema.serialize().to_pybytes()).decode(),
                    "partitions": {
                        p.name: {
                            "rows": p.rows,
                            "written_in": p.written_in,
                            "fingerprint": p.fingerprint,
                            "files": [vars(f) for f in p.files],
                        }
                        for p in t.partitions.values()
                    },
                }
                for name, t in self.tables.items()
            },
        }
        return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes, source: str) -> Manifest:
        try:
            doc = json.loads(raw)
            if doc.get("format") != FORMAT:
                raise StorageError(f"{source}: unknown manifest format {doc.get('format')!r}")
            tables = {
                name: TableEntry(
                    schema=pa.ipc.read_schema(pa.py_buffer(base64.b64decode(t["schema"]))),
                    partitions={
                        pname: PartitionInfo(
                            name=pname,
                            rows=p["rows"],
                            files=tuple(FileEntry(**f) for f in p["files"]),
                            written_in=p["written_in"],
                            fingerprint=p["fingerprint"],
                        )
                        for pname, p in t["partitions"].items()
                    },
                )
                for name, t in doc["tables"].items()
            }
            return cls(
                version=doc["version"],
                parent=doc["parent"],
                created=datetime.fromisoformat(doc["created"]),
                message=doc["message"],
                metadata=doc["metadata"],
                tables=tables,
            )
        except StorageError:
            raise
        except (ValueError, KeyError, TypeError, pa.ArrowInvalid) as exc:
            raise StorageError(f"{source}: not a readable snapshot manifest ({exc})") from exc
