"""Alembic environment of the metadata store. bastide runs migrations itself (see
``bastide.governance.store``) and passes the open connection in ``config.attributes``."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
)
with context.begin_transaction():
    context.run_migrations()
