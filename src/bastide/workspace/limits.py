"""The resource limits of a workspace session, from the hub's ``[workspace]`` settings.

```toml
[workspace]
memory_limit = "1GB"        # DuckDB's memory limit for one query
max_spill = "2GB"           # what one query may spill to disk (encrypted)
threads = 1
timeout_seconds = 60        # a watchdog interrupts the query after this
max_rows = 100000           # rows a query may return
max_result_bytes = 268435456
max_output_rows = 10000000  # rows a saved output may hold
```

(or ``BASTIDE_WORKSPACE__TIMEOUT_SECONDS=120``...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from bastide.workspace.errors import WorkspaceError

_SIZE = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}


def size_in_bytes(text: str) -> int:
    """``"1GB"`` -> 10**9, ``"1GiB"`` -> 2**30 (DuckDB's reading of the same sizes)."""
    match = _SIZE.match(text.strip())
    if match is None:
        raise WorkspaceError(f"expected a size such as '1GB', got {text!r}")
    number = text.strip()[: match.start(2)].strip()
    return int(float(number) * _UNITS[match.group(2).lower()])


@dataclass(frozen=True)
class Limits:
    memory_limit: str = "1GB"
    max_spill: str = "2GB"
    threads: int = 1
    timeout_seconds: float = 60.0
    max_rows: int = 100_000
    max_result_bytes: int = 256 * 1024 * 1024
    max_output_rows: int = 10_000_000

    def __post_init__(self) -> None:
        for name in ("memory_limit", "max_spill"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _SIZE.match(value.strip()):
                raise WorkspaceError(
                    f"[workspace] {name}: expected a size such as '1GB', got {value!r}"
                )
        for name in ("threads", "max_rows", "max_result_bytes", "max_output_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise WorkspaceError(
                    f"[workspace] {name}: expected a positive integer, got {value!r}"
                )
        if not isinstance(self.timeout_seconds, int | float) or self.timeout_seconds <= 0:
            raise WorkspaceError(
                "[workspace] timeout_seconds: expected a positive number, "
                f"got {self.timeout_seconds!r}"
            )

    @classmethod
    def from_settings(cls, values: Mapping[str, Any] | None) -> Limits:
        """Defaults overridden by a ``[workspace]`` table (environment values are text)."""
        known = {f.name: f.type for f in fields(cls)}
        given = dict(values or {})
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise WorkspaceError(f"[workspace]: unknown setting(s) {', '.join(unknown)}")
        limits = cls()
        changes: dict[str, Any] = {}
        for name, value in given.items():
            default = getattr(limits, name)
            if isinstance(value, str) and not isinstance(default, str):
                try:
                    value = type(default)(value.strip())
                except ValueError:
                    raise WorkspaceError(f"[workspace] {name}: not a number: {value!r}") from None
            changes[name] = value
        return replace(limits, **changes)
