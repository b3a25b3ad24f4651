"""Keyed pseudonymisation throughput: 13-digit identifiers, HMAC-SHA256.

Baseline: the plain Python ``hmac`` loop, measured in the same run on a sample (it is ~20x
slower; rates are compared per item). Every route's output on that sample is checked
against the baseline before it is timed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import partial

import numpy as np
import polars as pl
import polars_hash  # noqa: F401  registers the .chash namespace
import pyarrow as pa

from bastide.pseudonym import PERSON, Pseudonymiser
from bastide.pseudonym.routes import default_threads
from bastide.pseudonym.scheme import domain_key
from bench import Row, best_of

KEY = os.urandom(32)


def identifiers(n: int, seed: int = 7) -> pa.StringArray:
    """n random 13-digit strings, built straight into Arrow buffers."""
    digits = np.random.default_rng(seed).integers(0, 10, size=(n, 13), dtype=np.uint8) + 48
    offsets = np.arange(0, 13 * (n + 1), 13, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits))


def python_loop(key_d: bytes, values: list[str]) -> list[str]:
    return [
        hmac.new(key_d, v.strip().upper().encode(), hashlib.sha256).hexdigest()[:32] for v in values
    ]


def run(quick: bool) -> list[Row]:
    n = 1_000_000 if quick else 10_000_000
    sample_n = min(n, 200_000 if quick else 1_000_000)
    ids = identifiers(n)
    sample = ids.slice(0, sample_n)
    sample_py = sample.to_pylist()
    key_d = domain_key(KEY, PERSON)

    base_s, reference = best_of(1, lambda: python_loop(key_d, sample_py))
    rows = [Row("Python hmac loop", sample_n, base_s, baseline=True, unit="ids")]

    pure = Pseudonymiser(KEY, PERSON, route="pure")
    assert pure.pseudonymise(sample).to_pylist() == reference
    secs, _ = best_of(1, lambda: pure.pseudonymise(sample))
    rows.append(Row("pure route (precomputed state)", sample_n, secs, unit="ids"))

    # polars-hash takes a text key, so it runs under the hex of the domain key: same work.
    frame = pl.DataFrame({"id": pl.Series(ids)})
    hashed = pl.col("id").chash.hmac_sha256(key=key_d.hex())  # type: ignore[attr-defined]
    expr = hashed.str.slice(0, 32)
    secs, _ = best_of(2, lambda: frame.select(expr))
    rows.append(Row("polars-hash hmac_sha256", n, secs, unit="ids", notes="reference only"))

    for threads in (1, default_threads()):
        p = Pseudonymiser(KEY, PERSON, route="native", threads=threads)
        assert p.pseudonymise(sample).to_pylist() == reference
        label = f"native route, {threads} thread(s)"
        secs, _ = best_of(3, partial(p.pseudonymise, ids))
        rows.append(Row(label, n, secs, unit="ids", notes="pseudonyms"))
        if threads > 1:
            secs, _ = best_of(3, partial(p.pseudonymise_with_ids, ids))
            rows.append(Row(label, n, secs, unit="ids", notes="+ person_id, one pass"))
    return rows
