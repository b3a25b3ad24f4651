"""The process's Spark connection: one JVM (local mode) or one Spark Connect client.

A SparkContext is process-wide and its launch settings (master, heap, local directory,
classpath) are fixed when it starts: the first engine session decides them, later ones
share them. Each bastide engine session is then an isolated ``SparkSession`` on it (its
own temporary views and SQL settings).

Settings that make Spark compute what DuckDB computes:

- ``spark.sql.session.timeZone=UTC``: DuckDB timestamps have no time zone;
- ``spark.sql.ansi.enabled=true``: an impossible cast fails instead of becoming null,
  as it does in DuckDB (TRY_CAST is the way to ask for null);
- ``spark.io.encryption.enabled=true``: shuffle, spill and cached blocks Spark writes to
  its local directory are AES-encrypted under a key that lives only in the JVM, so no
  plaintext copy of health data ever reaches disk (see docs/engines.md).
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from bastide.engines.base import QueryError
from bastide.optional import SPARK, require

# pyspark logs every failed query, with its plan and literal values, to stderr: bastide
# reports failures itself, in one line, and its logs never hold patient-level values.
for _logger in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
    logging.getLogger(_logger).disabled = True

_LOCK = threading.Lock()
_ROOT: Any = None  # the SparkSession every engine session derives from


def kms_cache() -> Path:
    """Where the compiled KmsClient class is kept between runs."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bastide" / "spark"


def heap_size(memory_limit: str) -> str:
    """DuckDB-style ``4GB`` / ``512MB`` -> a JVM heap size (``4g`` / ``512m``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT])i?B?\s*", memory_limit, re.IGNORECASE)
    if match is None:
        raise QueryError(f"memory limit {memory_limit!r}: expected a size such as 4GB or 512MB")
    number, unit = float(match.group(1)), match.group(2).lower()
    megabytes = number * {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}[unit]
    return f"{max(int(megabytes), 512)}m"


def spark_settings(
    *, threads: int, memory_limit: str, local_dir: Path | None, partitions: int, local: bool
) -> dict[str, str]:
    """Launch settings of a local Spark for bastide (see the module docstring)."""
    from bastide.keys.spark import compile_kms_client

    classes = str(compile_kms_client(kms_cache()))
    settings = {
        "spark.driver.memory": heap_size(memory_limit),
        # On a cluster the same directory must exist on every executor (or ship the
        # class in a jar with spark.jars): executors unwrap file keys too.
        "spark.driver.extraClassPath": classes,
        "spark.executor.extraClassPath": classes,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.io.encryption.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        # Small local jobs: a few partitions per core, merged further by AQE.
        "spark.sql.shuffle.partitions": str(partitions),
        "spark.sql.adaptive.enabled": "true",
        # Parquet files are written by bastide (pyarrow); read timestamps as they are.
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    if local:
        # Local mode only: a cluster's executors must reach the driver at its real address.
        settings["spark.driver.bindAddress"] = "127.0.0.1"
        settings["spark.driver.host"] = "127.0.0.1"
    if local_dir is not None:
        settings["spark.local.dir"] = str(local_dir)
    return settings


def root_session(
    *,
    master: str = "",
    threads: int = 2,
    memory_limit: str = "4GB",
    local_dir: Path | None = None,
    partitions: int | None = None,
) -> Any:
    """The process's Spark session, started on first use.

    ``master``: empty for ``local[threads]`` here, a cluster URL (``spark://…``,
    ``yarn``, ``k8s://…``), or a Spark Connect URL (``sc://host:15002``).
    """
    global _ROOT
    with _LOCK:
        if _ROOT is not None and not _stopped(_ROOT):
            return _ROOT
        SparkSession = require(SPARK, "pyspark.sql").SparkSession  # the optional extra
        builder = SparkSession.builder.appName("bastide")
        if master.startswith("sc://"):
            builder = builder.remote(master)
        else:
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            builder = builder.master(master or f"local[{threads}]")
            if local_dir is not None:
                local_dir.mkdir(parents=True, exist_ok=True)
            for key, value in spark_settings(
                threads=threads,
                memory_limit=memory_limit,
                # A directory of this process's own: Spark's files are easy to find and
                # clean (a hub's engine sessions use the hub's tmp directory instead).
                local_dir=local_dir or _own_directory(),
                partitions=partitions or max(4, 2 * threads),
                local=not master or master.startswith("local"),
            ).items():
                builder = builder.config(key, value)
        try:
            _ROOT = builder.getOrCreate()
        except Exception as exc:  # JVM that does not start, unreachable Connect server
            raise QueryError(f"Spark did not start: {_first_line(str(exc))}") from exc
        if not master.startswith("sc://"):
            # Failures reach the caller as one-line QueryErrors; Spark's own log would
            # print whole plans (with literal values) on stderr.
            _ROOT.sparkContext.setLogLevel("OFF")
        return _ROOT


def _own_directory() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="bastide-spark-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def new_session(**launch: Any) -> Any:
    """An isolated session (own temporary views and settings) on the shared Spark."""
    root = root_session(**launch)
    if launch.get("master", "").startswith("sc://"):
        from pyspark.sql import SparkSession

        return SparkSession.builder.remote(launch["master"]).create()
    return root.newSession()


def _stopped(session: Any) -> bool:
    context = getattr(session, "_sc", None)
    return context is not None and context._jsc is None


def _first_line(message: str) -> str:
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"
