"""Checks that compare columns of one row (each column alone may be valid).

A row rule names the tables it applies to (shell patterns over the schema's declared
name, ``T_MCOaaC``, or its name in the extract), the column it blames and the column it
compares with. A row breaking one is quarantined with the rule's reason, blaming that
column, unless an earlier check already failed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

import pyarrow as pa
import pyarrow.compute as pc

from bastide.sources.schema import SourceSchema


@dataclass(frozen=True)
class NotBefore:
    """``column`` must not be earlier than ``other`` (both present)."""

    source: str
    tables: tuple[str, ...]
    column: str
    other: str
    what: str  # e.g. "exit date"
    reason: str = "out_of_range"

    def applies(self, schema: SourceSchema) -> bool:
        names = {schema.name.upper(), (schema.template or "").upper()}
        return (
            schema.source == self.source
            and any(fnmatchcase(n, t.upper()) for n in names for t in self.tables)
            and schema.has_field(self.column)
            and schema.has_field(self.other)
        )

    def broken(self, column: pa.Array, other: pa.Array) -> pa.Array:
        """True where both values are present and ``column`` < ``other``."""
        return pc.fill_null(pc.less(column, other), False)

    def details(self, column: pa.Array, other: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(
            f"{self.what} {self.column} ",
            pc.cast(column, pa.string()),
            f" is before {self.other} ",
            pc.cast(other, pa.string()),
            "",
        )


ROW_RULES: tuple[NotBefore, ...] = (
    # A PMSI stay cannot end before it starts: a visit and its diagnoses would get an end
    # before their start (the chaining table gives the stay's exact dates).
    NotBefore(
        "snds", ("T_MCOaaC", "T_SSRaaC", "T_HADaaC", "T_RIPaaC"),
        "EXE_SOI_DTF", "EXE_SOI_DTD", "exit date",
    ),
    # The same stay's entry and exit dates as the hospital declared them.
    NotBefore(
        "snds", ("T_MCOaaC", "T_SSRaaC", "T_HADaaC", "T_RIPaaC"),
        "SOR_DAT", "ENT_DAT", "exit date",
    ),
)  # fmt: skip


def row_rules(schema: SourceSchema) -> tuple[NotBefore, ...]:
    """The row rules of a table."""
    return tuple(r for r in ROW_RULES if r.applies(schema))
