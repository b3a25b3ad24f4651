"""Compile the native HMAC-SHA256 routine (``hmac_sha256.c``) into a shared library.

Runs from the build hook (``hatch_build.py``) on every install, ``uv sync`` included, and by
hand with ``python -m bastide.pseudonym.native_build``. It needs a C compiler and the
OpenSSL headers (Debian: ``gcc libssl-dev``); without them the build only warns and
bastide uses the pure-Python route. Standard library only: it runs inside the isolated
build environment, before bastide is importable.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "hmac_sha256.c"
LIBRARY = HERE / "_hmac_sha256.so"


def compiler() -> list[str] | None:
    """``$CC``, else the compiler Python was built with, else ``cc``/``gcc`` on PATH."""
    for candidate in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc", "gcc"):
        if candidate:
            argv = shlex.split(candidate)
            if argv and shutil.which(argv[0]):
                return argv
    return None


def build(warn: Callable[[str], None] = print) -> Path | None:
    """Compile ``SOURCE`` into ``LIBRARY``; return its path, or None (with a warning)."""
    cc = compiler()
    if cc is None:
        warn("bastide: no C compiler found; pseudonymisation will use the slower pure route")
        return None
    tmp = LIBRARY.with_name(f".{LIBRARY.name}.{os.getpid()}.tmp")
    cmd = [*cc, "-O2", "-fPIC", "-shared", "-o", str(tmp), str(SOURCE), "-lcrypto"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        done = subprocess.CompletedProcess(cmd, 1, "", str(exc))
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        warn(
            "bastide: could not compile the native pseudonymisation routine "
            "(needs a C compiler and OpenSSL headers, e.g. Debian 'gcc libssl-dev'); "
            f"using the slower pure route.\n{done.stderr.strip()}"
        )
        return None
    os.replace(tmp, LIBRARY)  # a running process keeps its already-loaded copy
    return LIBRARY


if __name__ == "__main__":
    sys.exit(0 if build(warn=lambda m: print(m, file=sys.stderr)) else 1)
