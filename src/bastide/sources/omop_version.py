"""Which OMOP CDM version an extract follows (5.3 or 5.4), told from its columns.

The border reads both through the v5.4 schemas (v5.3 names are declared aliases); the
version is reported with the ingest, with the columns it was told from, so that a
producer sees how their extract was read.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from bastide.sources.discovery import SourceFile
from bastide.sources.omop_schema import V53_RENAMED, V54_ADDED, V54_TABLES
from bastide.sources.reading import SAMPLE_BYTES, detect_delimiter, detect_encoding


@dataclass(frozen=True)
class CdmVersion:
    """``version`` is "5.3", "5.4", or "unknown" when no column tells them apart (read as
    5.4). ``renamed`` lists each v5.3 column read under its v5.4 name ("file: old -> new")."""

    version: str
    v53_evidence: tuple[str, ...] = ()  # "file: column" of v5.3-only names
    v54_evidence: tuple[str, ...] = ()  # "file: column" (or "file") of v5.4-only ones
    renamed: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        if self.version == "unknown":
            return "OMOP CDM version not told by any column: read as v5.4"
        told = (self.v53_evidence if self.version == "5.3" else self.v54_evidence)[:3]
        mixed = " (with v5.4 columns too)" if self.version == "5.3" and self.v54_evidence else ""
        return f"OMOP CDM v{self.version}{mixed}, told by " + "; ".join(told)


def header_names(file: SourceFile) -> list[str] | None:
    """The column names of a file (None when its header cannot be read: the border
    then reports the file)."""
    try:
        if file.format == "parquet":
            return list(pq.read_schema(file.path).names)
        opener = gzip.open if file.compression else open
        with opener(file.path, "rb") as fh:
            sample = fh.read(SAMPLE_BYTES)
    except (OSError, EOFError, pa.ArrowException):
        return None
    line = sample.split(b"\n", 1)[0]
    text = line.decode(detect_encoding(line, True), errors="replace")
    text = text.lstrip("\ufeff").rstrip("\r")
    return next(csv.reader([text], delimiter=detect_delimiter(text, ",")), [])


def detect_cdm_version(files: Iterable[SourceFile]) -> CdmVersion:
    """The CDM version of an extract's recognised OMOP files, told from their columns."""
    v53: list[str] = []
    v54: list[str] = []
    renamed: list[str] = []
    for file in files:
        if file.schema is None or file.table is None:
            continue
        table = file.schema.name
        if table in V54_TABLES:
            v54.append(file.relpath)
        names = header_names(file)
        if names is None:
            continue
        present = {n.strip().lower() for n in names}
        renames = V53_RENAMED.get(table, {})
        for old, new in renames.items():
            if old in present:
                v53.append(f"{file.relpath}: {old}")
                renamed.append(f"{file.relpath}: {old} -> {new}")
            if new in present:
                v54.append(f"{file.relpath}: {new}")
        v54 += [f"{file.relpath}: {c}" for c in V54_ADDED.get(table, ()) if c in present]
    version = "5.3" if v53 else "5.4" if v54 else "unknown"
    return CdmVersion(version, tuple(v53), tuple(v54), tuple(renamed))
