"""Escape attempts: each must fail with a clear, one-line error, never return data.

Every row names the attempt, who makes it on which project, the SQL, the error class
and a fragment of its message, and the layer that stops it first (docs/workspace.md):

- ``governance``: ``Governance.authorize(user, "query_project", project)``;
- ``parser``: the sqlglot allow-list (one read-only query over the project's tables);
- ``limits``: the resource limits (time, memory, result size).

``engine`` says whether the locked-down DuckDB session refuses the same SQL on its own
when the parser is bypassed (``test_the_engine_refuses_on_its_own``), so the list also
documents what the second layer holds by itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow as pa
import pytest
from workspace_lab import LIMITS, Lab

from bastide.errors import BastideError
from bastide.governance import PermissionDenied
from bastide.projects import ProjectEnded, open_extract
from bastide.storage.spill import spill_directory
from bastide.workspace import QueryRefused, QueryTimeout, QueryTooLarge, Sandbox, WorkspaceError

READ_ONLY = "only one read-only query (SELECT or WITH … SELECT) is accepted in the workspace"
NOT_AVAILABLE = "is not available in the workspace"
UNKNOWN = "unknown table"
PLAIN = "name the project's tables by their plain name"

# A Python value of this process that a default DuckDB connection would read by its name.
leaked_rows = pa.table({"secret": ["a value of the test process"]})


@dataclass(frozen=True)
class Attempt:
    sql: str
    error: type[BaseException]
    message: str
    layer: str
    engine: bool = False  # the locked engine refuses it without the parser
    who: str = "rita"
    project: str = "asthma-care"


A = Attempt
ATTEMPTS: dict[str, Attempt] = {
    # -- reading files: the warehouse, another project, the system ---------------------
    "read_csv /etc/passwd": A(
        "SELECT * FROM read_csv('/etc/passwd')",
        QueryRefused,
        "table function read_csv",
        "parser",
        True,
    ),
    "read_csv_auto": A(
        "SELECT * FROM read_csv_auto('/etc/passwd', header=false)",
        QueryRefused,
        NOT_AVAILABLE,
        "parser",
        True,
    ),
    "read_parquet of a warehouse file": A(
        "SELECT * FROM read_parquet('{warehouse_file}')",
        QueryRefused,
        "table function read_parquet",
        "parser",
        True,
    ),
    "read_parquet of the warehouse by glob": A(
        "SELECT count(*) FROM read_parquet('{warehouse_glob}')",
        QueryRefused,
        NOT_AVAILABLE,
        "parser",
        True,
    ),
    "read_parquet of another project's extract": A(
        "SELECT * FROM read_parquet('{other_extract}')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "read_json": A(
        "SELECT * FROM read_json('/etc/passwd')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "read_text of the key file": A(
        "SELECT * FROM read_text('{key_file}')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "read_blob in a scalar subquery": A(
        "SELECT (SELECT content FROM read_blob('/etc/passwd')) AS c",
        QueryRefused,
        NOT_AVAILABLE,
        "parser",
        True,
    ),
    "a path as a table name": A(
        "SELECT * FROM '/etc/passwd'", QueryRefused, UNKNOWN, "parser", True
    ),
    "a file:// URL as a table": A(
        "SELECT * FROM 'file:///etc/passwd'", QueryRefused, UNKNOWN, "parser", True
    ),
    "a file:// URL in read_csv": A(
        "SELECT * FROM read_csv('file:///etc/passwd')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "glob() of the system": A(
        "SELECT * FROM glob('/etc/*')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "glob() of the hub": A(
        "SELECT * FROM glob('{hub}/**')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "path traversal ../": A(
        "SELECT * FROM read_csv('../../../../../../etc/passwd')",
        QueryRefused,
        NOT_AVAILABLE,
        "parser",
        True,
    ),
    "path traversal out of the project": A(
        "SELECT * FROM read_parquet('{traversal}')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "symlink in the project dir to /etc/passwd": A(
        "SELECT * FROM read_csv('{symlink_out}')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "symlink in the project dir to another project": A(
        "SELECT * FROM read_parquet('{symlink_other}')", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "symlink named like a table": A(
        "SELECT * FROM drug_exposure", QueryRefused, UNKNOWN, "parser", True
    ),
    # -- other databases, writing out ----------------------------------------------------
    "ATTACH the metadata store": A(
        "ATTACH '{metadata}' AS meta", QueryRefused, f"{READ_ONLY}; got ATTACH", "parser", True
    ),
    "ATTACH :memory:": A(
        "ATTACH ':memory:' AS scratch", QueryRefused, f"{READ_ONLY}; got ATTACH", "parser"
    ),
    "COPY TO a file": A(
        "COPY (SELECT * FROM person) TO '/tmp/leak.csv'",
        QueryRefused,
        f"{READ_ONLY}; got COPY",
        "parser",
        True,
    ),
    "COPY TO the project dir": A(
        "COPY person TO '{own_extract}/leak.parquet' (FORMAT parquet)",
        QueryRefused,
        "got COPY",
        "parser",
        True,
    ),
    "EXPORT DATABASE": A(
        "EXPORT DATABASE '/tmp/leak-db'", QueryRefused, f"{READ_ONLY}; got EXPORT", "parser", True
    ),
    "SELECT INTO": A(
        "SELECT * INTO copied FROM person", QueryRefused, "SELECT … INTO", "parser", True
    ),
    # -- extensions ------------------------------------------------------------------------
    "INSTALL": A("INSTALL httpfs", QueryRefused, f"{READ_ONLY}; got INSTALL", "parser", True),
    "FORCE INSTALL from a URL": A(
        "FORCE INSTALL httpfs FROM 'http://127.0.0.1:9/'", QueryRefused, READ_ONLY, "parser", True
    ),
    "LOAD": A("LOAD spatial", QueryRefused, f"{READ_ONLY}; got LOAD", "parser", True),
    "LOAD a file": A(
        "LOAD '/tmp/evil.duckdb_extension'", QueryRefused, f"{READ_ONLY}; got LOAD", "parser", True
    ),
    # -- settings --------------------------------------------------------------------------
    "SET enable_external_access": A(
        "SET enable_external_access = true", QueryRefused, "got SET", "parser", True
    ),
    "SET allowed_directories": A(
        "SET allowed_directories = ['/']", QueryRefused, "got SET", "parser", True
    ),
    "SET lock_configuration": A(
        "SET lock_configuration = false", QueryRefused, "got SET", "parser", True
    ),
    "SET memory_limit": A("SET memory_limit = '100GB'", QueryRefused, "got SET", "parser", True),
    "SET threads": A("SET threads = 64", QueryRefused, "got SET", "parser", True),
    "SET temp_directory": A(
        "SET temp_directory = '/tmp/elsewhere'", QueryRefused, "got SET", "parser", True
    ),
    "SET GLOBAL": A(
        "SET GLOBAL enable_external_access = true", QueryRefused, "got SET", "parser", True
    ),
    "RESET memory_limit": A(
        "RESET memory_limit", QueryRefused, f"{READ_ONLY}; got RESET", "parser", True
    ),
    "RESET lock_configuration": A(
        "RESET lock_configuration", QueryRefused, "got RESET", "parser", True
    ),
    "PRAGMA threads": A(
        "PRAGMA threads = 64", QueryRefused, f"{READ_ONLY}; got PRAGMA", "parser", True
    ),
    "PRAGMA memory_limit": A(
        "PRAGMA memory_limit = '100GB'", QueryRefused, "got PRAGMA", "parser", True
    ),
    # -- writing the catalogue ------------------------------------------------------------
    "CREATE MACRO": A(
        "CREATE MACRO leak(x) AS x", QueryRefused, f"{READ_ONLY}; got CREATE", "parser"
    ),
    "CREATE TABLE": A(
        "CREATE TABLE copied AS SELECT * FROM person", QueryRefused, "got CREATE", "parser"
    ),
    "CREATE TEMP VIEW": A(
        "CREATE TEMP VIEW v AS SELECT * FROM person", QueryRefused, "got CREATE", "parser"
    ),
    "CREATE SECRET": A(
        "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 's')",
        QueryRefused,
        "got CREATE",
        "parser",
        True,
    ),
    "CALL a procedure": A(
        "CALL enable_logging()", QueryRefused, f"{READ_ONLY}; got CALL", "parser"
    ),
    # -- other projects, the warehouse, the process -------------------------------------
    "another project's table": A("SELECT * FROM death", QueryRefused, UNKNOWN, "parser", True),
    "another project's table, qualified": A(
        "SELECT * FROM memory.main.drug_exposure", QueryRefused, PLAIN, "parser", True
    ),
    "a warehouse table not granted": A(
        "SELECT * FROM concept_ancestor", QueryRefused, UNKNOWN, "parser", True
    ),
    "a Python variable of the process": A(
        "SELECT * FROM leaked_rows", QueryRefused, UNKNOWN, "parser", True
    ),
    "query() running other SQL": A(
        "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
        QueryRefused,
        NOT_AVAILABLE,
        "parser",
    ),
    "a CTE name leaking out of its scope": A(
        "SELECT * FROM (WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master) AS a, "
        "sqlite_master",
        QueryRefused,
        UNKNOWN,
        "parser",
    ),
    # -- catalogue and environment introspection ------------------------------------------
    "duckdb_settings()": A(
        "SELECT * FROM duckdb_settings()", QueryRefused, NOT_AVAILABLE, "parser"
    ),
    "current_setting()": A(
        "SELECT current_setting('temp_directory')", QueryRefused, NOT_AVAILABLE, "parser"
    ),
    "duckdb_extensions()": A(
        "SELECT * FROM duckdb_extensions()", QueryRefused, NOT_AVAILABLE, "parser", True
    ),
    "duckdb_databases()": A(
        "SELECT path FROM duckdb_databases()", QueryRefused, NOT_AVAILABLE, "parser"
    ),
    "duckdb_secrets()": A("SELECT * FROM duckdb_secrets()", QueryRefused, NOT_AVAILABLE, "parser"),
    "sqlite_master": A("SELECT * FROM sqlite_master", QueryRefused, UNKNOWN, "parser"),
    "information_schema.schemata": A(
        "SELECT * FROM information_schema.schemata", QueryRefused, PLAIN, "parser"
    ),
    "getenv()": A("SELECT getenv('HOME')", QueryRefused, "function getenv", "parser", True),
    "getenv() called as a method": A(
        "SELECT 'HOME'.getenv() AS home", QueryRefused, "function getenv", "parser", True
    ),
    "glob() in a FROM-first subquery": A(
        "SELECT * FROM person, (FROM glob('/etc/*'))", QueryRefused, "glob", "parser", True
    ),
    "getenv() in a WHERE": A(
        "SELECT count(*) FROM person WHERE getenv('BASTIDE_HUB') IS NOT NULL",
        QueryRefused,
        "getenv",
        "parser",
        True,
    ),
    # -- several statements, hidden statements --------------------------------------------
    "two statements": A(
        "SELECT 1; DROP TABLE person", QueryRefused, f"{READ_ONLY}; got 2 statements", "parser"
    ),
    "a statement after a block comment": A(
        "SELECT 1 /* harmless */; COPY person TO '/tmp/leak.csv'",
        QueryRefused,
        "got 2 statements",
        "parser",
    ),
    "a statement after a line comment": A(
        "SELECT 1 -- just a comment\n; ATTACH ':memory:' AS m",
        QueryRefused,
        "got 2 statements",
        "parser",
    ),
    "a statement behind a leading comment": A(
        "/* SELECT 1; */ INSTALL httpfs", QueryRefused, "got INSTALL", "parser", True
    ),
    # -- resource exhaustion ------------------------------------------------------------------
    "range(10^12)": A(
        "SELECT sum(range) FROM range(1000000000000)", QueryTimeout, "was stopped", "limits", True
    ),
    "a huge cross join": A(
        "SELECT count(*) FROM range(1000000) AS a, range(1000000) AS b",
        QueryTimeout,
        "time limit",
        "limits",
        True,
    ),
    "a cross join of the project's tables": A(
        "SELECT count(*) FROM visit_occurrence a, visit_occurrence b, visit_occurrence c, "
        "visit_occurrence d, visit_occurrence e",
        QueryTimeout,
        "time limit",
        "limits",
        True,
    ),
    "memory exhaustion": A(
        "SELECT list(range) FROM range(100000000)",
        QueryTooLarge,
        "more memory than the workspace allows",
        "limits",
        True,
    ),
    "an unbounded result": A(
        "SELECT * FROM range(1000000)", QueryTooLarge, "more than 10,000 rows", "limits", True
    ),
    # -- who asks, and about what ---------------------------------------------------------
    "a revoked project": A(
        "SELECT * FROM person",
        ProjectEnded,
        "project 'revoked-study' was revoked on 2025-03-01; its extract key was destroyed",
        "governance",
        project="revoked-study",
    ),
    "an expired project": A(
        "SELECT * FROM person",
        ProjectEnded,
        "project 'expired-study' expired on 2025-03-11; its extract key was destroyed",
        "governance",
        project="expired-study",
    ),
    "a researcher who is not a member": A(
        "SELECT * FROM person",
        PermissionDenied,
        "the actor is not a member of this project",
        "governance",
        who="rex",
    ),
    "a member of another project": A(
        "SELECT * FROM person",
        PermissionDenied,
        "not a member",
        "governance",
        project="diabetes-care",
    ),
    "a steward": A(
        "SELECT * FROM person",
        PermissionDenied,
        "query_project needs the role researcher; the actor has steward",
        "governance",
        who="stella",
    ),
    "an operator": A(
        "SELECT * FROM person",
        PermissionDenied,
        "needs the role researcher",
        "governance",
        who="olga",
    ),
    "an auditor": A(
        "SELECT * FROM person",
        PermissionDenied,
        "needs the role researcher",
        "governance",
        who="audrey",
    ),
}


def _sql(lab: Lab, attempt: Attempt) -> str:
    return attempt.sql.format(**lab.paths) if "{" in attempt.sql else attempt.sql


def test_the_list_is_long_enough() -> None:
    assert len(ATTEMPTS) >= 30
    assert {a.layer for a in ATTEMPTS.values()} == {"governance", "parser", "limits"}


@pytest.mark.parametrize("name", list(ATTEMPTS))
def test_escape_attempt_fails_clearly(lab: Lab, name: str) -> None:
    attempt = ATTEMPTS[name]
    with lab.workspace(attempt.who, attempt.project) as ws, pytest.raises(BastideError) as caught:
        ws.query(_sql(lab, attempt))
    error = caught.value
    assert isinstance(error, attempt.error), f"{type(error).__name__}: {error}"
    message = str(error)
    assert attempt.message in message
    assert "\n" not in message and "Traceback" not in message and len(message) < 400


ENGINE = [name for name, a in ATTEMPTS.items() if a.engine]


@pytest.mark.parametrize("name", ENGINE)
def test_the_engine_refuses_on_its_own(lab: Lab, name: str) -> None:
    """The same SQL straight to the locked session, without the parser: still refused
    (by the lock-down, or because the session holds only the project's tables)."""
    attempt = ATTEMPTS[name]
    hub = lab.world.hub
    tables = open_extract(hub, "asthma-care")
    with (
        Sandbox(tables, LIMITS, spill_directory(hub)) as box,
        pytest.raises(WorkspaceError) as caught,
    ):
        box.collect(_sql(lab, attempt))
    assert "\n" not in str(caught.value)


def test_nothing_was_written_or_attached(lab: Lab) -> None:
    for path in ("/tmp/leak.csv", "/tmp/leak-db", f"{lab.paths['own_extract']}/leak.parquet"):
        assert not os.path.exists(path), path
