"""The parser allow-list: a researcher's SQL is accepted only as one read-only query over
the project's own tables.

The text is parsed with sqlglot in bastide's canonical dialect (DuckDB's). It is refused
unless it is exactly one ``SELECT`` (or ``WITH … SELECT``, or a set operation of them)
that writes nothing, and unless every table it names is one of the project's tables,
one of its own saved outputs, a common table expression in scope, or
``information_schema.tables``/``columns``; table functions are limited to
``TABLE_FUNCTIONS``; functions that reach files, URLs, settings, the environment or the
engine's internals (``DENIED_FUNCTIONS``, ``DENIED_PREFIXES``) are refused wherever they
appear. What runs is the tree rendered back to SQL without its comments, never the
original text, so a comment cannot smuggle a second statement in.

Everything refused here is refused again by the engine's lock-down (``sandbox``) where
the engine can tell; this layer also catches what the engine would allow (an
in-memory ``ATTACH``, temporary tables and macros, reading its settings).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import sqlglot
import sqlglot.expressions as exp

from bastide.engines import CANONICAL_DIALECT
from bastide.workspace.errors import QueryRefused

MAX_SQL_CHARS = 100_000
# A constant expression may build at most this many characters or list elements: beyond,
# one value outgrows any memory limit before the engine can count it (repeat('x', 4e9)).
MAX_CONSTANT_SIZE = 10_000_000
READ_ONLY = "only one read-only query (SELECT or WITH … SELECT) is accepted in the workspace"
TABLE_FUNCTIONS = frozenset(
    {"range", "generate_series", "unnest", "duckdb_tables", "duckdb_columns", "duckdb_views"}
)
CATALOGUE_VIEWS = frozenset({("information_schema", "tables"), ("information_schema", "columns")})
DENIED_FUNCTIONS = frozenset(
    {
        "glob",
        "getenv",
        "current_setting",
        "query",
        "query_table",
        "sniff_csv",
        "which_secret",
        "checkpoint",
        "force_checkpoint",
        "enable_logging",
        "disable_logging",
        "truncate_duckdb_logs",
        "load_extension",
        "install_extension",
        "from_substrait",
        "from_substrait_json",
        "get_substrait",
        "get_substrait_json",
        "export_database",
        "import_database",
    }
)
DENIED_PREFIXES = (
    "read_",
    "parquet_",
    "pragma_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "arrow_",
    "python_",
    "json_execute",
    "duckdb_",
)
DENIED_SUFFIXES = ("_scan",)
# Statements sqlglot may not parse at all: named as such rather than as a syntax error.
_STATEMENT_WORDS = frozenset(
    {
        "ALTER",
        "ATTACH",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DELETE",
        "DESCRIBE",
        "DETACH",
        "DROP",
        "EXECUTE",
        "EXPORT",
        "FORCE",
        "IMPORT",
        "INSERT",
        "INSTALL",
        "LOAD",
        "MERGE",
        "PRAGMA",
        "PREPARE",
        "RESET",
        "ROLLBACK",
        "SET",
        "SHOW",
        "SUMMARIZE",
        "TRUNCATE",
        "UPDATE",
        "USE",
        "VACUUM",
    }
)
_FIRST_WORD = re.compile(r"^(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)*([A-Za-z_]+)", re.DOTALL)
# Where a function is a table function (a row source), not a scalar one.
_TABLE_POSITIONS = (exp.Table, exp.Lateral, exp.From, exp.Join)
# Anything that is a statement of its own (DDL, DML, COPY, ATTACH, SET, PRAGMA...).
_STATEMENTS: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in (
        "DDL",
        "DML",
        "Create",
        "Drop",
        "Alter",
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Copy",
        "Command",
        "Set",
        "Pragma",
        "Use",
        "Attach",
        "Detach",
        "Transaction",
        "Commit",
        "Rollback",
        "Describe",
        "Install",
        "Load",
        "Export",
    )
    if hasattr(exp, name)
)


def _function_names(node: exp.Func) -> set[str]:
    """Every name a function node goes by: its own, sqlglot's, and how it renders."""
    names = {node.name.lower() if isinstance(node, exp.Anonymous) else node.sql_name().lower()}
    head = node.sql(dialect=CANONICAL_DIALECT, comments=False).split("(", 1)[0].strip()
    names.add(head.lower())
    return {n for n in names if n}


