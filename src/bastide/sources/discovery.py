"""Find the source files of an extract and the declared schema of each.

Every file under the directory is listed: a file whose name matches no declared table,
or whose type is not supported, is ``unrecognised`` with the reason, never skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bastide.sources.omop_schema import UnknownOmopTable, omop_source_schema
from bastide.sources.schema import SourceSchema
from bastide.sources.snds_schema import resolve_snds_table, snds_source_schema

Source = Literal["snds", "omop"]
SOURCES: tuple[str, ...] = ("snds", "omop")

# file-name ending -> (format, compression); longest endings first
_EXTENSIONS: tuple[tuple[str, str, str | None], ...] = (
    (".csv.gz", "csv", "gzip"),
    (".txt.gz", "csv", "gzip"),
    (".tsv.gz", "csv", "gzip"),
    (".csv", "csv", None),
    (".txt", "csv", None),
    (".tsv", "csv", None),
    (".parquet", "parquet", None),
)


@dataclass(frozen=True)
class SourceFile:
    """One file of an extract, mapped (or not) to a declared table."""

    path: Path
    relpath: str  # relative to the discovered directory, '/'-separated
    source: str
    format: str | None  # "csv" or "parquet"; None when the type is not supported
    compression: str | None  # "gzip" or None
    table: str | None  # the table as named in the extract: T_MCO19B, person
    schema: SourceSchema | None = field(default=None, repr=False)
    problem: str | None = None  # why the file is unrecognised

    @property
    def recognised(self) -> bool:
        return self.schema is not None

    @property
    def group(self) -> str:
        """The sub-directory the file sits in ('' at the top): a hospital's FINESS."""
        parent = self.relpath.rpartition("/")[0]
        return parent

    @property
    def name(self) -> str:
        return self.path.name


def _split_name(name: str) -> tuple[str, str | None, str | None]:
    lower = name.lower()
    for ending, fmt, compression in _EXTENSIONS:
        if lower.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)], fmt, compression
    return name, None, None


def _schema(source: str, stem: str) -> tuple[str | None, SourceSchema | None]:
    if source == "snds":
        resolved = resolve_snds_table(stem)
        if resolved is None:
            return None, None
        return resolved.table, snds_source_schema(resolved.table)
    try:
        schema = omop_source_schema(stem)
    except UnknownOmopTable:
        return None, None
    return schema.name, schema


def describe_file(path: str | Path, source: str, root: str | Path | None = None) -> SourceFile:
    """A `SourceFile` for one path (``root`` is what ``relpath`` is relative to)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r} (expected one of {', '.join(SOURCES)})")
    path = Path(path)
    base = Path(root) if root is not None else path.parent
    try:
        relpath = path.relative_to(base).as_posix()
    except ValueError:
        relpath = path.name
    stem, fmt, compression = _split_name(path.name)
    if fmt is None:
        return SourceFile(path, relpath, source, None, None, None, problem="unsupported file type")
    table, schema = _schema(source, stem)
    if schema is None:
        problem = f"no declared {source.upper()} table named {stem}"
        return SourceFile(path, relpath, source, fmt, compression, None, problem=problem)
    return SourceFile(path, relpath, source, fmt, compression, table, schema)


def discover(directory: str | Path, source: Source | str = "snds") -> list[SourceFile]:
    """Every file under ``directory`` (recursively), sorted by relative path."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory")
    files = sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.as_posix())
    return [describe_file(p, source, root) for p in files]
