"""Secondary suppression: hide more cells until no hidden cell can be worked out.

The table (and, for differencing, the cells of the project's earlier releases of the same
population) is a set of *layers*, one per additive column (a count, a summed value). In
each layer a cell is published or hidden; the output's rows are hidden as a whole, in
every layer at once.

1. **Lines.** While some line (a margin and the cells it sums) holds exactly one hidden
   cell, that cell equals the margin minus the others: hide one more cell of that line,
   the smallest positive published cell of this output (inner cells before margins,
   then the first in table order). Repeat until no line has exactly one hidden cell.
2. **Audit.** Lines alone are not enough: two blocks of hidden cells joined by a single
   hidden cell (a "bridge") leave every line with two hidden cells, yet the bridge is the
   difference of two sums of margins. So each layer is checked exactly
   (``protection.unprotected``): every hidden cell must be movable by a perturbation
   that changes no published cell and keeps the table non-negative.
3. **Repair.** For a cell that fails the audit, hide the smallest positive published
   cell sharing a line with it (any cell of the layer when its lines have none left) and
   go back to 1.

This ends: each round hides one more cell. It succeeds when the audit passes; if no cell
is left to hide while a cell still fails, the output fails its checks. Guarantee on
success: for every hidden cell, the values consistent with everything published (by this
output and, through the history layers, by the project's earlier releases) form an
interval of positive width. For one- and two-dimensional tables the lines form a network
whose perturbations are +1/-1 around cycles, so the interval holds at least two integers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bastide.disclosure.grid import Grid, Line, additive
from bastide.disclosure.protection import unprotected


@dataclass(frozen=True)
class Layer:
    """One additive column over a grid that may hold cells from earlier releases."""

    column: str
    grid: Grid
    values: tuple[float, ...]
    row_of: tuple[int | None, ...]  # grid cell -> row of the new output (None: earlier only)
    published_before: frozenset[int]  # cells an earlier release published
    lines: tuple[Line, ...]  # the additive lines

    @classmethod
    def build(
        cls,
        column: str,
        grid: Grid,
        values: Sequence[float],
        row_of: Sequence[int | None],
        published_before: frozenset[int],
    ) -> Layer:
        lines = tuple(line for line in grid.lines if additive(line, values))
        return cls(column, grid, tuple(values), tuple(row_of), published_before, lines)

    def hidden(self, cell: int, rows_hidden: set[int]) -> bool:
        if cell in self.published_before:
            return False
        row = self.row_of[cell]
        return row is None or row in rows_hidden

    def hidden_cells(self, rows_hidden: set[int]) -> list[int]:
        return [c for c in range(len(self.values)) if self.hidden(c, rows_hidden)]

    def candidate(self, cell: int, rows_hidden: set[int]) -> bool:
        """A published cell of the new output that hiding would help protect others."""
        row = self.row_of[cell]
        return (
            row is not None
            and row not in rows_hidden
            and cell not in self.published_before
            and self.values[cell] > 0
        )

    def unprotected(self, rows_hidden: set[int]) -> set[int]:
        return unprotected(self.lines, self.hidden_cells(rows_hidden), self.values)


@dataclass(frozen=True)
class Protection:
    secondary: tuple[int, ...]  # rows hidden by this step, in the order chosen
    failed: tuple[tuple[str, int], ...]  # (column, grid cell) still unprotected


def protect(
    layers: Sequence[Layer], hidden_rows: set[int], order: Callable[[int], tuple[float, ...]]
) -> Protection:
    """Hide rows until every hidden cell of every layer is protected (see the module).

    ``order(row)`` ranks candidate rows: the smallest is hidden first.
    """
    hidden = set(hidden_rows)
    added: list[int] = []
    while True:
        _lines_pass(layers, hidden, added, order)
        failed = [(layer, c) for layer in layers for c in sorted(layer.unprotected(hidden))]
        if not failed:
            return Protection(tuple(added), ())
        pick = _repair(failed, hidden, order)
        if pick is None:
            return Protection(tuple(added), tuple((layer.column, c) for layer, c in failed))
        hidden.add(pick)
        added.append(pick)


def _lines_pass(
    layers: Sequence[Layer],
    hidden: set[int],
    added: list[int],
    order: Callable[[int], tuple[float, ...]],
) -> None:
    changed = True
    while changed:
        changed = False
        for layer in layers:
            for line in layer.lines:
                cells = line.cells
                if sum(1 for c in cells if layer.hidden(c, hidden)) != 1:
                    continue
                rows = [layer.row_of[c] for c in cells if layer.candidate(c, hidden)]
                if rows:
                    pick = min((r for r in rows if r is not None), key=order)
                    hidden.add(pick)
                    added.append(pick)
                    changed = True


def _repair(
    failed: list[tuple[Layer, int]],
    hidden: set[int],
    order: Callable[[int], tuple[float, ...]],
) -> int | None:
    near: set[int] = set()
    anywhere: set[int] = set()
    for layer, cell in failed:
        for line in layer.lines:
            if cell in line.cells:
                near.update(
                    r
                    for c in line.cells
                    if layer.candidate(c, hidden) and (r := layer.row_of[c]) is not None
                )
        anywhere.update(
            r
            for c in range(len(layer.values))
            if layer.candidate(c, hidden) and (r := layer.row_of[c]) is not None
        )
    pool = near or anywhere
    return min(pool, key=order) if pool else None
