"""Storage of the warehouse: immutable Parquet files grouped into atomic, versioned
snapshots. Readers get Arrow datasets; engines never open warehouse files themselves.

See docs/storage.md for the layout, the commit protocol and what a crash leaves.
"""

from bastide.storage.errors import SchemaMismatch, SnapshotNotFound, StorageError, WarehouseBusy
from bastide.storage.manifest import FileEntry, PartitionInfo
from bastide.storage.parquet_io import ParquetEncryption
from bastide.storage.snapshot import Snapshot, SnapshotInfo, VerifyResult
from bastide.storage.warehouse import GcReport, Warehouse
from bastide.storage.writer import PartitionWriter, SnapshotWriter

__all__ = [
    "FileEntry",
    "GcReport",
    "ParquetEncryption",
    "PartitionInfo",
    "PartitionWriter",
    "SchemaMismatch",
    "Snapshot",
    "SnapshotInfo",
    "SnapshotNotFound",
    "SnapshotWriter",
    "StorageError",
    "VerifyResult",
    "Warehouse",
    "WarehouseBusy",
]
