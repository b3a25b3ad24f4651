"""The ``audit_log`` table. Created by the metadata store's migrations (on PostgreSQL and
SQLite a trigger also refuses UPDATE and DELETE, which stops accidents; the keyed hash
chain is what stops someone who can drop the trigger)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text

metadata = MetaData()

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", String(32), nullable=False),  # ISO 8601 UTC, microseconds, "Z"
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("project", String(64)),
    Column("object", String(200)),
    Column("outcome", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)
