"""The catalogue: the hub's tables (datasets) with their source, latest snapshot and row
count, and variable-level documentation from the OMOP and SNDS specifications.

The functions work inside a caller's session. ``Catalogue`` is the entry point for the
ingestion side: ``Catalogue(hub).record_snapshot(version, {table: rows}, source)`` after
each load. Researchers and stewards browse through ``Governance`` (policy-checked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from bastide.governance.errors import InvalidRequest, NotFound
from bastide.governance.reference_docs import TableDoc, omop_tables, snds_tables, table_doc
from bastide.governance.tables import Dataset, Snapshot, Variable

if TYPE_CHECKING:
    from bastide.audit import AuditLog
    from bastide.hub import Hub

TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,79}$")


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    description: str
    source: str
    snapshot_version: str | None
    row_count: int | None
    updated_at: datetime | None
    variables: int


@dataclass(frozen=True)
class VariableInfo:
    name: str
    type: str
    required: bool
    description: str
    origin: str


def _dataset(session: Session, name: str) -> Dataset | None:
    return session.scalar(select(Dataset).where(func.lower(Dataset.name) == name.lower()))


def _document(session: Session, dataset: Dataset, doc: TableDoc) -> int:
    session.execute(delete(Variable).where(Variable.dataset_id == dataset.id))
    rows = [
        {
            "dataset_id": dataset.id,
            "name": v.name,
            "position": i,
            "type": v.type,
            "required": v.required,
            "description": v.description,
            "origin": doc.origin,
        }
        for i, v in enumerate(doc.variables, start=1)
    ]
    if rows:
        session.execute(insert(Variable), rows)
    if not dataset.description:
        dataset.description = doc.description
    return len(rows)


def document_variables(session: Session, tables: Iterable[str] | None = None) -> int:
    """Describe tables and their variables from the OMOP and SNDS specifications.

    ``tables=None`` documents every OMOP CDM v5.4 table and every SNDS table; tables not
    yet in the catalogue are added (without snapshot). Returns the variables written.
    """
    if tables is None:
        docs = [*omop_tables().values(), *snds_tables().values()]
    else:
        docs = []
        for name in tables:
            doc = table_doc(name)
            if doc is None:
                raise NotFound(f"no OMOP or SNDS specification for table {name!r}")
            docs.append(doc)
    written = 0
    for doc in docs:
        dataset = _dataset(session, doc.name)
        if dataset is None:
            dataset = Dataset(name=doc.name, description=doc.description, source=doc.origin)
            session.add(dataset)
            session.flush()
        written += _document(session, dataset, doc)
    session.flush()
    return written


def record_snapshot(
    session: Session, version: str, tables: Mapping[str, int], source: str, now: datetime
) -> None:
    """Record a load: each table's row count at snapshot ``version``, from ``source``."""
    if not TOKEN.match(version) or not TOKEN.match(source):
        raise InvalidRequest(f"snapshot {version!r} / source {source!r}: not a plain name")
    for table, rows in tables.items():
        if not TABLE_NAME.match(table):
            raise InvalidRequest(f"snapshot {version}: {table!r} is not a table name")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise InvalidRequest(f"snapshot {version}: row count of {table} must be >= 0")
    for table, rows in sorted(tables.items()):
        dataset = _dataset(session, table)
        if dataset is None:
            doc = table_doc(table)
            dataset = Dataset(name=table, description="", source=source)
            session.add(dataset)
            session.flush()
            if doc is not None:
                _document(session, dataset, doc)
        dataset.source = source
        dataset.snapshot_version = version
        dataset.row_count = rows
        dataset.updated_at = now
        session.add(
            Snapshot(
                version=version, source=source, table_name=table, row_count=rows, recorded_at=now
            )
        )
    session.flush()


def list_datasets(session: Session) -> list[DatasetInfo]:
    counts = dict(
        session.execute(
            select(Variable.dataset_id, func.count()).group_by(Variable.dataset_id)
        ).all()
    )
    datasets = session.scalars(select(Dataset).order_by(Dataset.source, Dataset.name)).all()
    return [
        DatasetInfo(
            d.name,
            d.description,
            d.source,
            d.snapshot_version,
            d.row_count,
            d.updated_at,
            counts.get(d.id, 0),
        )
        for d in datasets
    ]


def describe(session: Session, name: str) -> tuple[DatasetInfo, list[VariableInfo]]:
    dataset = _dataset(session, name)
    if dataset is None:
        raise NotFound(f"table {name!r} is not in the catalogue ('bastide catalog' lists them)")
    variables = [
        VariableInfo(v.name, v.type, v.required, v.description, v.origin) for v in dataset.variables
    ]
    info = DatasetInfo(
        dataset.name,
        dataset.description,
        dataset.source,
        dataset.snapshot_version,
        dataset.row_count,
        dataset.updated_at,
        len(variables),
    )
    return info, variables


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Catalogue:
    """Catalogue writes from inside the hub (ingestion), each one audited.

    Entries name ``actor`` (default ``system``: the hub's own processes). Policy checks
    apply to people, through ``Governance``; this is the hook the loader calls.
    """

    def __init__(
        self,
        hub: Hub,
        *,
        actor: str = "system",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from bastide.audit import AuditLog
        from bastide.governance.store import MetadataStore

        self.store = MetadataStore.for_hub(hub)
        self._clock = clock or _utcnow
        self.audit: AuditLog = AuditLog.for_hub(hub, self.store, clock=self._clock)
        self.actor = actor

    def close(self) -> None:
        self.store.close()

    def record_snapshot(self, version: str, tables: dict[str, int], source: str) -> None:
        with self.store.session() as session:
            record_snapshot(session, version, tables, source, self._clock())
            self.audit.append(
                self.actor,
                "record_snapshot",
                "succeeded",
                obj=f"snapshot:{version}",
                reason=f"snapshot {version} of {source} recorded in the catalogue",
                details={"snapshot": version, "source": source, "row_counts": dict(tables)},
                connection=session.connection(),
            )
            session.commit()
        self.audit.sync_head()

    def document_variables(self, tables: Iterable[str] | None = None) -> int:
        with self.store.session() as session:
            written = document_variables(session, tables)
            self.audit.append(
                self.actor,
                "document_variables",
                "succeeded",
                reason="variable documentation drawn from the OMOP and SNDS specifications",
                details={"count": written},
                connection=session.connection(),
            )
            session.commit()
        self.audit.sync_head()
        return written

    def datasets(self) -> list[DatasetInfo]:
        with self.store.session() as session:
            return list_datasets(session)

    def describe(self, name: str) -> tuple[DatasetInfo, list[VariableInfo]]:
        with self.store.session() as session:
            return describe(session, name)