def _denied(name: str) -> bool:
    return (
        name in DENIED_FUNCTIONS
        or name.startswith(DENIED_PREFIXES)
        or name.endswith(DENIED_SUFFIXES)
    )


def _parse(sql: str) -> list[exp.Expr]:
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)  # its "falling back to Command" warnings
    try:
        return [s for s in sqlglot.parse(sql, read=CANONICAL_DIALECT) if s is not None]
    except sqlglot.errors.ParseError as exc:
        word = _FIRST_WORD.match(sql)
        if word and word.group(1).upper() in _STATEMENT_WORDS:
            raise QueryRefused(f"{READ_ONLY}; got {word.group(1).upper()}") from None
        first = exc.errors[0] if exc.errors else {}
        what = str(first.get("description", exc)).split(" but got <Token")[0]
        where = f" at line {first['line']}, column {first['col']}" if "line" in first else ""
        raise QueryRefused(f"SQL syntax error{where}: {what}") from None
    except sqlglot.errors.SqlglotError as exc:
        raise QueryRefused(f"SQL syntax error: {str(exc).splitlines()[0]}") from None
    finally:
        sqlglot_log.setLevel(level)


def _kind(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Command):
        return str(tree.name).upper() or "a command"
    return tree.key.upper()


def _ctes_in_scope(table: exp.Table) -> set[str]:
    """Names of the common table expressions visible where ``table`` is referenced."""
    names: set[str] = set()
    node: exp.Expr | None = table.parent
    while node is not None:
        with_ = node.args.get("with") or node.args.get("with_")
        if isinstance(with_, exp.With):
            names |= {cte.alias_or_name.lower() for cte in with_.expressions}
        node = node.parent
    return names


