"""Planted defects: malformed rows the border must quarantine, with a known answer.

Real extracts are messy. After a table's rows are generated, and before they are written,
each eligible row of an affected table is spoiled independently with probability
``rate × rows / eligible rows`` (so that about ``rate`` of the table's rows are), with
exactly one defect drawn uniformly among the table's kinds (``KINDS``). Every kind fails
exactly one of the border's checks (docs/border.md) and no earlier one: the rest of the
row is as generated, and generated rows pass every check.

Which rows are eligible keeps the ETL downstream coherent (the caller says, see
``dcir_eligible`` and ``pmsi_eligible``): DCIR defects touch only true claim lines (never a
cancellation, a wrongly billed original or an information-only line, so that no group nets
negative) and never a dispensing of the study drugs; PMSI defects touch only stays an ETL
would otherwise keep, never a planted outcome and never a stay that a participating
hospital also delivered (its linkage truth stays exact). A duplicate is an exact copy
written just after a row that is itself valid.

Defects are drawn from generators seeded by (seed, chunk, file), so the same options give
the same defects; with rate 0 no table is touched and the files are clean.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bastide.sources.quarantine import REASONS
from bastide.synth import clinical, inpatient, nomenclatures
from bastide.synth.arrays import rng_for
from bastide.synth.catalogue import CatalogueError, Drugs
from bastide.synth.dcir import TRUE, Claims
from bastide.synth.stays import OK, Coded

DEFAULT_RATE = 0.001
MAX_RATE = 0.1

# How a value is spoiled.
EMPTY = "empty"  # the value is removed
COPY = "copy"  # the whole row is written twice
IMPOSSIBLE_ISO = "impossible_iso"  # 2021-02-30: ISO shape, no such day
IMPOSSIBLE_SAS = "impossible_sas"  # 31FEB2021:00:00:00
MONTH_13 = "month_13"  # 2022-13-01
GARBLED_NUMBER = "garbled_number"  # 1,5x
ZERO_PREFIXED = "zero_prefixed"  # a department on three characters where two are declared
DATETIME_AS_TIME = "datetime_as_time"  # a full datetime in a 10-character time column
CIM10 = "cim10"  # a CIM-10 code absent from IR_CIM_V
CCAM = "ccam"  # a CCAM code absent from IR_CCAM_V63
CIP13 = "cip13"  # a CIP13 with a wrong check digit, absent from IR_PHA_R and the BDPM

# Spoils whose column is written as text (in every chunk, so that a file has one type).
_TEXT = {IMPOSSIBLE_ISO, MONTH_13, GARBLED_NUMBER}


@dataclass(frozen=True)
class Kind:
    reason: str  # the border's reason code
    column: str  # the column the border names (a duplicate: its key columns joined by +)
    spoil: str


# Affected tables, by schema name (PMSI years as ``aa``) or OMOP file name.
KINDS: dict[str, tuple[Kind, ...]] = {
    "IR_BEN_R": (Kind("duplicate_key", "BEN_NIR_PSA+BEN_RNG_GEM", COPY),),
    "ER_PRS_F": (
        Kind("bad_date", "EXE_SOI_DTD", IMPOSSIBLE_ISO),
        Kind("missing_identifier", "BEN_NIR_PSA", EMPTY),
        Kind("type_error", "PRS_ACT_QTE", GARBLED_NUMBER),
    ),
    "ER_PHA_F": (
        Kind("type_error", "PHA_ACT_QSN", GARBLED_NUMBER),
        Kind("unknown_code", "PHA_PRS_C13", CIP13),
    ),
    "ER_CAM_F": (Kind("unknown_code", "CAM_PRS_IDE", CCAM),),
    "T_MCOaaB": (
        Kind("unknown_code", "DGN_PAL", CIM10),
        Kind("type_error", "BDI_DEP", ZERO_PREFIXED),
        Kind("duplicate_key", "ETA_NUM+RSA_NUM", COPY),
    ),
    "T_MCOaaC": (
        Kind("bad_date", "EXE_SOI_DTD", IMPOSSIBLE_SAS),
        Kind("missing_identifier", "NIR_ANO_17", EMPTY),
    ),
    "T_MCOaaD": (Kind("unknown_code", "ASS_DGN", CIM10),),
    "CONDITION_OCCURRENCE": (
        Kind("missing_identifier", "person_id", EMPTY),
        Kind("bad_date", "condition_start_date", MONTH_13),
    ),
    "MEASUREMENT": (
        Kind("missing_identifier", "person_id", EMPTY),
        Kind("bad_date", "measurement_date", MONTH_13),
        Kind("type_error", "measurement_time", DATETIME_AS_TIME),
    ),
    "DRUG_EXPOSURE": (
        Kind("missing_identifier", "person_id", EMPTY),
        Kind("bad_date", "drug_exposure_start_date", MONTH_13),
    ),
}

DEFECTS_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),
        ("table", pa.string()),
        ("reason", pa.string()),
        ("column", pa.string()),
    ]
)


def kinds_of(table: str) -> tuple[Kind, ...] | None:
    """The defect kinds of a table as named in the extract (``T_MCO21B`` → ``T_MCOaaB``)."""
    if table.startswith("T_MCO") and len(table) == 8 and table[5:7].isdigit():
        return KINDS.get(f"T_MCOaa{table[7]}")
    return KINDS.get(table)


# -- codes that exist nowhere ----------------------------------------------------------


@lru_cache(maxsize=1)
def invented_codes() -> dict[str, tuple[str, ...]]:
    """CIM-10 and CCAM codes shaped like real ones but absent from their nomenclature."""
    known = nomenclatures.cim10()
    cim = tuple(c for c in (f"{letter}999X" for letter in "ACEIJKMRZ") if c not in known)
    acts = sorted({code for code, _, _ in clinical.CCAM_ACTS.values()})
    ccam = tuple(c for c in (f"{a[:4]}999" for a in acts) if c not in nomenclatures.ccam())
    if not cim or not ccam:
        raise CatalogueError("no invented CIM-10 or CCAM code is absent from its nomenclature")
    return {CIM10: cim, CCAM: ccam}


@lru_cache(maxsize=1)
def _known_cip13() -> frozenset[int]:
    return frozenset(p.cip13 for p, _ in nomenclatures.bdpm_presentations())


def wrong_cip13(codes: np.ndarray, shipped: np.ndarray) -> list[int]:
    """Each CIP13 with another check digit (an EAN-13 has exactly one valid one), checked
    absent from the shipped IR_PHA_R and from every BDPM presentation."""
    known = _known_cip13() | frozenset(int(c) for c in shipped)
    out = []
    for code in (int(c) for c in codes):
        base, key = divmod(code, 10)
        for step in range(1, 10):
            candidate = base * 10 + (key + step) % 10
            if candidate not in known:
                out.append(candidate)
                break
        else:  # pragma: no cover - ten check digits cannot all be real codes
            raise CatalogueError(f"no absent CIP13 near {code}")
    return out


# -- which rows an ETL can lose without breaking its invariants ------------------------


def dcir_eligible(claims: Claims, drugs: Drugs) -> dict[str, np.ndarray]:
    """Rows of ER_PRS_F, ER_PHA_F and ER_CAM_F (in the order ``dcir_tables.build`` writes
    them) that may be spoiled: true lines and their rows, no study-drug dispensing."""
    lines, details = claims.lines, claims.details
    effect = clinical.EFFECT
    study = np.isin(drugs.substance, [drugs.index[effect.exposure], drugs.index[effect.comparator]])
    study_detail = study[details.presentation]
    study_line = np.zeros(len(lines.person), dtype=bool)
    study_line[details.line[study_detail]] = True
    true = lines.role == TRUE
    return {
        "ER_PRS_F": true & ~study_line,
        "ER_PHA_F": true[details.line] & ~study_detail,
        "ER_CAM_F": true[lines.ccam >= 0],
    }


def pmsi_eligible(coded: Coded, extract: list[int]) -> np.ndarray:
    """Stays whose rows may be spoiled: stays an ETL keeps (usable identifier, no error
    grouping, not inter-establishment), not a planted outcome, not at a participating
    hospital."""
    s = coded.stays
    return (
        (coded.chaining == OK)
        & ~coded.ghm_error
        & ~coded.inter_establishment
        & ~s.foreign
        & (s.kind != inpatient.STAY_INDEX["gi_bleeding"])
        & ~np.isin(s.eta, extract)
    )


# -- planting --------------------------------------------------------------------------


@dataclass
class _File:
    table: str
    kinds: tuple[Kind, ...]
    lines: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)


@dataclass(frozen=True)
class _Edit:
    column: str
    rows: np.ndarray  # rows of the generated chunk
    values: pa.Array | None  # the spoiled values, None to empty them


class Spoiled:
    """A chunk with its planted defects, applied when called: the writer thread does the
    column work (text conversion, replaced values, copies), so generation does not wait
    for it. ``schema`` and ``num_rows`` are those of the table it makes."""

    def __init__(
        self, table: pa.Table, kinds: tuple[Kind, ...], edits: list[_Edit], copied: np.ndarray
    ) -> None:
        self._table = table
        self._kinds = kinds
        self._edits = edits
        self._copied = copied
        self.schema = text_schema(table.schema, kinds)
        self.num_rows = table.num_rows + int(copied.sum())

    def __call__(self) -> pa.Table:
        table = self._table
        for index, f in enumerate(self.schema):
            if f.type != table.schema.field(index).type:
                table = table.set_column(index, f, pc.cast(table.column(index), f.type))
        for edit in self._edits:
            index = table.schema.get_field_index(edit.column)
            column = table.column(index).combine_chunks()
            values = (
                pa.nulls(len(edit.rows), column.type)
                if edit.values is None
                else edit.values.cast(column.type)
            )
            table = table.set_column(index, edit.column, _replace(column, edit.rows, values))
        if self._copied.any():
            counts = 1 + self._copied.astype(np.int64)
            table = table.take(pa.array(np.repeat(np.arange(len(counts)), counts)))
        return table


def _replace(column: pa.Array, rows: np.ndarray, values: pa.Array) -> pa.Array:
    """``column`` with ``values`` at ``rows`` (sorted, distinct): slices of both, joined in
    one copy (a few rows of a large column: much cheaper than a mask over all rows)."""
    pieces = []
    previous = 0
    for j, row in enumerate(rows.tolist()):
        pieces += [column.slice(previous, row - previous), values.slice(j, 1)]
        previous = row + 1
    pieces.append(column.slice(previous))
    return pa.concat_arrays(pieces)


def text_schema(schema: pa.Schema, kinds: tuple[Kind, ...]) -> pa.Schema:
    """``schema`` with the columns some kind writes text into as text (a file has one type
    per column; in CSV the bytes of valid values are the same)."""
    for kind in kinds:
        index = schema.get_field_index(kind.column)
        if kind.spoil in _TEXT and not pa.types.is_string(schema.field(index).type):
            schema = schema.set(index, schema.field(index).with_type(pa.string()))
    return schema


class Defects:
    """Spoils rows of the affected tables and remembers where (file, line, reason)."""

    def __init__(self, seed: int, rate: float, shipped_cip13: np.ndarray) -> None:
        self.seed = seed
        self.rate = rate
        self._shipped = shipped_cip13
        self._files: dict[str, _File] = {}

    def plant(
        self,
        key: str,
        file: str,
        table_name: str,
        table: pa.Table,
        chunk: int,
        first_line: int,
        eligible: np.ndarray | None = None,
    ) -> tuple[pa.Table | Spoiled, np.ndarray]:
        """Choose and spoil rows of one chunk of ``file`` (``key`` names it whatever its
        format); ``first_line`` is the line its first row will have (the header is line 1;
        Parquet rows count from 1). Returns what to write (the table itself when the file
        is not affected) and, per generated row, whether it was spoiled (a duplicate
        leaves its original valid)."""
        n = table.num_rows
        none = np.zeros(n, dtype=bool)
        kinds = kinds_of(table_name)
        if kinds is None or self.rate <= 0:
            return table, none
        record = self._files.setdefault(file, _File(table_name, kinds))
        ok = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
        n_ok = int(ok.sum())
        if n_ok == 0:
            return Spoiled(table, kinds, [], none), none
        rng = rng_for(self.seed, chunk, f"defects/{key}")
        p = min(1.0, self.rate * n / n_ok)
        rows = np.flatnonzero(ok & (rng.random(n) < p))
        which = rng.integers(0, len(kinds), len(rows))
        lost = none.copy()
        copied = none.copy()
        edits = []
        for k, kind in enumerate(kinds):
            mine = rows[which == k]
            if kind.spoil == COPY:
                copied[mine] = True
            elif len(mine):
                lost[mine] = True
                values = None if kind.spoil == EMPTY else self._values(table, kind, mine, rng)
                edits.append(_Edit(kind.column, mine, values))
        counts = 1 + copied.astype(np.int64)
        position = np.cumsum(counts) - counts  # row of each generated row once copies are in
        spoiled = np.flatnonzero(lost | copied)
        record.lines.append(first_line + position[spoiled] + copied[spoiled])
        kind_of = np.empty(n, dtype=np.int64)
        kind_of[rows] = which
        record.kind.append(kind_of[spoiled])
        return Spoiled(table, kinds, edits, copied), lost

    def _values(
        self, table: pa.Table, kind: Kind, rows: np.ndarray, rng: np.random.Generator
    ) -> pa.Array:
        k = len(rows)
        current = table.column(kind.column).take(pa.array(rows))
        if kind.spoil == CIP13:
            codes = np.array(current.to_pylist(), dtype=np.int64)
            return pa.array(wrong_cip13(codes, self._shipped), pa.int64())
        text = pc.cast(current, pa.string()).to_pylist()
        if kind.spoil == IMPOSSIBLE_ISO:  # the care year, 30 or 31 February
            days = rng.integers(30, 32, k)
            return pa.array([f"{v[:4]}-02-{d}" for v, d in zip(text, days, strict=True)])
        if kind.spoil == IMPOSSIBLE_SAS:
            days = rng.integers(30, 32, k)
            return pa.array([f"{d}FEB{v[5:9]}:00:00:00" for v, d in zip(text, days, strict=True)])
        if kind.spoil == MONTH_13:  # the same year and day, month 13
            return pa.array([f"{v[:4]}-13-{v[8:10]}" for v in text])
        if kind.spoil == GARBLED_NUMBER:
            return pa.array([f"{int(float(v))},5x" for v in text])
        if kind.spoil == ZERO_PREFIXED:
            return pa.array([f"0{v}" for v in text])
        if kind.spoil == DATETIME_AS_TIME:
            stamps = table.column("measurement_datetime").take(pa.array(rows))
            return pc.cast(stamps, pa.string()).combine_chunks()
        if kind.spoil in (CIM10, CCAM):
            pool = invented_codes()[kind.spoil]
            return pa.array([pool[i] for i in rng.integers(0, len(pool), k)])
        raise ValueError(f"unknown spoil {kind.spoil!r}")

    # -- what was planted ---------------------------------------------------------------
    def records(self) -> pa.Table:
        """One row per planted defect: file, line, table, reason, column; by file, line."""
        files, lines, tables, reasons, columns = [], [], [], [], []
        for name, rec in sorted(self._files.items()):
            if not rec.lines:
                continue
            line = np.concatenate(rec.lines)
            kind = np.concatenate(rec.kind)
            order = np.argsort(line, kind="stable")
            files += [name] * len(line)
            tables += [rec.table] * len(line)
            lines.append(line[order])
            reasons += [rec.kinds[k].reason for k in kind[order]]
            columns += [rec.kinds[k].column for k in kind[order]]
        line_array = np.concatenate(lines) if lines else np.zeros(0, dtype=np.int64)
        return pa.table([files, line_array, tables, reasons, columns], schema=DEFECTS_SCHEMA)

    def summary(self) -> dict[str, Any]:
        """The ``defects`` section of effects.json: counts per file and reason."""
        files: dict[str, dict[str, int]] = {}
        total: Counter[str] = Counter()
        for name, rec in sorted(self._files.items()):
            kind = np.concatenate(rec.kind) if rec.kind else np.zeros(0, dtype=np.int64)
            counts = Counter(rec.kinds[k].reason for k in kind.tolist())
            files[name] = {r: counts[r] for r in REASONS if counts[r]}
            total += counts
        return {
            "rate": self.rate,
            "rows": sum(total.values()),
            "by_reason": {r: total[r] for r in REASONS if total[r]},
            "files": files,
            "kinds": {table: {k.column: k.reason for k in kinds} for table, kinds in KINDS.items()},
            "line_numbers": (
                "ground_truth/defects.csv: file, line (1-based, the header is line 1; "
                "Parquet: the row number), table, reason, column"
            ),
        }
