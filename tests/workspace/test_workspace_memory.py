"""The workspace's memory limit holds for the process, not only for the engine's own
accounting: huge constant expressions are refused before they run, and whatever builds
a huge value anyway is stopped by the address-space bound of the query's process. The
peak resident size is measured, not a duration."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest
from workspace_lab import LIMITS, Lab

from bastide.workspace import QueryRefused, QueryTooLarge
from bastide.workspace.guard import MAX_CONSTANT_SIZE
from bastide.workspace.limits import size_in_bytes
from bastide.workspace.worker import HEADROOM, supported


def _peak_bytes() -> int:
    """The largest resident size of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) * 1024  # kilobytes on Linux


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT length(repeat('x', 4000000000))",
        "SELECT list_sum(range(1000000000))",
        "SELECT list_sum(generate_series(1, 20000000000, 1))",
        "SELECT rpad('a', 4000000000, 'x')",
    ],
)
def test_huge_constant_expressions_are_refused(lab: Lab, sql: str) -> None:
    with lab.workspace() as ws, pytest.raises(QueryRefused) as refused:
        ws.query(sql)
    assert f"more than the workspace allows in one expression ({MAX_CONSTANT_SIZE:,})" in str(
        refused.value
    )


def test_small_constants_and_streamed_ranges_still_run(lab: Lab) -> None:
    with lab.workspace() as ws:
        assert ws.query("SELECT list_sum(range(1000)) AS s").column("s").to_pylist() == [499500]
        assert ws.query("SELECT length(repeat('ab', 1000)) AS n").column("n")[0].as_py() == 2000
        assert ws.query("SELECT count(*) AS n FROM range(100000)").column("n")[0].as_py() == 100000


def test_the_refusal_is_one_line_on_the_command_line(lab: Lab) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bastide", "query", "SELECT length(repeat('x', 4000000000))",
         "--project", "asthma-care", "--hub", lab.paths["hub"], "--as", "rita"],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "repeat(…) would build 4,000,000,000 values" in line


@pytest.mark.skipif(not supported(), reason="the process bound needs Linux (fork, RLIMIT_AS)")
@pytest.mark.parametrize(
    "sql",
    [
        # The sizes come from a subquery: no literal for the guard to see.
        "SELECT length(repeat('x', (SELECT 2000000000))) AS n",
        "SELECT list_sum(range((SELECT 400000000))) AS n",
    ],
)
def test_what_escapes_the_guard_is_stopped_by_the_process_bound(lab: Lab, sql: str) -> None:
    baseline = _peak_bytes()
    with lab.workspace() as ws, pytest.raises(QueryTooLarge) as stopped:
        ws.query(sql)
    assert "more memory than the workspace allows" in str(stopped.value)
    # What the query's process may add to what it inherits (docs/workspace.md).
    bound = 2 * size_in_bytes(LIMITS.memory_limit) + LIMITS.max_result_bytes + HEADROOM
    assert _peak_bytes() <= baseline + bound, (_peak_bytes() - baseline, bound)
    # The session goes on: the next query runs.
    with lab.workspace() as ws:
        assert ws.query("SELECT count(*) AS n FROM person").column("n")[0].as_py() == 40
