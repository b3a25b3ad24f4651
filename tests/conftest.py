"""Shared fixtures.

PostgreSQL: ``postgresql_server`` starts a throwaway PostgreSQL 15 for the test session
(initdb in a temporary directory, 127.0.0.1 on a free port, no fsync) and stops it at
the end; ``metadata_url`` runs a test once on SQLite and once on a fresh PostgreSQL
database. Without the server binaries the PostgreSQL runs are skipped, or fail when
``$CI`` is set (CI must test both). ``$BASTIDE_PG_BIN`` points at other binaries.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("BASTIDE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql: runs against a throwaway PostgreSQL server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A running throwaway server; databases are created and dropped per test.

    ``stop()`` and ``start()`` let a fault test take the server away mid-command (a test
    that stops it starts it again before it ends)."""

    def __init__(self, port: int, ctl: list[str] | None = None) -> None:
        self.port = port
        self._ctl = ctl or []

    def stop(self) -> None:
        subprocess.run([*self._ctl, "-m", "immediate", "-w", "stop"], check=True,
                       capture_output=True, timeout=60)  # fmt: skip

    def start(self) -> None:
        subprocess.run([*self._ctl, "-w", "-t", "30", "start"], check=True,
                       capture_output=True, timeout=60)  # fmt: skip

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # names are generated, not input

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run on CI: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _unavailable(f"PostgreSQL server binaries not found in {PG_BIN} (set $BASTIDE_PG_BIN)")
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="bastide-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root: run it as 'postgres'
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            _unavailable("running as root and there is no 'postgres' system user")
        os.chown(base, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=60)

    init = run(
        str(PG_BIN / "initdb"),
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr.strip()}", pytrace=False)
    for _attempt in range(3):  # another process may take the free port first
        port = _free_port()
        options = f"-k {base} -h 127.0.0.1 -p {port} -F -c full_page_writes=off"
        start = run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )
        if start.returncode == 0:
            break
    else:
        detail = log.read_text() if log.exists() else start.stderr
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {detail.strip()[-500:]}", pytrace=False)
    ctl = [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options]
    try:
        yield PostgresServer(port, ctl)
    finally:
        run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty metadata database: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/metadata.db"
        return
    server: PostgresServer = request.getfixturevalue("postgresql_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)
