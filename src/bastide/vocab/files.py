"""Finding and reading the tables of an OHDSI Athena vocabulary download.

Athena writes tab-separated files without quoting (names may hold a bare ``"``); other
deliveries (Eunomia's) are comma-separated with quoted fields. The separator is taken
from the header line. File names may be upper or lower case. Every value is read as
text, with its line number, so that typing errors can name the line (``typing.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from bastide.vocab.errors import VocabularyError, at_line

# The tables of a download, in import order; the first three are required.
REQUIRED_TABLES = ("concept", "concept_relationship", "vocabulary")
OPTIONAL_TABLES = (
    "concept_ancestor",
    "domain",
    "concept_class",
    "relationship",
    "concept_synonym",
)
TABLES = REQUIRED_TABLES + OPTIONAL_TABLES
LINE = "_line"  # the column holding each row's line number in its file


@dataclass(frozen=True)
class RawTable:
    file: str  # the file's name as delivered, for messages
    path: Path
    frame: pl.DataFrame  # every column as text, plus LINE


def locate(directory: Path) -> dict[str, Path]:
    """The delivery's files by table name; VocabularyError if a required one is missing."""
    if not directory.is_dir():
        raise VocabularyError(f"{directory}: no such directory")
    found: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        stem, dot, suffix = path.name.rpartition(".")
        if path.is_file() and dot and suffix.lower() == "csv" and stem.lower() in TABLES:
            if stem.lower() in found:
                raise VocabularyError(
                    f"{directory}: both {found[stem.lower()].name} and {path.name} are present"
                )
            found[stem.lower()] = path
    missing = [f"{t.upper()}.csv" for t in REQUIRED_TABLES if t not in found]
    if missing:
        raise VocabularyError(f"{directory}: no {', '.join(missing)} (an Athena download has them)")
    return found


def read_table(path: Path) -> RawTable:
    """``path`` as text columns (names lower-cased, blanks as nulls) with line numbers."""
    with path.open("rb") as f:
        header = f.readline().decode("utf-8", errors="replace")
    if not header.strip():
        raise at_line(path.name, 1, "empty file (a header line is expected)")
    separator, quote = ("\t", None) if "\t" in header else (",", '"')
    try:
        frame = pl.read_csv(
            path,
            separator=separator,
            quote_char=quote,
            infer_schema=False,
            encoding="utf8-lossy",
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(path, separator, quote, exc) from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    frame = frame.with_columns(
        pl.col(c).str.strip_chars().replace("", None) for c in frame.columns
    ).with_row_index(LINE, offset=2)
    return RawTable(path.name, path, frame.with_columns(pl.col(LINE).cast(pl.Int64)))


def _unreadable(
    path: Path, separator: str, quote: str | None, exc: BaseException
) -> VocabularyError:
    """The first line whose field count differs from the header's, else the reader's
    own message (first line only)."""
    if quote is None:
        with path.open(encoding="utf-8", errors="replace") as f:
            expected = f.readline().count(separator)
            for number, line in enumerate(f, start=2):
                found = line.rstrip("\r\n").count(separator)
                if found != expected and line.strip():
                    return at_line(
                        path.name,
                        number,
                        f"{found + 1} fields where the header has {expected + 1}",
                    )
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return at_line(path.name, None, f"cannot be read as a table ({message})")
