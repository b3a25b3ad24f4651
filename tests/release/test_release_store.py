"""The release tables: created by migration 0002, matching the models, on SQLite and
PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bastide.governance import MetadataStore
from bastide.governance.tables import Base
from bastide.release.tables import ReleaseCell, ReleaseRequest


def test_release_models_match_the_migrated_schema(metadata_url: str) -> None:
    mine = {ReleaseRequest.__tablename__, ReleaseCell.__tablename__}
    with MetadataStore(metadata_url) as store, store.engine.connect() as conn:
        assert mine <= set(Base.metadata.tables)
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(context, Base.metadata)
            if not (d[0] == "remove_table" and d[1].name not in Base.metadata.tables)
        ]
        assert diff == [], diff
