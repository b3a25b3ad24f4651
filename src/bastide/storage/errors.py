"""Errors of the storage layer, each with what to do about it."""

from bastide.errors import BastideError


class StorageError(BastideError):
    """A warehouse operation that cannot be done, with the reason."""


class WarehouseBusy(StorageError):
    """Another process holds the warehouse's writer lock."""


class SnapshotNotFound(StorageError):
    """No committed snapshot of that version."""


class SchemaMismatch(StorageError):
    """Data whose columns or types do not fit the table's schema."""


class UnreadableFile(StorageError):
    """A stored file that cannot be read: damaged, truncated, altered, or its key is
    missing or wrong. Never raised after returning any of its rows."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DataShredded(UnreadableFile):
    """A file whose data key was destroyed on purpose (crypto-shredding)."""
