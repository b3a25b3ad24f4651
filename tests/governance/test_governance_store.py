"""The metadata store: migrations run on open, models and schema agree, URLs resolve."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bastide.audit.table import metadata as audit_metadata
from bastide.governance import MetadataStore, MetadataStoreError, metadata_url
from bastide.governance.store import schema_head
from bastide.governance.tables import Base
from bastide.hub import Hub

TABLES = {
    "users",
    "user_roles",
    "projects",
    "project_members",
    "project_transitions",
    "catalog_datasets",
    "catalog_variables",
    "catalog_snapshots",
    "audit_log",
}


def test_open_migrates_to_head_and_reopens(metadata_url: str) -> None:
    with MetadataStore(metadata_url) as store:
        assert store.revision() == schema_head()
        assert set(inspect(store.engine).get_table_names()) >= TABLES
    with MetadataStore(metadata_url) as again:  # idempotent
        assert again.revision() == schema_head()


def test_models_match_the_migrated_schema(metadata_url: str) -> None:
    with MetadataStore(metadata_url) as store, store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        for metadata in (Base.metadata, audit_metadata):
            mine = set(metadata.tables)
            # Tables of the other metadata object show up as "remove_table": ignore them.
            diff = [
                d
                for d in compare_metadata(context, metadata)
                if not (d[0] == "remove_table" and d[1].name not in mine)
            ]
            assert diff == [], diff


def test_hub_url_resolves_the_hub_directory(tmp_path: Path) -> None:
    hub = Hub.init(tmp_path / "hub")
    assert metadata_url(hub) == f"sqlite:///{hub.root}/metadata.db"
    with MetadataStore.for_hub(hub):
        pass
    assert (hub.root / "metadata.db").is_file()


def test_postgresql_urls_use_psycopg() -> None:
    store_url = "postgresql://u:secret@127.0.0.1:1/db"
    with pytest.raises(MetadataStoreError) as caught:
        MetadataStore(store_url)
    message = str(caught.value)
    assert message.startswith(
        "the metadata database is unreachable: "
        "cannot open metadata store postgresql+psycopg://u:***@127.0.0.1:1/db"
    )
    assert "secret" not in message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://x@y/z", "unsupported database 'mysql'"),
        ("not a url", "is not a database URL"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(MetadataStoreError, match=message):
        MetadataStore(url)
