"""Deliveries that must not become the current snapshot: empty ones, and shrunken ones.

An extract with no row, or with no person, is an error: publishing it would replace the
source's data with nothing. A delivery that loses more than ``[ingest] max_shrink`` of
the persons or of the rows its source has in the current snapshot is refused unless the
operator accepts it (``bastide ingest --accept-shrink``); the acceptance, with the counts
before and after, goes into the run's audit entry.
"""

from __future__ import annotations

import datetime as dt

from bastide.config import ConfigError, Settings
from bastide.errors import BastideError
from bastide.ingest import tables as t
from bastide.sources import Reconciliation
from bastide.sources.plausibility import DateBounds
from bastide.storage import Snapshot

PERSON = "person"
# the tables whose rows are a source's persons, as read at the border
PERSON_TABLES = frozenset({"IR_BEN_R", "PERSON"})


class DeliveryError(BastideError):
    """A delivery refused as a whole: empty, or shrinking the warehouse unconfirmed."""


def date_bounds(settings: Settings) -> DateBounds:
    """The plausible dates of the hub's settings (the extract is dated by the ingest)."""
    raw = settings.get("ingest", "earliest_date")
    try:
        earliest = dt.date.fromisoformat(str(raw))
        birth = int(settings.get("ingest", "earliest_birth_year"))
    except ValueError as exc:
        raise ConfigError(f"[ingest] earliest_date / earliest_birth_year: {exc}") from None
    return DateBounds(earliest_date=earliest, earliest_birth_year=birth)


def _counts(rows: dict[str, int]) -> dict[str, int]:
    data = {table: n for table, n in rows.items() if table not in t.OWN_TABLES}
    return {"persons": data.get(PERSON, 0), "rows": sum(data.values())}


def _previous(parent: Snapshot | None, partition: str) -> dict[str, int] | None:
    if parent is None:
        return None
    rows = {}
    for table in parent.tables():
        info = parent.partition(table, partition)
        if info is not None:
            rows[table] = info.rows
    return _counts(rows) if rows else None


def check_delivery(
    settings: Settings,
    written: dict[str, int],
    reconciliation: Reconciliation,
    parent: Snapshot | None,
    partition: str,
    *,
    accept_shrink: bool = False,
) -> dict[str, dict[str, int]] | None:
    """Refuse an empty or (unless accepted) shrunken delivery; return the accepted shrink."""
    if reconciliation.rows_read == 0:
        raise DeliveryError(
            f"{partition}: empty delivery (no row in any file); the current snapshot stays"
        )
    new = _counts(written)
    persons_read = sum(
        f.rows_loaded for f in reconciliation.files if (f.table or "").upper() in PERSON_TABLES
    )
    if persons_read == 0:
        raise DeliveryError(
            f"{partition}: empty delivery (no person loaded: the beneficiary or PERSON table "
            "is empty or absent); the current snapshot stays"
        )
    old = _previous(parent, partition)
    if old is None:
        return None
    limit = float(settings.get("ingest", "max_shrink"))
    if not 0 <= limit <= 1:
        raise ConfigError(f"[ingest] max_shrink must be between 0 and 1, not {limit}")
    lost = {
        what: {"before": old[what], "after": new[what]}
        for what in ("persons", "rows")
        if old[what] > 0 and (old[what] - new[what]) / old[what] > limit
    }
    if not lost:
        return None
    if not accept_shrink:
        losses = " and ".join(
            f"{1 - c['after'] / c['before']:.0%} of its {what} ({c['before']:,} to {c['after']:,})"
            for what, c in lost.items()
        )
        raise DeliveryError(
            f"{partition}: the new snapshot would lose {losses}, more than [ingest] "
            f"max_shrink = {limit:.0%}; check the delivery, or confirm with --accept-shrink"
        )
    return lost
