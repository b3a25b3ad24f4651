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
