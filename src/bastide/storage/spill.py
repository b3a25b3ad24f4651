"""Engine spill files: where an engine writes decrypted rows when a query outgrows memory.

A hub's engine session spills into its own directory under ``<hub>/tmp/engine/`` and, with
DuckDB's ``temp_file_encryption``, every spill block is AES-GCM encrypted under a random
key that lives only in the process's memory (a spill file is useless once the process has
ended). DuckDB writes encrypted files only with OpenSSL, which its ``httpfs`` extension
brings (the ``duckdb-extension-httpfs`` package, loaded from the wheel, never downloaded).
Without it, a query that needs to spill fails instead of spilling in clear. Spark
encrypts its shuffle, spill and cache files itself (``spark.io.encryption.enabled``).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from bastide.engines.duckdb_engine import httpfs_extension  # noqa: F401  (tests check it)

if TYPE_CHECKING:
    from bastide.engines import Engine
    from bastide.hub import Hub


def protect_spill(engine: Engine, directory: Path) -> None:
    """Make ``engine`` spill only encrypted blocks, into ``directory`` (DuckDB creates it
    on the first spill and removes it when the session closes)."""
    engine.encrypt_spill(directory)


def spill_directory(hub: Hub) -> Path:
    """A fresh spill directory for one engine session of ``hub``."""
    return hub.paths.tmp / "engine" / f"session-{secrets.token_hex(6)}"


def open_engine_for(hub: Hub) -> Engine:
    """An engine session for ``hub``'s data, as configured in ``[engine]``, with encrypted
    spill files in the hub's tmp directory."""
    from bastide.engines import open_engine

    settings = hub.settings
    directory = spill_directory(hub)
    name = settings.get("engine", "name")
    options = {"master": settings.get("engine", "spark_master")} if name == "spark" else {}
    engine = open_engine(
        name,
        threads=settings.get("engine", "threads"),
        memory_limit=settings.get("engine", "memory_limit"),
        temp_directory=str(directory),
        **options,
    )
    try:
        protect_spill(engine, directory)
    except BaseException:
        engine.close()
        raise
    return engine
