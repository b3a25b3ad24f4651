"""``bastide sql``: read-only SQL over the current warehouse snapshot."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.types as patypes
import sqlglot
import sqlglot.expressions as exp
import typer
from rich.table import Table

from bastide.cli.app import HubOption, app, console
from bastide.engines import CANONICAL_DIALECT, QueryError
from bastide.hub import Hub
from bastide.storage import Warehouse, open_engine_for
from bastide.storage.parquet_io import write_parquet

READ_ONLY = "only read-only queries (a single SELECT or WITH … SELECT) are accepted"
# Statements that change something, wherever they hide in a tree.
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Command)


def read_only_query(sql: str) -> exp.Expression:
    """Parse canonical-dialect SQL; accept exactly one read-only query or raise QueryError."""
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)  # its "falling back to Command" warnings
    try:
        statements = [s for s in sqlglot.parse(sql, read=CANONICAL_DIALECT) if s is not None]
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        what = str(first.get("description", exc)).split(" but got <Token")[0]
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        raise QueryError(f"SQL syntax error{where}: {what}") from None
    finally:
        sqlglot_log.setLevel(level)
    if not statements:
        raise QueryError("empty query")
    if len(statements) > 1:
        raise QueryError(f"{READ_ONLY}; got {len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Query) or not isinstance(tree, exp.Expression):
        kind = tree.name.upper() if isinstance(tree, exp.Command) else tree.key.upper()
        raise QueryError(f"{READ_ONLY}; got {kind}")
    if any(isinstance(node, _WRITES) for node in tree.walk()) or any(
        s.args.get("into") for s in tree.find_all(exp.Select)
    ):
        raise QueryError(f"{READ_ONLY}; this query writes")
    return tree


def _cell(value: object) -> str:
    return "[dim]NULL[/]" if value is None else str(value)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT (or WITH … SELECT), DuckDB SQL.")],
    hub: HubOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to print at most.")] = 50,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the whole result to a .csv or .parquet file."),
    ] = None,
    snapshot: Annotated[
        int | None, typer.Option("--snapshot", help="Query this version, not the current.")
    ] = None,
) -> None:
    """Run a read-only query over the warehouse (every table of the snapshot is visible)."""
    tree = read_only_query(query)
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise QueryError(f"--out {out}: the file name must end in .csv or .parquet")
    h = Hub.locate(hub)
    wh = Warehouse(h)
    snap = wh.current() if snapshot is None else wh.get(snapshot)
    if snap is None:
        raise QueryError("the warehouse has no snapshot yet: nothing to query")
    engine = open_engine_for(h)
    try:
        snap.register(engine)
        # Defence in depth: no file, URL or setting is reachable from the query itself.
        engine.restrict()
        reader = engine.stream(tree)
        if out is not None:
            rows = _write(reader, out)
            console.print(f"{rows:,} row(s) written to {out} (snapshot {snap.version})")
        else:
            _show(reader, limit, snap.version)
    finally:
        engine.close()


def _nested(kind: pa.DataType) -> bool:
    return bool(
        patypes.is_map(kind)
        or patypes.is_list(kind)
        or patypes.is_large_list(kind)
        or patypes.is_fixed_size_list(kind)
        or patypes.is_struct(kind)
        or patypes.is_union(kind)
        or (hasattr(patypes, "is_list_view") and patypes.is_list_view(kind))
    )


def _plain(value: object, kind: pa.DataType) -> object:
    """A nested value as JSON-ready data: a map becomes an object (keys as text), a list
    an array, a struct an object; dates and decimals become their ISO/decimal text."""
    if value is None:
        return None
    if patypes.is_map(kind):
        assert isinstance(value, list)
        return {str(k): _plain(v, kind.item_type) for k, v in value}
    if patypes.is_struct(kind):
        assert isinstance(value, dict)
        return {f.name: _plain(value.get(f.name), f.type) for f in kind}
    if _nested(kind) and not patypes.is_union(kind):
        assert isinstance(value, list)
        return [_plain(v, kind.value_type) for v in value]
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal | bytes):
        return str(value) if isinstance(value, Decimal) else value.hex()
    return value


def _as_json_text(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    kind = column.type
    return pa.array(
        [
            None if v is None else json.dumps(_plain(v, kind), ensure_ascii=False, default=str)
            for v in column.to_pylist()
        ],
        type=pa.string(),
    )


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, pa.string()) if _nested(f.type) else f for f in schema],
        metadata=schema.metadata,
    )


def _write(reader: pa.RecordBatchReader, out: Path) -> int:
    """The result in ``out``: Parquet keeps every type; in CSV, a nested column (map,
    list, struct) is written as JSON text, one value per cell."""
    if out.suffix.lower() == ".parquet":
        return write_parquet(out, reader)
    rows = 0
    schema = _csv_schema(reader.schema)
    nested = [i for i, f in enumerate(reader.schema) if _nested(f.type)]
    try:
        with pacsv.CSVWriter(str(out), schema) as writer:
            for batch in reader:
                if nested:
                    columns = [
                        _as_json_text(c) if i in nested else c for i, c in enumerate(batch.columns)
                    ]
                    batch = pa.RecordBatch.from_arrays(columns, schema=schema)
                writer.write_batch(batch)
                rows += batch.num_rows
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        out.unlink(missing_ok=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueryError(
            f"--out {out}: the result cannot be written as CSV ({reason}); "
            "write a .parquet file instead"
        ) from None
    return rows


def _show(reader: pa.RecordBatchReader, limit: int, version: int) -> None:
    batches: list[pa.RecordBatch] = []
    shown = 0
    more = False
    for batch in reader:
        if shown >= limit:
            more = more or batch.num_rows > 0
            break
        batches.append(batch.slice(0, limit - shown))
        more = batch.num_rows > limit - shown
        shown += batches[-1].num_rows
    result = pa.Table.from_batches(batches, reader.schema)
    table = Table(*result.column_names)
    for row in result.to_pylist():
        table.add_row(*(_cell(v) for v in row.values()))
    console.print(table)
    shown_text = f"first {shown} rows (--limit)" if more else f"{shown} row(s)"
    console.print(f"snapshot {version}: {shown_text}", highlight=False)
