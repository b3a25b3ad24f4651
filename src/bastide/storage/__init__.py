"""Storage of the warehouse: immutable Parquet files grouped into atomic, versioned
snapshots. Readers get Arrow datasets; engines never open warehouse files themselves.

Everything a hub stores that holds health data or pseudonyms is encrypted (Parquet modular
encryption, AES-256-GCM) under the hub's keys: ``Warehouse(hub)`` does it by itself, other
writers pass ``encryption_for(hub, scope)`` to ``parquet_io``.

See docs/storage.md (layout, commit protocol) and docs/encryption.md (format, keys).
"""

from bastide.storage.encryption import HubEncryption, encryption_for
from bastide.storage.errors import (
    DataShredded,
    SchemaMismatch,
    SnapshotNotFound,
    StorageError,
    UnreadableFile,
    WarehouseBusy,
)
from bastide.storage.manifest import FileEntry, PartitionInfo
from bastide.storage.parquet_io import ParquetEncryption
from bastide.storage.snapshot import Snapshot, SnapshotInfo, VerifyResult
from bastide.storage.spill import open_engine_for, protect_spill
from bastide.storage.warehouse import GcReport, Warehouse
from bastide.storage.writer import PartitionWriter, SnapshotWriter

__all__ = [
    "DataShredded",
    "FileEntry",
    "GcReport",
    "HubEncryption",
    "ParquetEncryption",
    "PartitionInfo",
    "PartitionWriter",
    "SchemaMismatch",
    "Snapshot",
    "SnapshotInfo",
    "SnapshotNotFound",
    "SnapshotWriter",
    "StorageError",
    "UnreadableFile",
    "VerifyResult",
    "Warehouse",
    "WarehouseBusy",
    "encryption_for",
    "open_engine_for",
    "protect_spill",
]
