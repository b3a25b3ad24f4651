"""Vectorised helpers: random streams, ragged expansion, fixed-width strings and dates.

Dates are int32 day numbers since 1970-01-01 (Arrow ``date32``) throughout the generator.
"""

from __future__ import annotations

import datetime as dt
import zlib
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = dt.date(1970, 1, 1)
ALPHANUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype=np.uint8)
DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
_MONTHS = np.frombuffer(b"JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC", dtype=np.uint8).reshape(12, 3)


def day(year: int, month: int, dom: int) -> int:
    return (dt.date(year, month, dom) - EPOCH).days


def rng_for(seed: int, chunk: int, stream: str) -> np.random.Generator:
    """An independent generator per (seed, chunk, concern): output never depends on the
    order in which concerns draw, nor on how chunks are scheduled."""
    return np.random.default_rng([seed, chunk, zlib.crc32(stream.encode())])


def ragged(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of sizes ``counts``: (group index, rank within group) of every member."""
    counts = np.asarray(counts, dtype=np.int64)
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    within = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    return parent, within


def group_starts(*keys: np.ndarray) -> np.ndarray:
    """Boolean mask of rows where any of the (already sorted) keys changes."""
    n = len(keys[0])
    first = np.zeros(n, dtype=bool)
    if n:
        first[0] = True
        for key in keys:
            first[1:] |= key[1:] != key[:-1]
    return first


def rank_in_group(first: np.ndarray) -> np.ndarray:
    """1-based rank of each row inside runs delimited by ``first``."""
    idx = np.arange(len(first))
    start = np.maximum.accumulate(np.where(first, idx, 0))
    return idx - start + 1


# -- fixed-width strings ---------------------------------------------------------------


def strings_from_matrix(mat: np.ndarray) -> pa.StringArray:
    """Rows of a uint8 (n, width) matrix of ASCII codes as an Arrow string array."""
    mat = np.ascontiguousarray(mat, dtype=np.uint8)
    n, width = mat.shape
    offsets = np.arange(0, n * width + 1, width, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(mat)])


def random_codes(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    """(n, width) matrix of uppercase alphanumeric characters."""
    return ALPHANUM[rng.integers(0, len(ALPHANUM), size=(n, width))]


def digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers, as a (n, width) uint8 matrix."""
    values = np.asarray(values, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return DIGITS[(values[:, None] // powers[None, :]) % 10]


def zero_padded(values: np.ndarray, width: int) -> pa.StringArray:
    return strings_from_matrix(digit_matrix(values, width))


def take(pool: pa.Array | list[str], idx: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """``pool[idx]`` as an Arrow array; rows where ``mask`` is true are null."""
    arr = pool if isinstance(pool, pa.Array) else pa.array(pool, pa.string())
    indices = pa.array(np.asarray(idx, dtype=np.int64), mask=mask)
    return arr.take(indices)


# -- dates -----------------------------------------------------------------------------


def civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day-of-month) of day numbers."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    dom = (d - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, dom


def from_civil(year: np.ndarray, month: np.ndarray, dom: np.ndarray | int = 1) -> np.ndarray:
    """Day numbers of (year, month, day-of-month) arrays."""
    months = (np.asarray(year, dtype=np.int64) - 1970) * 12 + np.asarray(month) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return (first + np.asarray(dom) - 1).astype(np.int32)


def date32(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.int32(), mask=mask).cast(pa.date32())


_FIRST_YEAR, _LAST_YEAR = 1600, 2100


@lru_cache(maxsize=1)
def _month_pool() -> pa.StringArray:
    return pa.array(
        [f"{y:04d}{m:02d}" for y in range(_FIRST_YEAR, _LAST_YEAR + 1) for m in range(1, 13)],
        pa.string(),
    )


def yyyymm(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Year and month as ``YYYYMM`` text (rows where ``mask`` is true are null)."""
    months = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]")
    index = months.astype(np.int64) + (1970 - _FIRST_YEAR) * 12
    index = np.clip(index, 0, (_LAST_YEAR - _FIRST_YEAR + 1) * 12 - 1)
    return take(_month_pool(), index, mask)


def ddmmyyyy(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    y, m, d = civil(days)
    return _masked(strings_from_matrix(digit_matrix(d * 1_000_000 + m * 10_000 + y, 8)), mask)


def sas_datetime(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """SAS datetime text as in real PMSI extracts: ``15MAR2021:00:00:00``."""
    y, m, d = civil(days)
    n = len(y)
    mat = np.empty((n, 18), dtype=np.uint8)
    mat[:, 0:2] = digit_matrix(d, 2)
    mat[:, 2:5] = _MONTHS[m - 1]
    mat[:, 5:9] = digit_matrix(y, 4)
    mat[:, 9:] = np.frombuffer(b":00:00:00", dtype=np.uint8)
    return _masked(strings_from_matrix(mat), mask)


def month_text(days: np.ndarray) -> pa.Array:
    return zero_padded(civil(days)[1], 2)


def _masked(arr: pa.Array, mask: np.ndarray | None) -> pa.Array:
    if mask is None or not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.nulls(len(arr), arr.type), arr)


_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)


def luhn_digit(payload: np.ndarray) -> np.ndarray:
    """Luhn check digit of each row of a (n, k) digit matrix (values 0-9), as FINESS uses."""
    k = payload.shape[1]
    # Doubling applies to every second digit counted from the right of the payload.
    doubled = np.arange(k)[::-1] % 2 == 0
    total = _DOUBLED[payload[:, doubled]].sum(axis=1) + payload[:, ~doubled].sum(
        axis=1, dtype=np.int64
    )
    return (10 - total % 10) % 10


def timestamps(days: np.ndarray, seconds: np.ndarray | int = 0) -> pa.Array:
    """Arrow ``timestamp[s]`` from day numbers plus seconds into the day."""
    values = np.asarray(days, dtype=np.int64) * 86_400 + np.asarray(seconds, dtype=np.int64)
    return pa.array(values, type=pa.int64()).cast(pa.timestamp("s"))
