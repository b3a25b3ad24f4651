"""The public reference data bastide ships: the OMOP CDM v5.4 specification, the French
nomenclatures (CIM-10, CCAM, CSARR, ATC, BDPM/CIP13, UCD, IR_NAT_V, IR_SPE_V), the SNDS
table schemas and a few Health Data Hub SNDS -> OMOP mapping tables.

They live in ``bundle/`` inside the package, built by ``scripts/build_reference.py`` from
the public source files: zstd Parquet tables of text, with ``index.json`` naming each
table's origin, licence and source checksums and the checksum of every bundle file. Each
file is checked against that manifest when it is first read. Nothing outside the installed
package is read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from bastide.errors import BastideError

BUNDLE = "bundle"
FORMAT_VERSION = 1


class ReferenceDataMissing(BastideError):
    """A reference table bastide needs is not in its bundle."""


class ReferenceDataCorrupt(BastideError):
    """A bundle file does not match the checksum of its manifest."""


@dataclass(frozen=True)
class ReferenceTable:
    """What the index says of one bundled table."""

    name: str
    file: str
    origin: str
    licence: str
    rows: int
    columns: tuple[str, ...]
    header: bool  # False: the source had no header line (columns c1, c2, …)
    sources: dict[str, str]  # source path -> sha256 of the source file


class Bundle:
    """The reference bundle under a folder: reads a file only after checking it against the
    manifest of its index."""

    def __init__(self, root: Traversable) -> None:
        self.root = root
        self.index = self._read_index()

    def read_bytes(self, file: str) -> bytes:
        try:
            return self.root.joinpath(*file.split("/")).read_bytes()
        except FileNotFoundError:
            raise ReferenceDataMissing(
                f"reference bundle file {file} is missing from the installed package: "
                "reinstall bastide"
            ) from None

    def _read_index(self) -> dict[str, Any]:
        index: dict[str, Any] = json.loads(self.read_bytes("index.json"))
        if index.get("format") != FORMAT_VERSION:
            raise ReferenceDataCorrupt(
                f"reference bundle format {index.get('format')!r} is not {FORMAT_VERSION}: "
                "rebuild it with scripts/build_reference.py"
            )
        return index

    def verified(self, file: str) -> bytes:
        data = self.read_bytes(file)
        if self.index["manifest"].get(file) != hashlib.sha256(data).hexdigest():
            raise ReferenceDataCorrupt(
                f"reference bundle file {file} does not match its checksum: reinstall bastide"
            )
        return data

    def entry(self, name: str) -> dict[str, Any]:
        entry: dict[str, Any] | None = self.index["tables"].get(name)
        if entry is None:
            raise ReferenceDataMissing(f"reference table {name!r} is not in the bundle")
        return entry

    def table(self, name: str) -> pa.Table:
        return pq.read_table(pa.BufferReader(self.verified(self.entry(name)["file"])))


@cache
def shipped() -> Bundle:
    """The bundle installed with bastide."""
    return Bundle(resources.files(__package__).joinpath(BUNDLE))


def tables() -> tuple[ReferenceTable, ...]:
    """Every bundled table, with its origin, licence and source checksums."""
    return tuple(
        ReferenceTable(
            name,
            entry["file"],
            entry["origin"],
            entry["licence"],
            entry["rows"],
            tuple(entry["columns"]),
            entry["header"],
            dict(entry["sources"]),
        )
        for name, entry in sorted(shipped().index["tables"].items())
    )


def licence_text(licence: str) -> str:
    """The licence text shipped for a licence named in the index."""
    file = shipped().index["licences"].get(licence)
    if file is None:
        raise ReferenceDataMissing(f"no licence text for {licence!r} in the reference bundle")
    return shipped().verified(file).decode("utf-8")


@cache
def table(name: str) -> pa.Table:
    """A bundled table: every column is text, exactly as in its source file."""
    return shipped().table(name)


def frame(name: str) -> pl.DataFrame:
    """A bundled table as polars reads a CSV file: empty fields are nulls."""
    data = pl.from_arrow(table(name))
    assert isinstance(data, pl.DataFrame)
    return data.with_columns(pl.col(pl.String).replace("", None))


def records(name: str) -> list[dict[str, str]]:
    """A bundled table's rows by column name, as the csv module reads them ("" if absent)."""
    return [
        {k: ("" if v is None else v) for k, v in row.items()} for row in table(name).to_pylist()
    ]


def rows(name: str) -> list[list[str]]:
    """A table's lines as lists of fields, as the csv module reads its source file: the
    header line first where the source had one; short lines keep their length."""
    data = table(name)
    columns = [c.to_pylist() for c in data.columns]
    body = [[v for v in row if v is not None] for row in zip(*columns, strict=True)]
    return [data.column_names, *body] if shipped().entry(name)["header"] else body


@cache
def documents(name: str) -> dict[str, dict[str, Any]]:
    """A bundled set of JSON documents: source path -> parsed document, in path order."""
    data = table(name)
    return {
        path: json.loads(text)
        for path, text in zip(
            data.column("path").to_pylist(), data.column("document").to_pylist(), strict=True
        )
    }
