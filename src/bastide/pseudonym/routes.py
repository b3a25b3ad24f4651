"""Two routes to the same digests over one Arrow string array.

``NativeRoute`` runs the compiled ``hmac_sha256.c`` on the array's buffers, split across
threads (ctypes releases the GIL during the call). ``PureRoute`` is the fallback when the
library is not built: a Python loop over precomputed inner/outer SHA-256 states. Both
return ``(pseudonyms, person_ids)`` arrays, each only when asked for.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Protocol

import numpy as np
import pyarrow as pa

from bastide.pseudonym import native_build
from bastide.pseudonym.scheme import PSEUDONYM_CHARS, normalise, person_id_of, pseudonym_of

log = logging.getLogger(__name__)

ABI = 1  # must match BASTIDE_HMAC_ABI in hmac_sha256.c
MIN_ROWS_PER_THREAD = 32_768

Result = tuple[pa.Array | None, pa.Array | None]


class Route(Protocol):
    name: str

    def run(self, values: pa.Array, text: bool, ids: bool) -> Result:
        """Digest a string or large_string array (no slicing limits, any null pattern)."""
        ...


# -- pure -------------------------------------------------------------------------------
class PureRoute:
    name = "pure"

    def __init__(self, key_d: bytes) -> None:
        k = key_d.ljust(64, b"\0")  # a 32-byte domain key is never hashed down
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in k))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in k))

    def run(self, values: pa.Array, text: bool, ids: bool) -> Result:
        inner, outer = self._inner, self._outer
        texts: list[str | None] = []
        nums: list[int | None] = []
        for value in values.to_pylist():
            norm = normalise(value)
            if norm is None:
                texts.append(None)
                nums.append(None)
                continue
            h = inner.copy()
            h.update(norm)
            o = outer.copy()
            o.update(h.digest())
            d = o.digest()
            if text:
                texts.append(pseudonym_of(d))
            if ids:
                nums.append(person_id_of(d))
        return (
            pa.array(texts, pa.string()) if text else None,
            pa.array(nums, pa.int64()) if ids else None,
        )


# -- native -----------------------------------------------------------------------------
@cache
def _library() -> ctypes.CDLL | None:
    path = native_build.LIBRARY
    if not path.exists():
        log.warning("%s is not built; pseudonymisation uses the slower pure route", path.name)
        return None
    try:
        lib = ctypes.CDLL(str(path))
        if lib.bastide_hmac_abi() != ABI:
            raise OSError(f"ABI {lib.bastide_hmac_abi()} != {ABI} (rebuild it)")
    except (OSError, AttributeError) as exc:
        log.warning("cannot use %s (%s); using the pure route", path.name, exc)
        return None
    lib.bastide_hmac_state_size.restype = ctypes.c_size_t
    lib.bastide_hmac_init.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.bastide_hmac_init.restype = None
    lib.bastide_hmac_run.restype = ctypes.c_int64
    lib.bastide_hmac_run.argtypes = [
        ctypes.c_void_p,  # state
        ctypes.c_int64,  # n
        ctypes.c_void_p,  # offsets
        ctypes.c_int,  # wide offsets
        ctypes.c_void_p,  # data
        ctypes.c_void_p,  # validity or NULL
        ctypes.c_int64,  # validity bit offset
        ctypes.c_void_p,  # out_hex or NULL
        ctypes.c_void_p,  # out_id or NULL
        ctypes.c_void_p,  # out_valid
    ]
    return lib


def native_available() -> bool:
    return _library() is not None


@cache
def _executor(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="bastide-hmac")


def default_threads() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


class NativeRoute:
    name = "native"

    def __init__(self, key_d: bytes, threads: int | None = None) -> None:
        lib = _library()
        if lib is None:
            raise RuntimeError("the native pseudonymisation library is not available")
        self._lib = lib
        self._state = ctypes.create_string_buffer(lib.bastide_hmac_state_size())
        lib.bastide_hmac_init(self._state, key_d, len(key_d))
        self.threads = threads or default_threads()

    def run(self, values: pa.Array, text: bool, ids: bool) -> Result:
        n = len(values)
        if n == 0:
            return (pa.array([], pa.string()) if text else None), (
                pa.array([], pa.int64()) if ids else None
            )
        wide = pa.types.is_large_string(values.type)
        validity, offsets, data = values.buffers()[:3]
        width = 8 if wide else 4
        off_addr = offsets.address + width * values.offset
        data_addr = data.address if data is not None and data.size else 0
        valid_addr = validity.address if validity is not None else None
        hex_out = np.empty(n * PSEUDONYM_CHARS if text else 0, np.uint8)
        id_out = np.empty(n if ids else 0, np.int64)
        ok = np.empty(n, np.uint8)

        def part(start: int, stop: int) -> int:
            return self._lib.bastide_hmac_run(
                self._state,
                stop - start,
                off_addr + width * start,
                int(wide),
                data_addr,
                valid_addr,
                values.offset + start,
                hex_out.ctypes.data + PSEUDONYM_CHARS * start if text else None,
                id_out.ctypes.data + 8 * start if ids else None,
                ok.ctypes.data + start,
            )

        parts = min(self.threads, max(1, n // MIN_ROWS_PER_THREAD))
        if parts == 1:
            valid_count = part(0, n)
        else:
            bounds = np.linspace(0, n, parts + 1, dtype=np.int64).tolist()
            pool = _executor(self.threads)
            valid_count = sum(pool.map(part, bounds[:-1], bounds[1:]))

        nulls = n - valid_count
        bitmap = pa.py_buffer(np.packbits(ok, bitorder="little")) if nulls else None
        pseudonyms = ids_arr = None
        if text:
            offs = np.arange(0, PSEUDONYM_CHARS * (n + 1), PSEUDONYM_CHARS, dtype=np.int32)
            pseudonyms = pa.StringArray.from_buffers(
                n, pa.py_buffer(offs), pa.py_buffer(hex_out), bitmap, nulls
            )
        if ids:
            ids_arr = pa.Array.from_buffers(pa.int64(), n, [bitmap, pa.py_buffer(id_out)], nulls)
        return pseudonyms, ids_arr
