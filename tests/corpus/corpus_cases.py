"""The bad-input corpus: cases read from defects.toml, their mutations and their outcomes.

Each case spoils a copy of one small clean synthetic extract with a few declarative steps
(``[[case.step]]``), runs the border (or a whole ingest) over it and compares what came
out with the expected outcome written in the case. See docs/border.md, "Bad-input corpus".
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

CORPUS = Path(__file__).with_name("defects.toml")
OUTCOMES = ("quarantined", "rejected", "refused", "listed", "loaded")
LEVELS = ("border", "ingest")
HOSPITAL = "hospitals/590001376"  # the generated hospital with rows in every table
_DELIMITER = {"snds": ";", "omop": ","}


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    source: str  # "snds" or "omop"
    level: str  # "border": the border alone; "ingest": a whole ingest into a hub
    steps: tuple[dict[str, Any], ...]
    expect: dict[str, Any]
    pending: str | None = None  # "item N": owned by another change, skipped until merged
    baseline: bool = False  # ingest the clean extract first (a current snapshot exists)
    accept_shrink: bool = False

    @property
    def outcome(self) -> str:
        return str(self.expect["outcome"])

    @property
    def directory(self) -> str:
        return "snds" if self.source == "snds" else HOSPITAL


def load_cases(path: Path = CORPUS) -> list[Case]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cases = []
    for raw in data["case"]:
        case = Case(
            id=raw["id"],
            description=raw["description"],
            source=raw.get("source", "snds"),
            level=raw.get("level", "border"),
            steps=tuple(raw["step"]),
            expect=dict(raw["expect"]),
            pending=raw.get("pending"),
            baseline=raw.get("baseline", False),
            accept_shrink=raw.get("accept_shrink", False),
        )
        if case.outcome not in OUTCOMES or case.level not in LEVELS:
            raise ValueError(f"{case.id}: unknown outcome or level")
        if case.source not in _DELIMITER:
            raise ValueError(f"{case.id}: unknown source {case.source!r}")
        for step in case.steps:
            if step["op"] not in MUTATIONS:
                raise ValueError(f"{case.id}: unknown step {step['op']!r}")
        cases.append(case)
    ids = [c.id for c in cases]
    duplicated = {i for i in ids if ids.count(i) > 1}
    if duplicated:
        raise ValueError(f"case ids used twice: {sorted(duplicated)}")
    return cases


# -- mutations ------------------------------------------------------------------------
# A step names its file relative to the case's directory (snds/ or the hospital's).
class Extract:
    """The copy of the clean extract a case spoils."""

    def __init__(self, root: Path, case: Case) -> None:
        self.root = root
        self.dir = root / case.directory
        self.delimiter = _DELIMITER[case.source]
        self.outside = root / "outside"  # a place that is not part of the extract

    def path(self, name: str) -> Path:
        return self.dir / name

    def lines(self, name: str) -> list[bytes]:
        return self.path(name).read_bytes().split(b"\n")

    def write_lines(self, name: str, lines: list[bytes]) -> None:
        self.path(name).write_bytes(b"\n".join(lines))

    def rows(self, name: str) -> list[list[str]]:
        text = self.path(name).read_text(encoding="utf-8")
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter))

    def write_rows(self, name: str, rows: list[list[str]], delimiter: str | None = None) -> None:
        out = io.StringIO(newline="")
        csv.writer(out, delimiter=delimiter or self.delimiter, lineterminator="\n").writerows(rows)
        self.path(name).write_text(out.getvalue(), encoding="utf-8")


def _column(rows: list[list[str]], name: str) -> int:
    header = [h.upper() for h in rows[0]]
    return header.index(name.upper())


def _set_field(x: Extract, s: dict[str, Any]) -> None:
    rows = x.rows(s["file"])
    rows[s["line"] - 1][_column(rows, s["column"])] = s["value"]
    x.write_rows(s["file"], rows)
    if "encoding" in s:  # write that one line in another encoding
        lines = x.lines(s["file"])
        line = lines[s["line"] - 1].decode("utf-8")
        lines[s["line"] - 1] = line.encode(s["encoding"])
        x.write_lines(s["file"], lines)


def _append_row(x: Extract, s: dict[str, Any]) -> None:
    """A copy of line ``like`` with some fields changed, appended at the end."""
    rows = x.rows(s["file"])
    row = list(rows[s["like"] - 1])
    for column, value in s.get("set", {}).items():
        row[_column(rows, column)] = value
    rows.append(row)
    x.write_rows(s["file"], rows)


def _duplicate_line(x: Extract, s: dict[str, Any]) -> None:
    lines = x.lines(s["file"])
    lines.insert(s["line"], lines[s["line"] - 1])
    x.write_lines(s["file"], lines)


def _insert_line(x: Extract, s: dict[str, Any]) -> None:
    lines = x.lines(s["file"])
    lines.insert(s["line"] - 1, s["text"].encode("utf-8"))
    x.write_lines(s["file"], lines)


def _replace_line(x: Extract, s: dict[str, Any]) -> None:
    lines = x.lines(s["file"])
    lines[s["line"] - 1] = s["text"].encode("utf-8")
    x.write_lines(s["file"], lines)


def _keep_lines(x: Extract, s: dict[str, Any]) -> None:
    """Keep the first ``count`` lines (1: the header only)."""
    lines = x.lines(s["file"])
    x.write_lines(s["file"], [*lines[: s["count"]], b""])


def _drop_column(x: Extract, s: dict[str, Any]) -> None:
    rows = x.rows(s["file"])
    i = _column(rows, s["column"])
    x.write_rows(s["file"], [r[:i] + r[i + 1 :] if r else r for r in rows])


def _rename_column(x: Extract, s: dict[str, Any]) -> None:
    rows = x.rows(s["file"])
    rows[0][_column(rows, s["column"])] = s["to"]
    x.write_rows(s["file"], rows)


def _add_column(x: Extract, s: dict[str, Any]) -> None:
    rows = x.rows(s["file"])
    x.write_rows(s["file"], [[*rows[0], s["name"]], *[[*r, s["value"]] for r in rows[1:] if r]])


def _delimiter(x: Extract, s: dict[str, Any]) -> None:
    x.write_rows(s["file"], x.rows(s["file"]), delimiter=s["to"])


def _reencode(x: Extract, s: dict[str, Any]) -> None:
    text = x.path(s["file"]).read_text(encoding="utf-8")
    x.path(s["file"]).write_bytes(s.get("prefix", "").encode() + text.encode(s["encoding"]))


def _line_endings(x: Extract, s: dict[str, Any]) -> None:
    data = x.path(s["file"]).read_bytes()
    x.path(s["file"]).write_bytes(data.replace(b"\n", s["to"].encode()))


def _gzip(x: Extract, s: dict[str, Any]) -> None:
    """Compress a file; ``keep`` leaves the original too; ``cut`` truncates the result."""
    source = x.path(s["file"])
    packed = gzip.compress(source.read_bytes())
    if "cut" in s:
        packed = packed[: int(len(packed) * s["cut"])]
    x.path(s.get("name", s["file"] + ".gz")).write_bytes(packed)
    if not s.get("keep", False):
        source.unlink()


def _truncate(x: Extract, s: dict[str, Any]) -> None:
    path = x.path(s["file"])
    data = path.read_bytes()
    path.write_bytes(data[: s["bytes"]] if "bytes" in s else data[: int(len(data) * s["share"])])


def _copy(x: Extract, s: dict[str, Any]) -> None:
    shutil.copyfile(x.path(s["file"]), x.path(s["to"]))


def _move(x: Extract, s: dict[str, Any]) -> None:
    x.path(s["file"]).rename(x.path(s["to"]))


def _split(x: Extract, s: dict[str, Any]) -> None:
    """Split a file into declared parts: ``to`` names, rows shared out (``overlap`` more
    rows of the first part repeated at the start of the second)."""
    rows = x.rows(s["file"])
    header, body = rows[0], [r for r in rows[1:] if r]
    half = len(body) // 2
    first, second = body[:half], body[half - s.get("overlap", 0) :]
    x.path(s["file"]).unlink()
    for name, part in zip(s["to"], (first, second), strict=True):
        x.write_rows(name, [header, *part])


def _write(x: Extract, s: dict[str, Any]) -> None:
    path = x.path(s["name"])
    path.parent.mkdir(parents=True, exist_ok=True)
    if "hex" in s:
        path.write_bytes(bytes.fromhex(s["hex"]))
    else:
        path.write_text(s.get("text", ""), encoding="utf-8")


def _delete(x: Extract, s: dict[str, Any]) -> None:
    if s.get("file") == "*":
        for path in x.dir.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        x.path(s["file"]).unlink()


def _mkfifo(x: Extract, s: dict[str, Any]) -> None:
    os.mkfifo(x.path(s["name"]))


def _mkdir(x: Extract, s: dict[str, Any]) -> None:
    x.path(s["name"]).mkdir()
    if "copy" in s:
        shutil.copyfile(x.path(s["copy"]), x.path(s["name"]) / s["copy"])


def _symlink(x: Extract, s: dict[str, Any]) -> None:
    """A link named ``name`` to ``outside`` (a copy of a file, placed outside the
    extract), to ``directory`` (outside the extract) or to ``target`` in the extract."""
    link = x.path(s["name"])
    if "outside" in s:
        x.outside.mkdir(exist_ok=True)
        target = x.outside / Path(s["outside"]).name
        shutil.copyfile(x.path(s["outside"]), target)
    elif "directory" in s:
        target = x.outside / s["directory"]
        target.mkdir(parents=True, exist_ok=True)
    else:
        target = x.path(s["target"])
    link.symlink_to(target)


_ARROW_TYPES: dict[str, Callable[[list[str]], pa.Array]] = {
    "list": lambda v: pa.array([[len(x)] for x in v], pa.list_(pa.int64())),
    "struct": lambda v: pa.array([{"code": x} for x in v]),
    "map": lambda v: pa.array([[("code", len(x))] for x in v], pa.map_(pa.string(), pa.int64())),
    "binary": lambda v: pa.array([x.encode() for x in v], pa.binary()),
    "int": lambda v: pa.array([int(x) if x.isdigit() else None for x in v], pa.int64()),
}


def _to_parquet(x: Extract, s: dict[str, Any]) -> None:
    """Rewrite a CSV file as Parquet (text columns), some columns with another type."""
    rows = x.rows(s["file"])
    header, body = rows[0], [r for r in rows[1:] if r]
    columns = {name: [r[i] for r in body] for i, name in enumerate(header)}
    arrays = {
        name: _ARROW_TYPES[s["types"][name]](values)
        if name in s.get("types", {})
        else pa.array(values, pa.string())
        for name, values in columns.items()
    }
    pq.write_table(pa.table(arrays), x.path(re.sub(r"\.csv$", ".parquet", s["file"])))
    x.path(s["file"]).unlink()


MUTATIONS: dict[str, Callable[[Extract, dict[str, Any]], None]] = {
    "set_field": _set_field,
    "append_row": _append_row,
    "duplicate_line": _duplicate_line,
    "insert_line": _insert_line,
    "replace_line": _replace_line,
    "keep_lines": _keep_lines,
    "drop_column": _drop_column,
    "rename_column": _rename_column,
    "add_column": _add_column,
    "delimiter": _delimiter,
    "reencode": _reencode,
    "line_endings": _line_endings,
    "gzip": _gzip,
    "truncate": _truncate,
    "copy": _copy,
    "move": _move,
    "split": _split,
    "write": _write,
    "delete": _delete,
    "mkfifo": _mkfifo,
    "mkdir": _mkdir,
    "symlink": _symlink,
    "to_parquet": _to_parquet,
}


def apply(case: Case, clean: Path, into: Path) -> Extract:
    """A copy of the clean extract (the case's source only) with the case's steps applied."""
    x = Extract(into, case)
    shutil.copytree(clean / case.directory, x.dir)
    for step in case.steps:
        MUTATIONS[step["op"]](x, step)
    return x


# -- the list in docs/border.md -------------------------------------------------------
def _expected(case: Case) -> str:
    e = case.expect
    if case.outcome == "quarantined":
        where = f"`{e['column']}`" if "column" in e else "the row"
        return f"quarantined `{e['reason']}` ({where})"
    if case.outcome in ("rejected", "refused"):
        return "file rejected" if case.outcome == "rejected" else "run refused"
    if case.outcome == "listed":
        return f"listed `{e['status']}`"
    return "loaded"


def markdown(cases: list[Case]) -> str:
    rows = ["| case | source | defect | outcome |", "|---|---|---|---|"]
    for c in cases:
        outcome = _expected(c)
        if c.pending:
            outcome += f" — pending {c.pending}"
        where = c.source + (" (ingest)" if c.level == "ingest" else "")
        rows.append(f"| `{c.id}` | {where} | {c.description} | {outcome} |")
    return "\n".join(rows) + "\n"


def _rewrite_docs() -> None:
    docs = Path(__file__).parents[2] / "docs" / "border.md"
    text = docs.read_text(encoding="utf-8")
    start, end = "<!-- corpus:start -->", "<!-- corpus:end -->"
    head, rest = text.split(start, 1)
    tail = rest.split(end, 1)[1]
    docs.write_text(f"{head}{start}\n{markdown(load_cases())}{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    _rewrite_docs()
