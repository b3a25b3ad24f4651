"""Find the source files of an extract and the declared schema of each.

Every entry under the directory is listed: a file whose name matches no declared table,
or whose type is not supported, is ``unrecognised`` with the reason; an entry that is not
a regular file inside the extract (a named pipe, a socket, a device, a symbolic link
leading outside the extract or to a directory, a directory named like a table) is
``refused`` with the reason. Nothing is skipped.

A table is delivered as one file, or as declared parts: ``<TABLE>.part<N>.<ending>``
(``ER_PRS_F.part1.csv``, ``ER_PRS_F.part2.csv.gz``). Yearly PMSI tables (``T_MCO19B``,
``T_MCO20B``) are distinct tables. `delivery_conflicts` finds a table delivered twice.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field, replace
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
_PART = re.compile(r"^(?P<table>.+)\.part(?P<part>\d{1,6})$", re.IGNORECASE)


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
    problem: str | None = None  # why the file is unrecognised or refused
    part: int | None = None  # N of a declared part <TABLE>.partN.csv
    refused: bool = False  # not a regular file of the extract: never read

    @property
    def recognised(self) -> bool:
        return self.schema is not None and not self.refused

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
    part = None
    match = _PART.match(stem)
    if match is not None:
        stem, part = match["table"], int(match["part"])
    table, schema = _schema(source, stem)
    if schema is None:
        problem = f"no declared {source.upper()} table named {stem}"
        return SourceFile(path, relpath, source, fmt, compression, None, problem=problem)
    return SourceFile(path, relpath, source, fmt, compression, table, schema, part=part)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def _refusal(path: Path, root: Path) -> str | None:
    """Why an entry of the extract must not be read, or None for a regular file in it."""
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(root.resolve()):
                return "a symbolic link to a file outside the extract"
            if not target.is_file():
                return f"a symbolic link to {_kind(target.stat().st_mode)}"
            return None
        mode = path.lstat().st_mode
    except (OSError, RuntimeError) as exc:
        return f"cannot be examined ({getattr(exc, 'strerror', None) or 'broken link'})"
    if stat.S_ISREG(mode):
        return None
    return f"{_kind(mode)}, not a regular file"


def _entries(root: Path) -> list[tuple[Path, str | None]]:
    """Every entry to list: regular files, and what must be refused with its reason.

    Sub-directories are walked (``hospitals/<FINESS>/``), except one named like a table
    file (``ER_PHA_F.csv/``): that is refused, as is a symbolic link to a directory."""
    found: list[tuple[Path, str | None]] = []
    for top, dirs, files in os.walk(root, followlinks=False):
        base = Path(top)
        for name in list(dirs):
            path = base / name
            if path.is_symlink():
                dirs.remove(name)
                found.append((path, _refusal(path, root)))
            elif _split_name(name)[1] is not None:
                dirs.remove(name)
                found.append((path, "a directory named like a table file"))
        found.extend((base / name, _refusal(base / name, root)) for name in files)
    return sorted(found, key=lambda e: e[0].as_posix())


def discover(directory: str | Path, source: Source | str = "snds") -> list[SourceFile]:
    """Every entry under ``directory`` (recursively), sorted by relative path."""
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such directory")
    listed = []
    for path, refusal in _entries(root):
        file = describe_file(path, source, root)
        if refusal is not None:
            file = replace(file, problem=refusal, refused=True)
        listed.append(file)
    return listed


def delivery_conflicts(files: list[SourceFile]) -> list[str]:
    """Tables delivered more than once in one directory, each as a message.

    Two files of one table (``ER_PHA_F.csv`` and ``ER_PHA_F.csv.gz``, ``ER_CAM_F.csv``
    and ``er_cam_f.csv``) are a conflict unless each is a declared part with its own
    number; an undivided file next to parts of the same table is one too."""
    by_table: dict[tuple[str, str], list[SourceFile]] = {}
    for f in files:
        if f.recognised and f.table:
            by_table.setdefault((f.group, f.table.upper()), []).append(f)
    problems = []
    for (_, table), group in by_table.items():
        if len(group) < 2:
            continue
        names = ", ".join(f.relpath for f in group)
        parts = [f.part for f in group]
        if None in parts:
            problems.append(
                f"table {table} is delivered more than once ({names}); "
                f"name the files of a table split in parts {table}.part1, {table}.part2, …"
            )
        elif len(set(parts)) < len(parts):
            problems.append(f"table {table}: two files are the same part ({names})")
    return problems
