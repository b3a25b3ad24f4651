"""Pluggable checks of code columns (CIM-10, CCAM, CIP13, UCD …).

The border does not know any nomenclature: the caller passes a `CodeChecker`, a callable
given a code system and a column of codes (trimmed text, null where missing) that returns
a boolean mask, true where the code is known — or None when it does not check that system.
`known_codes` builds one from sets of codes, e.g. the CIP13 of the IR_PHA_R shipped in
the extract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc

CodeChecker = Callable[[str, pa.Array], "pa.Array | None"]


def _normalise(values: pa.Array, ignore_dots: bool) -> pa.Array:
    values = pc.utf8_upper(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))
    return pc.replace_substring(values, ".", "") if ignore_dots else values


def known_codes(
    codes: Mapping[str, Iterable[str] | pa.Array | pa.ChunkedArray],
    *,
    ignore_dots: bool = True,
) -> CodeChecker:
    """A checker accepting, per system, the codes given (compared trimmed, upper case and,
    with ``ignore_dots``, without dots: ``C51.0`` and ``C510`` are the same CIM-10 code).
    Systems absent from ``codes`` are not checked."""
    sets: dict[str, pa.Array] = {}
    for system, values in codes.items():
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        array = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
        sets[system] = pc.unique(_normalise(array.drop_null(), ignore_dots))

    def check(system: str, values: pa.Array) -> pa.Array | None:
        known = sets.get(system)
        if known is None:
            return None
        return pc.is_in(_normalise(values, ignore_dots), value_set=known)

    return check
