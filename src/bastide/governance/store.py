"""The metadata store: one SQLAlchemy engine over SQLite (embedded default) or PostgreSQL,
brought to the latest schema by the shipped Alembic migrations when it is opened.

The URL is the hub's ``[metadata] url`` with ``{hub}`` replaced by the hub directory.
``postgresql://`` URLs use the psycopg 3 driver.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bastide.filemodes import private_file
from bastide.governance.errors import MetadataStoreError, MetadataUnreachable
from bastide.optional import POSTGRES, require

if TYPE_CHECKING:
    from bastide.hub import Hub

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_SCHEMES = {"sqlite", "postgresql"}
_migrated: set[str] = set()  # URLs brought to head in this process
_lock = threading.Lock()


def metadata_url(hub: Hub) -> str:
    """The hub's metadata URL with ``{hub}`` resolved."""
    raw = str(hub.settings.get("metadata", "url"))
    return raw.replace("{hub}", str(hub.root))


def unreachable(exc: BaseException) -> MetadataUnreachable:
    """One clear error for a database that stopped answering, with the driver's first line
    (never a stack trace, never a query or its parameters)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return MetadataUnreachable(f"the metadata database is unreachable: {first}")


@contextlib.contextmanager
def metadata_errors(after: str = "") -> Iterator[None]:
    """Turn a lost database connection inside the block into ``MetadataUnreachable``;
    ``after`` is added to its message (what was already done, what happens next)."""
    try:
        yield
    except DBAPIError as exc:
        error = unreachable(exc)
        if after:
            error = MetadataUnreachable(f"{error}; {after}")
        raise error from None


def _normalise(url: str) -> str:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise MetadataStoreError(f"[metadata] url is not a database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend not in _SCHEMES:
        raise MetadataStoreError(
            f"[metadata] url: unsupported database {backend!r} (use sqlite or postgresql)"
        )
    if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "postgresql+psycopg":
        require(POSTGRES)  # psycopg 3, the optional extra `postgres`
    return parsed.render_as_string(hide_password=False)


def _private_sqlite_file(database: str | None) -> None:
    """The SQLite file (password hashes, the audit log) is created 0600, and an older
    one loses any group or other permission; its -wal and -shm files take its mode."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.is_dir():
        private_file(path)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 10000")
    # Write-ahead log: readers never block the writer, one fsync per commit.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


class MetadataStore:
    """An open metadata database. Use ``session()`` for work; ``close()`` when done."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        if isinstance(url_or_engine, Engine):
            self.engine: Engine = url_or_engine
            self.url = self.engine.url.render_as_string(hide_password=False)
            _normalise(self.url)  # still only SQLite or PostgreSQL
            self._owned = False
        else:
            self.url = _normalise(url_or_engine)
            try:
                self.engine = create_engine(self.url)
            except ImportError as exc:  # another driver named in the URL, not installed
                raise MetadataStoreError(
                    f"[metadata] url: the database driver is not installed ({exc})"
                ) from None
            self._owned = True
            if self.engine.dialect.name == "sqlite":
                _private_sqlite_file(self.engine.url.database)
                event.listen(self.engine, "connect", _sqlite_pragmas)
        self.safe_url = self.engine.url.render_as_string(hide_password=True)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()

    @classmethod
    def for_hub(cls, hub: Hub) -> MetadataStore:
        return cls(metadata_url(hub))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self._sessions()

    def revision(self) -> str | None:
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self) -> None:
        """Bring the schema to the latest revision (once per URL and process)."""
        with _lock:
            if self.url in _migrated:
                return
            head = schema_head()
            try:
                with self.engine.begin() as conn:
                    current = MigrationContext.configure(conn).get_current_revision()
                    if current != head:
                        known = {
                            s.revision
                            for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
                        }
                        if current is not None and current not in known:
                            raise MetadataStoreError(
                                f"metadata store {self.safe_url} is at schema revision "
                                f"{current}, unknown to this bastide (latest {head}); upgrade "
                                "bastide"
                            )
                        config = _alembic_config()
                        config.attributes["connection"] = conn
                        command.upgrade(config, "head")
            except DBAPIError as exc:
                cause = getattr(exc, "orig", None) or exc
                first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
                raise MetadataUnreachable(
                    f"the metadata database is unreachable: cannot open metadata store "
                    f"{self.safe_url}: {first}"
                ) from None
            except SQLAlchemyError as exc:
                cause = getattr(exc, "orig", None) or exc  # the driver's own message
                first = (str(cause).splitlines() or [type(cause).__name__])[0]
                raise MetadataStoreError(
                    f"cannot open metadata store {self.safe_url}: {first}"
                ) from None
            _migrated.add(self.url)

    def close(self) -> None:
        """Release connections (an engine passed in by the caller stays theirs)."""
        if self._owned:
            self.engine.dispose()

    def __enter__(self) -> MetadataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
