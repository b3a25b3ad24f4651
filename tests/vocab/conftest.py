"""A hub with an operator and a researcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bastide.governance import Governance, Identity
from bastide.hub import Hub


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub.init(tmp_path / "hub")


@pytest.fixture
def gov(hub: Hub) -> Iterator[Governance]:
    with Governance(hub) as service:
        yield service


@pytest.fixture
def olga(gov: Governance) -> Identity:
    return gov.add_user(None, "olga", ["operator"], "olga-password-123")


@pytest.fixture
def rita(gov: Governance, olga: Identity) -> Identity:
    return gov.add_user(olga, "rita", ["researcher"], "rita-password-123")
