"""Concept ids of the local French vocabularies: a pure, reversible function of the code.

    concept_id = block(vocabulary) × 10**13 + value(code)

- ``block`` is fixed per vocabulary (`BLOCKS`) and never reused; blocks start at 100, so
  every id is ≥ 10**15, far above the 2,000,000,000 floor OHDSI reserves for local
  concepts, and stays below 2**53 (exact in JSON and JavaScript).
- ``value`` is the code itself read as a number: 13-digit codes (CIP13, UCD) as their
  decimal value; other codes (up to 8 characters among ``0-9 A-Z + -``) as base-39 digits,
  each character worth 1..38 and a missing trailing character 0, so codes of different
  lengths never meet. 39**8 < 10**13, so a value never spills into the next block.

The mapping is injective by construction: two different codes of one vocabulary differ in
some position, and different vocabularies live in disjoint blocks. An id therefore never
depends on which other codes exist, on file order or on the nomenclature version: the
same code has the same id in every build, and `decode` gives the code back.

The price is 64-bit ids: a target database that declares concept ids as 32-bit integers
needs BIGINT concept columns.
"""

from __future__ import annotations

import re

import polars as pl
import pyarrow as pa

BLOCK_SIZE = 10**13
# One block per vocabulary. Append only: a block number is never changed or reused.
BLOCKS: dict[str, int] = {
    "Metadata": 100,  # the concepts that stand for each vocabulary (VOCABULARY table)
    "CIM10": 101,
    "CCAM": 102,
    "CSARR": 103,
    "ATC": 104,
    "CIP13": 105,
    "UCD": 106,
}
NUMERIC_VOCABULARIES = frozenset({"CIP13", "UCD"})  # 13-digit codes
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ+-"
BASE = len(ALPHABET) + 1
MAX_LENGTH = 8
NUMERIC_LENGTH = 13
LOCAL_CONCEPT_FLOOR = 2_000_000_000

_TEXT_CODE = re.compile(rf"[{re.escape(ALPHABET)}]{{1,{MAX_LENGTH}}}")
_NUMERIC_CODE = re.compile(rf"[0-9]{{{NUMERIC_LENGTH}}}")
_DIGIT = {ch: i + 1 for i, ch in enumerate(ALPHABET)}

assert BASE**MAX_LENGTH < BLOCK_SIZE and 10**NUMERIC_LENGTH <= BLOCK_SIZE
assert max(BLOCKS.values()) * BLOCK_SIZE + BLOCK_SIZE < 2**53


def code_pattern(vocabulary_id: str) -> str:
    """The regular expression a code must match to have an id in this vocabulary."""
    _block(vocabulary_id)
    pattern = _NUMERIC_CODE if vocabulary_id in NUMERIC_VOCABULARIES else _TEXT_CODE
    return pattern.pattern


def concept_id(vocabulary_id: str, code: str) -> int:
    """The concept id of one code (`ValueError` if the code cannot be a code of it)."""
    block = _block(vocabulary_id)
    if vocabulary_id in NUMERIC_VOCABULARIES:
        if not _NUMERIC_CODE.fullmatch(code):
            raise ValueError(f"{vocabulary_id} code must be {NUMERIC_LENGTH} digits: {code!r}")
        return block * BLOCK_SIZE + int(code)
    if not _TEXT_CODE.fullmatch(code):
        raise ValueError(
            f"{vocabulary_id} code must be 1-{MAX_LENGTH} characters of {ALPHABET}: {code!r}"
        )
    value = 0
    for i in range(MAX_LENGTH):
        value = value * BASE + (_DIGIT[code[i]] if i < len(code) else 0)
    return block * BLOCK_SIZE + value


def decode(concept_id_: int) -> tuple[str, str]:
    """(vocabulary_id, code) of a local concept id."""
    block, value = divmod(concept_id_, BLOCK_SIZE)
    names = {b: v for v, b in BLOCKS.items()}
    if block not in names:
        raise ValueError(f"{concept_id_} is not a local bastide concept id")
    vocabulary_id = names[block]
    if vocabulary_id in NUMERIC_VOCABULARIES:
        return vocabulary_id, f"{value:0{NUMERIC_LENGTH}d}"
    chars = []
    for _ in range(MAX_LENGTH):
        value, digit = divmod(value, BASE)
        if digit:
            chars.append(ALPHABET[digit - 1])
    return vocabulary_id, "".join(reversed(chars))


def concept_id_expr(vocabulary_id: str, code: pl.Expr) -> pl.Expr:
    """`concept_id` as a Polars expression over a column of codes; null where the code
    does not match `code_pattern`."""
    block = _block(vocabulary_id)
    valid = code.str.contains(f"^(?:{code_pattern(vocabulary_id)})$")
    if vocabulary_id in NUMERIC_VOCABULARIES:
        value = code.cast(pl.Int64, strict=False)
    else:
        value = pl.lit(0, dtype=pl.Int64)
        for i in range(MAX_LENGTH):
            digit = code.str.slice(i, 1).replace_strict(_DIGIT, default=0, return_dtype=pl.Int64)
            value = value * BASE + digit
    return pl.when(valid).then(value + block * BLOCK_SIZE).otherwise(None).cast(pl.Int64)


def concept_ids(vocabulary_id: str, codes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`concept_id` over an Arrow array of codes (already normalised); null where invalid."""
    frame = pl.DataFrame({"code": pl.Series(codes, dtype=pl.String)})
    return frame.select(concept_id_expr(vocabulary_id, pl.col("code"))).to_series().to_arrow()


def _block(vocabulary_id: str) -> int:
    try:
        return BLOCKS[vocabulary_id]
    except KeyError:
        raise ValueError(f"no local concept block for vocabulary {vocabulary_id!r}") from None
