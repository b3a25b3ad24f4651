"""Turning what goes wrong when a stored Parquet file is read into one clear error that
names the file.

AES-GCM authenticates every page and the footer, so a damaged or altered file, a wrong or
missing key never yield wrong rows: pyarrow (or DuckDB scanning through it) raises. Those
errors rarely name the file, though, and a scan may span hundreds. So:

- ``check_footers`` opens every file's footer before a dataset is handed out (decrypting
  it needs the key, and authenticates it): wrong/missing/shredded keys, a tampered footer
  and a truncated file are reported at once, naming the file;
- ``reading`` wraps a scan (pyarrow or an engine query): if it fails like a damaged file,
  the files are read one by one to find which, and that file is named.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from bastide.errors import BastideError
from bastide.keys import KeyError_, KeyShredded
from bastide.storage.errors import DataShredded, StorageError, UnreadableFile

if TYPE_CHECKING:
    from bastide.storage.parquet_io import ParquetEncryption

# The last bytes of a Parquet file whose footer is encrypted ("PAR1" when it is plain).
ENCRYPTED_FOOTER_MAGIC = b"PARE"
# Substrings of pyarrow/DuckDB messages that mean "this file cannot be read as stored".
_DAMAGE = (
    "decryption",
    "AES",
    "magic bytes",
    "Unexpected end",
    "Couldn't deserialize thrift",
    "out of bounds",
    "Corrupt",
    "corrupt",
    "truncated",
    "Could not open Parquet input source",
    "plaintext file",
    "encrypted metadata",
)


def reason_for(exc: BaseException) -> tuple[str, type[UnreadableFile]]:
    """What a read error means, in words, and which error class says it."""
    if isinstance(exc, KeyShredded):
        return str(exc), DataShredded
    if isinstance(exc, BastideError):
        return f"cannot be decrypted: {exc}", UnreadableFile
    text = str(exc)
    if "plaintext file" in text:
        return (
            "is not encrypted, but this store only holds encrypted files (refusing to read it)",
            UnreadableFile,
        )
    if "no decryption found" in text or "encrypted metadata" in text:
        return "is encrypted, and no key was given to read it", UnreadableFile
    if "magic bytes" in text or "Unexpected end" in text or "out of bounds" in text:
        return "is not a complete Parquet file (truncated or damaged)", UnreadableFile
    if "decryption" in text or "AES" in text or "tag" in text:
        return (
            "fails authentication (AES-GCM): it was altered or damaged, or it was encrypted "
            "under another key",
            UnreadableFile,
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot be read ({first})", UnreadableFile


def unreadable(path: Path | str, exc: BaseException) -> UnreadableFile:
    reason, cls = reason_for(exc)
    return cls(str(path), reason)


def _open(path: Path | str, encryption: ParquetEncryption | None, props: object) -> pq.ParquetFile:
    return pq.ParquetFile(str(path), decryption_properties=props if encryption else None)


def check_footers(
    paths: Sequence[Path | str], encryption: ParquetEncryption | None, props: object = None
) -> None:
    """Open (and so decrypt and authenticate) every file's footer; raise UnreadableFile."""
    if encryption is not None and props is None:
        props = encryption.file_decryption_properties()
    for path in paths:
        try:
            _open(path, encryption, props).close()
        except (OSError, pa.ArrowException, BastideError) as exc:
            raise unreadable(path, exc) from None
        # pyarrow's key-management reader also accepts plain files: a plain file put in
        # place of an encrypted one would be read without complaint. Its magic says which.
        if encryption is not None and _magic(path) != ENCRYPTED_FOOTER_MAGIC:
            raise UnreadableFile(
                str(path),
                "is not encrypted, but this store only holds encrypted files (refusing to read it)",
            )


def _magic(path: Path | str) -> bytes:
    with open(path, "rb") as f:
        f.seek(-4, os.SEEK_END)
        return f.read(4)


def locate(
    paths: Sequence[Path | str], encryption: ParquetEncryption | None
) -> UnreadableFile | None:
    """Read every file completely, in order; the error of the first that fails, if any."""
    props = encryption.file_decryption_properties() if encryption is not None else None
    for path in paths:
        try:
            f = _open(path, encryption, props)
            try:
                for _ in f.iter_batches(batch_size=65536):
                    pass
            finally:
                f.close()
        except (OSError, pa.ArrowException, BastideError) as exc:
            return unreadable(path, exc)
    return None


def looks_damaged(exc: BaseException) -> bool:
    if isinstance(exc, KeyError_):
        return True
    return any(s in str(exc) for s in _DAMAGE)


@contextlib.contextmanager
def reading(paths: Sequence[Path | str], encryption: ParquetEncryption | None) -> Iterator[None]:
    """Run a scan of ``paths``; a failure caused by one of them is re-raised as an
    ``UnreadableFile`` naming it. Anything else propagates unchanged."""
    try:
        yield
    except UnreadableFile:
        raise
    except (OSError, pa.ArrowException, BastideError) as exc:
        if isinstance(exc, StorageError) or not looks_damaged(exc):
            raise
        culprit = locate(paths, encryption)
        if culprit is None:
            raise
        raise culprit from None
