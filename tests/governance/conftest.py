"""A hub whose metadata store is the parametrised database (SQLite, then PostgreSQL), a
governance service over it with a clock the tests move, and one account per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bastide.governance import Governance, Identity
from bastide.hub import Hub


class Clock:
    """The time the service sees; tests move it forward to cross expiry dates."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_hub(root: Path, metadata_url: str) -> Hub:
    Hub.init(root)
    config = root / "bastide.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('url = "sqlite:///{hub}/metadata.db"', f'url = "{metadata_url}"')
    config.write_text(text, encoding="utf-8")
    return Hub(root)


@pytest.fixture
def hub(tmp_path: Path, metadata_url: str) -> Hub:
    return make_hub(tmp_path / "hub", metadata_url)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gov(hub: Hub, clock: Clock) -> Iterator[Governance]:
    with Governance(hub, clock=clock) as service:
        yield service


@dataclass(frozen=True)
class People:
    olga: Identity  # operator
    stella: Identity  # steward
    sam: Identity  # steward
    rita: Identity  # researcher
    rob: Identity  # researcher
    audrey: Identity  # auditor


@pytest.fixture
def people(gov: Governance) -> People:
    olga = gov.add_user(None, "olga", ["operator"])
    made = {
        name: gov.add_user(olga, name, [role])
        for name, role in [
            ("stella", "steward"),
            ("sam", "steward"),
            ("rita", "researcher"),
            ("rob", "researcher"),
            ("audrey", "auditor"),
        ]
    }
    return People(olga=olga, **made)
