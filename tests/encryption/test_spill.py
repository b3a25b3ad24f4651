"""Engine spill files: decrypted rows that DuckDB writes to disk when a query outgrows its
memory are encrypted (or, without OpenSSL, the query fails rather than spill in clear)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastide.engines import open_engine
from bastide.errors import BastideError
from bastide.storage.spill import httpfs_extension, protect_spill

MARK = b"SECRET-PSEUDONYM-"
BIG = (
    "CREATE TEMP TABLE big AS SELECT 'SECRET-PSEUDONYM-' || md5(i::varchar) AS s, i "
    "FROM range(2500000) t(i)"
)


def spilled(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.read_bytes().count(MARK) for p in files)


def test_unprotected_spill_files_hold_plaintext(tmp_path: Path) -> None:
    """The control: this is what protect_spill prevents."""
    with open_engine("duckdb", memory_limit="64MB", temp_directory=str(tmp_path / "s")) as e:
        e.execute(BIG)
        files, hits = spilled(tmp_path)
    assert files and hits > 1000


def test_protected_spill_files_are_encrypted(tmp_path: Path) -> None:
    assert httpfs_extension() is not None, "duckdb-extension-httpfs is a dependency"
    directory = tmp_path / "engine" / "session"
    with open_engine("duckdb", memory_limit="64MB") as e:
        protect_spill(e, directory)
        e.execute(BIG)
        files, hits = spilled(tmp_path)
        assert files and hits == 0
        assert e.query("SELECT count(*) AS n FROM big").to_pylist() == [{"n": 2_500_000}]
    assert not directory.exists()  # removed with the session


def test_without_openssl_a_query_that_must_spill_fails(tmp_path: Path) -> None:
    """What protect_spill falls back to when the httpfs extension is not installed: DuckDB
    with temp_file_encryption on and only its read-only crypto refuses to spill."""
    with open_engine("duckdb", memory_limit="64MB", temp_directory=str(tmp_path / "s")) as e:
        e.execute("SET temp_file_encryption = true")  # and no LOAD httpfs
        with pytest.raises(BastideError, match="crypto"):
            e.execute(BIG)
    assert spilled(tmp_path) == (0, 0)
