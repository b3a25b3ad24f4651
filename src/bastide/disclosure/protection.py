"""Which suppressed cells a reader can work out exactly from the published ones.

Each line of a table is an equation ``total - sum(members) = 0``. With the published
cells known, the suppressed cells are the unknowns of these equations. A suppressed cell
``k`` can be moved without changing anything published exactly when the equations,
restricted to the suppressed cells, have a solution ``delta`` (a perturbation) with
``delta[k] != 0``: then ``x + e * delta`` is another table with the same published cells.

So a cell is *protected* when some perturbation moves it while keeping every cell
non-negative. We use sufficient conditions that are exact linear algebra:

1. a perturbation that touches only suppressed cells that are positive, plus ``k``
   itself: positive cells can move a little either way, and a zero ``k`` can move up;
2. or one of the basis perturbations of all the suppressed cells that moves ``k`` and
   whose entries on zero cells all have the same sign: taken in that direction, every
   zero cell moves up or stays.

Either keeps the table valid for a small ``e``: the tables consistent with the release
give ``x[k]`` values on both sides of (or, for a zero, above) the true one, so the
interval of its possible values has a positive width.

Computation: reduce the equations (restricted to the allowed cells) to reduced row echelon
form over the rationals. A non-pivot column is free; a pivot column moves with the free
columns that appear in its row. The pivots whose rows hold no free column are exactly the
cells fixed by the equations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from bastide.disclosure.grid import Line

Row = dict[int, Fraction]


def _reduce(rows: Iterable[Row]) -> dict[int, Row]:
    """Reduced row echelon form: pivot column -> its row (pivot coefficient 1)."""
    pivots: dict[int, Row] = {}
    for original in rows:
        row = {c: v for c, v in original.items() if v}
        # Pivot rows hold no other pivot column, so one pass clears every pivot column.
        for col in [c for c in row if c in pivots]:
            factor = row[col]
            for c, v in pivots[col].items():
                nv = row.get(c, 0) - factor * v
                if nv:
                    row[c] = nv
                else:
                    row.pop(c, None)
        if not row:
            continue
        pivot = min(row)
        scale = row[pivot]
        row = {c: v / scale for c, v in row.items()}
        for other in pivots.values():
            if pivot in other:
                weight = other[pivot]
                for c, v in row.items():
                    nv = other.get(c, 0) - weight * v
                    if nv:
                        other[c] = nv
                    else:
                        other.pop(c, None)
        pivots[pivot] = row
    return pivots


def _rows(lines: Sequence[Line], allowed: set[int]) -> list[Row]:
    rows: list[Row] = []
    for line in lines:
        row: Row = {}
        if line.total in allowed:
            row[line.total] = Fraction(1)
        for m in line.members:
            if m in allowed:
                row[m] = row.get(m, Fraction(0)) - 1
        if row:
            rows.append(row)
    return rows


def _movable(lines: Sequence[Line], allowed: set[int]) -> set[int]:
    """Cells of ``allowed`` that some perturbation supported on ``allowed`` moves."""
    pivots = _reduce(_rows(lines, allowed))
    free = allowed - set(pivots)
    moved = set(free)
    for pivot, row in pivots.items():
        if any(c in free for c in row if c != pivot):
            moved.add(pivot)
    return moved


def _movable_with_zeros(lines: Sequence[Line], hidden: set[int], zeros: set[int]) -> set[int]:
    """Cells moved by one basis perturbation (over all hidden cells) whose entries on the
    zero cells all have one sign: taken in that direction, no zero goes below zero."""
    pivots = _reduce(_rows(lines, hidden))
    free = hidden - set(pivots)
    moved: set[int] = set()
    for f in free:
        vector = {f: Fraction(1)} | {p: -row[f] for p, row in pivots.items() if row.get(f)}
        signs = {v > 0 for c, v in vector.items() if c in zeros}
        if len(signs) <= 1:
            moved.update(vector)
    return moved


def unprotected(lines: Sequence[Line], hidden: Iterable[int], values: Sequence[float]) -> set[int]:
    """The hidden cells that are not protected (see the module's docstring).

    ``lines`` are the additive lines of the table (published and hidden cells alike);
    ``values`` the true values, used only to know which hidden cells are zero.
    """
    hidden = set(hidden)
    if not hidden:
        return set()
    relevant = [line for line in lines if any(c in hidden for c in line.cells)]
    positive = {c for c in hidden if values[c] > 0}
    zeros = hidden - positive
    bad = positive - _movable(relevant, positive)
    for zero in sorted(zeros):
        if zero not in _movable(relevant, positive | {zero}):
            bad.add(zero)
    if bad and zeros:
        bad -= _movable_with_zeros(relevant, hidden, zeros)
    return bad