def check_query(sql: str, tables: Iterable[str], project: str = "") -> exp.Expr:
    """The parsed tree of ``sql`` if it is one read-only query over ``tables``;
    ``QueryRefused`` saying why not otherwise."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryRefused("empty query")
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused(f"query longer than {MAX_SQL_CHARS:,} characters")
    statements = _parse(sql)
    if not statements:
        raise QueryRefused("empty query")
    if len(statements) > 1:
        raise QueryRefused(f"{READ_ONLY}; got {len(statements)} statements")
    tree = statements[0]
    if not isinstance(tree, exp.Query) or isinstance(tree, _STATEMENTS):
        raise QueryRefused(f"{READ_ONLY}; got {_kind(tree)}")
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            raise QueryRefused(f"{READ_ONLY}; this query contains {_kind(node)}")
        if isinstance(node, exp.Select) and node.args.get("into"):
            raise QueryRefused(f"{READ_ONLY}; SELECT … INTO writes a table")
    allowed = {t.lower() for t in tables}
    _check_constant_sizes(tree)
    for node in tree.find_all(exp.Func):
        names = _function_names(node)
        if isinstance(node.parent, _TABLE_POSITIONS):
            if not names & TABLE_FUNCTIONS:
                raise QueryRefused(
                    f"table function {min(names)} is not available in the workspace "
                    f"(allowed: {', '.join(sorted(TABLE_FUNCTIONS))})"
                )
            continue
        for name in sorted(names):
            if _denied(name):
                raise QueryRefused(
                    f"function {name} is not available in the workspace "
                    "(no file, URL, setting, environment or engine internals)"
                )
    for table in tree.find_all(exp.Table):
        _check_table(table, allowed, project)
    return tree


def _number(node: exp.Expr | None) -> float | None:
    """The value of a numeric literal (or its negation), else None."""
    if isinstance(node, exp.Paren):
        return _number(node.this)
    if isinstance(node, exp.Neg):
        inner = _number(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    return None


def _too_large(what: str, size: float) -> QueryRefused:
    return QueryRefused(
        f"{what} would build {size:,.0f} values, more than the workspace allows in one "
        f"expression ({MAX_CONSTANT_SIZE:,}); the memory limit could not bound it"
    )


def _check_constant_sizes(tree: exp.Expr) -> None:
    """Refuse repeat/pad and scalar range/generate_series (which build one list value)
    whose literal arguments ask for more than ``MAX_CONSTANT_SIZE`` characters or
    elements. ``FROM range(…)`` streams its rows: the time limit bounds it."""
    for node in tree.find_all(exp.Repeat, exp.Pad, exp.GenerateSeries, exp.Anonymous):
        if isinstance(node.parent, _TABLE_POSITIONS):
            continue
        if isinstance(node, exp.Repeat):
            times = _number(node.args.get("times"))
            text = node.this
            width = len(text.this) if isinstance(text, exp.Literal) and text.is_string else 1
            if times is not None and times * max(width, 1) > MAX_CONSTANT_SIZE:
                raise _too_large("repeat(…)", times * max(width, 1))
        elif isinstance(node, exp.Pad):
            length = _number(node.args.get("expression"))
            if length is not None and length > MAX_CONSTANT_SIZE:
                raise _too_large("lpad/rpad(…)", length)
        elif isinstance(node, exp.GenerateSeries):
            start, end = _number(node.args.get("start")), _number(node.args.get("end"))
            step = _number(node.args.get("step")) if node.args.get("step") else 1.0
            if start is None and end is not None and node.args.get("start") is None:
                start = 0.0
            if start is not None and end is not None and step:
                size = (end - start) / step
                if size > MAX_CONSTANT_SIZE:
                    raise _too_large("range/generate_series(…)", size)
        elif node.name.lower() in ("range", "generate_series", "list_range", "array_range"):
            args = [_number(a) for a in node.expressions]
            if args and all(a is not None for a in args):
                values = [a for a in args if a is not None]
                start, end = (0.0, values[0]) if len(values) == 1 else (values[0], values[1])
                step = values[2] if len(values) > 2 and values[2] else 1.0
                if (end - start) / step > MAX_CONSTANT_SIZE:
                    raise _too_large(f"{node.name}(…)", (end - start) / step)


def _check_table(table: exp.Table, allowed: set[str], project: str) -> None:
    target = table.this
    if isinstance(target, exp.Func):
        return  # a table function: checked with every function
    if not isinstance(target, exp.Identifier):
        raise QueryRefused(f"unsupported table reference {table.sql(dialect=CANONICAL_DIALECT)}")
    name = target.name.lower()
    schema = table.args.get("db")
    catalog = table.args.get("catalog")
    if catalog is not None or schema is not None:
        qualified = ".".join(
            p.name.lower() for p in (catalog, schema) if isinstance(p, exp.Identifier)
        )
        if catalog is None and (qualified, name) in CATALOGUE_VIEWS:
            return
        raise QueryRefused(
            f"table {qualified}.{name}: name the project's tables by their plain name "
            "(schemas and catalogues other than information_schema.tables and "
            "information_schema.columns are not available)"
        )
    if name in allowed or name in _ctes_in_scope(table):
        return
    whose = f"project {project!r}" if project else "this project"
    raise QueryRefused(
        f"unknown table {target.name!r}: the workspace of {whose} holds only "
        f"{', '.join(sorted(allowed)) or 'no table'}"
    )


def render(tree: exp.Expr) -> str:
    """The SQL that runs: the checked tree, without comments, in the canonical dialect."""
    return tree.sql(dialect=CANONICAL_DIALECT, comments=False)
