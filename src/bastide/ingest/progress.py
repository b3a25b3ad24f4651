"""How long-running ingest steps report progress, without depending on a terminal."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def step(self, label: str, total: int | None = None) -> None:
        """A new step begins (``total`` units if known)."""
        ...

    def advance(self, units: int = 1, detail: str = "") -> None:
        """Work done in the current step."""
        ...


class Silent:
    def step(self, label: str, total: int | None = None) -> None:
        return None

    def advance(self, units: int = 1, detail: str = "") -> None:
        return None
