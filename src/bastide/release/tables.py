"""Tables of the release workflow in the metadata store (created by migration 0002).

``release_requests`` holds one row per request with its record; ``release_cells`` every
cell of every requested output (population, column, categories, true value, whether it
is published), which the differencing checks read back for the approved ones. The cells
are aggregates of the output, never patient rows; the store is the hub's own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bastide.governance.tables import Base, Project, User, UTCDateTime


class ReleaseRequest(Base):
    __tablename__ = "release_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    output: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    population: Mapped[str] = mapped_column(String(80))
    profile: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # pass, review, fail
    state: Mapped[str] = mapped_column(String(16))  # pending, approved, rejected
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    justification: Mapped[str] = mapped_column(Text)
    exception: Mapped[str] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    original_sha256: Mapped[str] = mapped_column(String(64))
    released_sha256: Mapped[str] = mapped_column(String(64))
    record_sha256: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text)

    project: Mapped[Project] = relationship(lazy="joined")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")


class ReleaseCell(Base):
    __tablename__ = "release_cells"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("release_requests.id"))
    population: Mapped[str] = mapped_column(String(80))
    column_name: Mapped[str] = mapped_column(String(64))
    cell_key: Mapped[str] = mapped_column(Text)  # JSON [[dimension, category], ...]
    value: Mapped[float] = mapped_column(Float)
    published: Mapped[bool] = mapped_column(Boolean)
    is_count: Mapped[bool] = mapped_column(Boolean)
