"""The process bound of the workspace: a researcher's query runs in a child process whose
address space is limited (``RLIMIT_AS``), so that no query can take the machine's memory,
whatever the engine's own ``memory_limit`` fails to count.

The child is forked (no interpreter start-up: the per-query cost stays that of the
session itself), sets its limit, runs the query and sends back the result (or the
workspace error) through a pipe, then exits. If it dies of its bound (a failed
allocation the engine cannot recover from, a signal), the query is stopped with
``QueryTooLarge``. The child never touches the metadata database: the parent authorises
and audits.

Where ``fork`` or ``RLIMIT_AS`` does not exist (not Linux), the query runs in-process
under the engine's limits only.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable
from typing import TypeVar

from bastide.workspace.errors import QueryFailed, QueryTimeout, QueryTooLarge, WorkspaceError
from bastide.workspace.limits import Limits, size_in_bytes

T = TypeVar("T")
# What the child may map beyond what it inherits: the engine's memory limit, what it may
# hold of a result, and room for the engine's and Arrow's own buffers and threads.
HEADROOM = 512 * 1024 * 1024
_LENGTH = struct.Struct("!Q")


def supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _mapped_bytes() -> int:
    """This process's address space now (VmSize)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def address_space(limits: Limits) -> int:
    """The child's address-space limit: what it inherits plus twice the engine's memory
    limit, the result bound and a fixed headroom."""
    return (
        _mapped_bytes()
        + 2 * size_in_bytes(limits.memory_limit)
        + limits.max_result_bytes
        + HEADROOM
    )


def _stopped(limits: Limits) -> QueryTooLarge:
    return QueryTooLarge(
        "the query needed more memory than the workspace allows (memory_limit "
        f"{limits.memory_limit}, process bound {address_space_text(limits)}) and was stopped"
    )


def address_space_text(limits: Limits) -> str:
    extra = 2 * size_in_bytes(limits.memory_limit) + limits.max_result_bytes + HEADROOM
    return f"{extra / 2**30:.1f} GiB above the session"


def run_bounded(work: Callable[[], T], limits: Limits) -> T:
    """``work()`` in a forked child limited in address space; its result or its error."""
    if not supported():
        return work()
    import resource

    bound = address_space(limits)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: bound itself, work, report, exit without cleanup
        status = 0
        try:
            os.close(read_end)
            resource.setrlimit(resource.RLIMIT_AS, (bound, bound))
            try:
                payload = pickle.dumps((True, work()), protocol=pickle.HIGHEST_PROTOCOL)
            except MemoryError:
                payload = pickle.dumps((False, _stopped(limits)))
            except WorkspaceError as exc:
                payload = pickle.dumps((False, exc))
            except BaseException as exc:  # any other error, as the parent would see it
                try:
                    payload = pickle.dumps((False, exc))
                except Exception:
                    payload = pickle.dumps((False, QueryFailed(f"the query failed: {exc}")))
            with os.fdopen(write_end, "wb") as out:
                out.write(_LENGTH.pack(len(payload)))
                out.write(payload)
        except BaseException:
            status = 70
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        data, killed = _read_all(read_end, pid, limits)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if killed:
        raise QueryTimeout(
            f"the query ran for more than {limits.timeout_seconds:g} s and was stopped "
            "(the workspace's time limit)"
        )
    if len(data) < _LENGTH.size or len(data) != _LENGTH.size + _LENGTH.unpack_from(data)[0]:
        raise _stopped(limits)  # the child died before it could answer
    ok, value = pickle.loads(data[_LENGTH.size :])
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _read_all(fd: int, pid: int, limits: Limits) -> tuple[bytes, bool]:
    """Everything the child writes; a child silent past the time limit (and a grace
    period for its own watchdog) is killed."""
    chunks: list[bytes] = []
    grace = limits.timeout_seconds + 30
    while True:
        ready, _, _ = select.select([fd], [], [], grace)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            return b"", True
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks), False
