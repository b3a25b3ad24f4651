"""DCIR claim lines: statements (décomptes), lines (ER_PRS_F) and their detail rows.

A pharmacy visit is one statement; its lines group drugs by reimbursement nature
(PRS_NAT_REF) and each drug is one ER_PHA_F row. Other care is one line per statement.
Billing noise as in real DCIR: some lines are billed with a wrong quantity, cancelled by a
negative line and billed again; some are billed twice and the duplicate cancelled; some
consultations are repeated as information-only lines (DPN_QLF 71). Every line and detail
row carries the 9-column DCIR key.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from bastide.synth import clinical
from bastide.synth.ambulatory import Acts
from bastide.synth.arrays import civil, from_civil, group_starts, rank_in_group, rng_for
from bastide.synth.catalogue import Drugs
from bastide.synth.counters import Counters
from bastide.synth.pharmacy import Dispensings

PHARMACY = 5  # executant kind, after ambulatory.GP..OTHER
TRUE, WRONG, CANCEL, DUPLICATE, INFORMATION = 0, 1, 2, 3, 4
DCT_MODULUS = 1_000_000_000  # DCT_ORD_NUM has nine digits


@dataclass
class Lines:
    person: np.ndarray
    day: np.ndarray
    nat: np.ndarray
    qty: np.ndarray  # signed
    amount: np.ndarray  # signed
    pse_spe: np.ndarray
    psp_spe: np.ndarray
    kind: np.ndarray
    ccam: np.ndarray  # -1 if none
    group: np.ndarray  # statement (before numbering)
    role: np.ndarray
    lag: np.ndarray  # months between care and the data flow
    source: np.ndarray  # true line a noise line copies (itself for true lines)
    extra: np.ndarray  # boxes a wrong original adds on its first detail row (before sign)

    def take(self, idx: np.ndarray) -> Lines:
        return Lines(*(getattr(self, f.name)[idx] for f in fields(self)))


@dataclass
class Details:
    line: np.ndarray
    presentation: np.ndarray
    boxes: np.ndarray  # signed


@dataclass
class Claims:
    lines: Lines
    details: Details
    dct: np.ndarray  # DCT_ORD_NUM of each line
    emt_ord: np.ndarray  # FLX_EMT_ORD
    prs_ord: np.ndarray  # PRS_ORD_NUM
    pha_ord: np.ndarray  # PHA_ORD_NUM of each detail row
    flx_dis: np.ndarray  # FLX_DIS_DTD (day)
    flx_trt: np.ndarray  # FLX_TRT_DTD (day)
    counts: dict[str, int]


def _cat(parts: list[Lines]) -> Lines:
    return Lines(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Lines)))


def _pharmacy_lines(disp: Dispensings, drugs: Drugs) -> tuple[Lines, Details]:
    nat = drugs.nat_ref[disp.presentation]
    # One sort key: person, day, nature (rank of its code), presentation.
    nat_rank = np.searchsorted(np.unique(drugs.nat_ref), nat)
    key = disp.person.astype(np.int64) << 36 | (disp.day.astype(np.int64) & 0xFFFF) << 20
    key |= nat_rank.astype(np.int64) << 16 | disp.presentation
    order = np.argsort(key, kind="stable")
    person, day, nat = disp.person[order], disp.day[order], nat[order]
    pres, boxes, psp = disp.presentation[order], disp.boxes[order], disp.prescriber_spe[order]
    first_line = group_starts(person, day, nat)
    first_stmt = group_starts(person, day)
    line_of = np.cumsum(first_line) - 1
    starts = np.flatnonzero(first_line)
    n = len(starts)
    lines = Lines(
        person=person[starts],
        day=day[starts],
        nat=nat[starts],
        qty=np.add.reduceat(boxes.astype(np.int64), starts) if n else np.zeros(0, np.int64),
        amount=np.add.reduceat(drugs.price[pres] * boxes, starts) if n else np.zeros(0),
        pse_spe=np.zeros(n, dtype=np.int16),
        psp_spe=psp[starts],
        kind=np.full(n, PHARMACY, dtype=np.int8),
        ccam=np.full(n, -1, dtype=np.int8),
        group=(np.cumsum(first_stmt) - 1)[starts],
        role=np.zeros(n, dtype=np.int8),
        lag=np.zeros(n, dtype=np.int8),
        source=np.arange(n),
        extra=np.zeros(n, dtype=np.int8),
    )
    return lines, Details(line=line_of, presentation=pres, boxes=boxes.astype(np.int64))


def _act_lines(acts: Acts, first_group: int) -> Lines:
    n = len(acts.person)
    return Lines(
        person=acts.person,
        day=acts.day,
        nat=acts.nat_ref,
        qty=acts.qty.astype(np.int64),
        amount=acts.price * acts.qty,
        pse_spe=acts.spe,
        psp_spe=np.where(acts.kind >= 2, 1, 0).astype(np.int16),
        kind=acts.kind,
        ccam=acts.ccam,
        group=first_group + np.arange(n),
        role=np.zeros(n, dtype=np.int8),
        lag=np.zeros(n, dtype=np.int8),
        source=np.arange(n),
        extra=np.zeros(n, dtype=np.int8),
    )


def assemble(
    seed: int, chunk: int, disp: Dispensings, acts: Acts, drugs: Drugs, counters: Counters
) -> Claims:
    rng = rng_for(seed, chunk, "dcir")
    pharm, det = _pharmacy_lines(disp, drugs)
    other = _act_lines(acts, int(pharm.group.max(initial=-1)) + 1)
    other.source += len(pharm.person)
    true = _cat([pharm, other])
    n = len(true.person)
    true.source = np.arange(n)
    true.lag = rng.choice([1, 2, 3, 4, 6], n, p=[0.7, 0.22, 0.04, 0.02, 0.02]).astype(np.int8)

    u = rng.random(n)
    corrected = np.flatnonzero(u < clinical.SHARE_CORRECTED)
    duplicated = np.flatnonzero(
        (u >= clinical.SHARE_CORRECTED)
        & (u < clinical.SHARE_CORRECTED + clinical.SHARE_DUPLICATE_CANCELLED)
    )
    consult = np.isin(true.nat, (1111, 1112))
    informed = np.flatnonzero(consult & (rng.random(n) < clinical.SHARE_INFORMATION_ONLY))

    later = rng.integers(1, 3, n).astype(np.int8)
    # The wrongly billed original: one box (or act) too many.
    wrong = true.take(corrected)
    unit = np.where(
        true.qty[corrected] != 0,
        true.amount[corrected] / np.maximum(np.abs(true.qty[corrected]), 1),
        0,
    )
    wrong.qty = wrong.qty + 1
    wrong.amount = np.round(wrong.amount + unit, 2)
    wrong.role[:] = WRONG
    wrong.extra[:] = 1
    cancel_wrong = wrong.take(np.arange(len(corrected)))
    cancel_wrong.qty, cancel_wrong.amount = -wrong.qty, -wrong.amount
    cancel_wrong.role[:] = CANCEL
    cancel_wrong.lag = wrong.lag + later[corrected]
    true.lag[corrected] += later[corrected] + 1  # the corrected line comes last
    dup = true.take(duplicated)
    dup.role[:] = DUPLICATE
    cancel_dup = dup.take(np.arange(len(duplicated)))
    cancel_dup.qty, cancel_dup.amount = -dup.qty, -dup.amount
    cancel_dup.role[:] = CANCEL
    cancel_dup.lag = dup.lag + later[duplicated]
    info = true.take(informed)
    info.role[:] = INFORMATION
    noise = _cat([wrong, cancel_wrong, dup, cancel_dup, info])

    # Statements: untouched true lines keep theirs; corrected lines and noise get their own.
    alone = np.zeros(n, dtype=bool)
    alone[corrected] = True
    base = int(true.group.max(initial=-1)) + 1
    true.group = np.where(alone, base + np.arange(n), true.group)
    noise.group = base + n + np.arange(len(noise.person))
    lines = _cat([true, noise])

    details = _details(det, lines, len(true.person))
    return _number(
        rng,
        lines,
        details,
        counters,
        {
            "true_lines": n,
            "corrected_lines": len(corrected),
            "cancelled_duplicates": len(duplicated),
            "information_lines": len(informed),
        },
    )


def _details(det: Details, lines: Lines, n_true: int) -> Details:
    """Detail rows of every line: noise lines repeat their source line's rows, with the
    line's sign, and a wrong original's extra box on the first row."""
    per_true = np.bincount(det.line, minlength=n_true)
    first = np.cumsum(per_true) - per_true
    counts = per_true[lines.source]
    line = np.repeat(np.arange(len(lines.source)), counts)
    within = np.arange(len(line)) - np.repeat(np.cumsum(counts) - counts, counts)
    row = first[lines.source][line] + within
    boxes = det.boxes[row] + np.where(within == 0, lines.extra[line], 0)
    boxes = np.where(lines.qty[line] < 0, -boxes, boxes)
    return Details(line=line, presentation=det.presentation[row], boxes=boxes)


def _number(
    rng: np.random.Generator,
    lines: Lines,
    details: Details,
    counters: Counters,
    counts: dict[str, int],
) -> Claims:
    order = np.argsort(lines.group.astype(np.int64) << 14 | lines.nat, kind="stable")
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    lines = lines.take(order)
    details = Details(remap[details.line], details.presentation, details.boxes)
    d_order = np.argsort(details.line << 16 | details.presentation, kind="stable")
    details = Details(details.line[d_order], details.presentation[d_order], details.boxes[d_order])

    first = group_starts(lines.group)
    stmt = np.cumsum(first) - 1
    n_stmt = int(first.sum())
    number = counters.take("dct", n_stmt)
    # FLX_DIS_DTD: first day of the month the flow is made available; processing a few
    # days earlier. Lines of a statement share them.
    y, m, _ = civil(lines.day[first])
    months = y * 12 + (m - 1) + lines.lag[first]
    flx_dis = from_civil(months // 12, months % 12 + 1, 1)
    flx_trt = np.maximum(flx_dis - rng.integers(1, 25, n_stmt), lines.day[first])
    counts = {**counts, "lines": len(lines.person), "detail_rows": len(details.line)}
    return Claims(
        lines=lines,
        details=details,
        dct=(number % DCT_MODULUS)[stmt],
        emt_ord=(1 + number // DCT_MODULUS)[stmt],
        prs_ord=rank_in_group(first),
        pha_ord=rank_in_group(group_starts(details.line)),
        flx_dis=flx_dis[stmt],
        flx_trt=flx_trt[stmt],
        counts=counts,
    )
