"""Check one output against a profile and the project's earlier releases.

``assess(output, profile, history)`` runs the primary rules, secondary suppression (with
the earlier releases of the same population as extra layers), the differencing checks and
rounding, and returns the record, the table as it would be released, and the cells to
remember if it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from bastide.disclosure import rules
from bastide.disclosure.grid import ALL, Coord, Grid, Key, additive, key_of, place
from bastide.disclosure.history import Fact, conflicts, nested_differences
from bastide.disclosure.output import Kind, Output
from bastide.disclosure.profiles import Profile, Zeros
from bastide.disclosure.record import Cell, CheckResult, Record, Status, Suppressed, worst
from bastide.disclosure.suppression import Layer, protect
from bastide.disclosure.survival import aggregate

SECONDARY = "secondary"
LINKED = "linked"  # hidden so that, with earlier releases, no hidden cell is recovered
EARLIER = "earlier"  # hidden in an earlier release of the same population


@dataclass(frozen=True)
class Assessment:
    record: Record
    released: pa.Table
    facts: tuple[Fact, ...]  # this output's cells (release 0), remembered once released

    @property
    def status(self) -> Status:
        return self.record.status


def assess(output: Output, profile: Profile, history: Sequence[Fact] = ()) -> Assessment:
    output.validate()
    if output.kind is Kind.SURVIVAL:
        return _assess_survival(output, profile, history)
    return _Tabular(output, profile, history).assess()


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _Tabular:
    """Frequency, rate and magnitude tables."""

    def __init__(self, output: Output, profile: Profile, history: Sequence[Fact]) -> None:
        self.output = output
        self.profile = profile
        self.history = list(history)
        label = output.total_label
        self.coords: list[Coord] = [
            tuple(ALL if v == label else v for v in output.coordinates(r))
            for r in range(output.num_rows)
        ]
        self.keys: list[Key] = [key_of(output.dims, c) for c in self.coords]
        self.columns = {c: output.column(c) for c in output.additive_columns()}
        self.margin = [ALL in c for c in self.coords]

    def cell(self, row: int) -> Cell:
        label = self.output.total_label
        return {
            d: (label if v == ALL else v)
            for d, v in zip(self.output.dims, self.coords[row], strict=True)
        }

    def order(self, row: int) -> tuple[float, ...]:
        first = self.output.additive_columns()[0]
        return (float(self.columns[first][row]), float(self.margin[row]), float(row))

    # -- layers ------------------------------------------------------------------------
    def layers(self, with_history: bool) -> tuple[list[Layer], set[int], set[int]]:
        """One layer per additive column; the rows an earlier release hid (which must stay
        hidden) and the releases that took part."""
        output = self.output
        layers, forced, releases = [], set(), set()
        for column in output.additive_columns():
            facts = [
                f
                for f in (self.history if with_history else [])
                if f.population == output.population and f.column == column
            ]
            extra = sorted({d for f in facts for d, _ in f.key} - set(output.dims))
            dims = (*output.dims, *extra)
            coords = [c + (ALL,) * len(extra) for c in self.coords]
            values: list[float] = [float(v) for v in self.columns[column]]
            row_of: list[int | None] = list(range(output.num_rows))
            index = {key: i for i, key in enumerate(self.keys)}
            published: set[int] = set()
            hidden_before: set[int] = set()
            for fact in facts:
                cell = index.get(fact.key)
                if cell is None:
                    cell = index[fact.key] = len(coords)
                    coords.append(place(dims, fact.key))
                    values.append(float(fact.value))
                    row_of.append(None)
                (published if fact.published else hidden_before).add(cell)
                releases.add(fact.release)
            for cell in hidden_before - published:
                row = row_of[cell]
                if row is not None:
                    forced.add(row)
            grid = Grid.build(dims, coords)
            layers.append(Layer.build(column, grid, values, row_of, frozenset(published)))
        return layers, forced, releases

    # -- the assessment ------------------------------------------------------------------
    def assess(self) -> Assessment:
        output, profile = self.output, self.profile
        primary = rules.primary(output, profile)
        base_hidden = set(primary.reasons)
        alone, _, _ = self.layers(with_history=False)
        standalone = protect(alone, base_hidden, self.order)
        checks = [self._structure(alone)]
        if self.history:
            layers, forced, releases = self.layers(with_history=True)
            protection = protect(layers, base_hidden | forced, self.order)
        else:
            layers, forced, releases = alone, set(), set()
            protection = standalone
        hidden = base_hidden | forced | set(protection.secondary)
        reasons: dict[int, list[str]] = {r: list(v) for r, v in primary.reasons.items()}
        alone_hidden = base_hidden | set(standalone.secondary)
        for row in sorted(forced):
            reasons.setdefault(row, []).append(EARLIER)
        for row in protection.secondary:
            tag = SECONDARY if row in alone_hidden else LINKED
            if tag not in reasons.setdefault(row, []):
                reasons[row].append(tag)

        checks += self._primary_checks(primary)
        checks.append(self._secondary_check(protection.failed, layers, reasons))
        facts = self._facts(hidden)
        checks.append(self._differencing(facts, forced, reasons, releases))
        released = self._released(hidden)
        checks.append(self._rounding())
        suppressed = tuple(
            Suppressed(self.cell(r), tuple(reasons[r])) for r in sorted(reasons) if r in hidden
        )
        record = Record(
            output=output.name,
            kind=output.kind.value,
            population=output.population,
            profile=profile.to_dict(),
            status=worst(c.result for c in checks),
            checks=tuple(checks),
            suppressed=suppressed,
        )
        return Assessment(record, released, facts)

    def _structure(self, layers: list[Layer]) -> CheckResult:
        cells = self.output.num_rows
        margins = sum(self.margin)
        broken: dict[int, None] = {}
        for layer in layers:
            for line in layer.grid.lines:
                if not additive(line, layer.values):
                    broken[line.total] = None
        if broken:
            return CheckResult(
                "structure",
                Status.REVIEW,
                f"{_plural(len(broken), 'margin')} not the sum of their cells (overlapping "
                "categories?): suppression cannot use them, check that they reveal no "
                "suppressed cell",
                tuple(self.cell(r) for r in broken),
            )
        return CheckResult(
            "structure",
            Status.PASS,
            f"{_plural(cells, 'cell')}, {_plural(margins, 'margin')}; every margin is the sum "
            "of its cells",
        )

    def _primary_checks(self, primary: rules.Primary) -> list[CheckResult]:
        output, profile = self.output, self.profile
        t = profile.threshold
        small = primary.rows(rules.THRESHOLD)
        what = "contributors" if output.kind is Kind.MAGNITUDE else "a count"
        if output.kind is Kind.MAGNITUDE:
            rule = f"fewer than {t} contributors"
        elif profile.rounding > 1:
            rule = f"{what} from 1 to {t - 1}, or below {t} once rounded to {profile.rounding}"
        else:
            rule = f"{what} from 1 to {t - 1}"
        checks = [
            CheckResult(
                "threshold",
                Status.PASS,
                f"{_plural(len(small), 'cell')} with {rule} suppressed"
                if small
                else f"no cell with {rule}",
                tuple(self.cell(r) for r in small),
            )
        ]
        zeros = sorted(set(primary.zero_rows))
        empty = "empty cell" if output.kind is Kind.MAGNITUDE else "zero cell"
        if not zeros:
            checks.append(CheckResult("zeros", Status.PASS, f"no {empty}"))
        elif profile.zeros is Zeros.SUPPRESS:
            checks.append(
                CheckResult(
                    "zeros",
                    Status.PASS,
                    f"{_plural(len(zeros), empty)} suppressed (the profile treats zeros as "
                    "disclosive)",
                    tuple(self.cell(r) for r in zeros),
                )
            )
        elif profile.zeros is Zeros.FLAG:
            checks.append(
                CheckResult(
                    "zeros",
                    Status.REVIEW,
                    f"{_plural(len(zeros), empty)}: the exception request should say whether "
                    "they are structural (impossible combinations)",
                    tuple(self.cell(r) for r in zeros),
                )
            )
        else:
            checks.append(
                CheckResult(
                    "zeros",
                    Status.PASS,
                    f"{_plural(len(zeros), empty)} released (the profile allows zeros)",
                )
            )
        if output.kind is Kind.MAGNITUDE:
            negative = tuple(self.cell(r) for r in primary.negative_rows)
            for name, enabled, text in (
                (
                    rules.DOMINANCE,
                    profile.dominance_n is not None,
                    f"the {profile.dominance_n} largest contributions reach "
                    f"{profile.dominance_k} of the total",
                ),
                (
                    rules.P_PERCENT,
                    profile.p_percent is not None,
                    f"the rest is less than {profile.p_percent} of the largest contribution",
                ),
            ):
                if not enabled:
                    continue
                rows = primary.rows(name)
                if negative:
                    checks.append(
                        CheckResult(
                            name,
                            Status.REVIEW,
                            f"not defined for {_plural(len(negative), 'cell')} with negative "
                            "values",
                            negative,
                        )
                    )
                else:
                    checks.append(
                        CheckResult(
                            name,
                            Status.PASS,
                            f"{_plural(len(rows), 'cell')} where {text} suppressed"
                            if rows
                            else f"no cell where {text}",
                            tuple(self.cell(r) for r in rows),
                        )
                    )
        return checks

    def _secondary_check(
        self,
        failed: tuple[tuple[str, int], ...],
        layers: list[Layer],
        reasons: dict[int, list[str]],
    ) -> CheckResult:
        if failed:
            by_column = {layer.column: layer for layer in layers}
            cells = []
            for column, cell in failed:
                layer = by_column[column]
                row = layer.row_of[cell]
                cells.append(self.cell(row) if row is not None else dict(layer.grid.key(cell)))
            return CheckResult(
                "secondary_suppression",
                Status.FAIL,
                f"{_plural(len(failed), 'suppressed cell')} could still be worked out from "
                "the published cells and margins, and no cell is left to suppress",
                tuple(cells),
            )
        secondary = [r for r, why in reasons.items() if SECONDARY in why]
        if not any(layer.grid.lines for layer in layers):
            text = "no margins: no suppressed cell can be worked out from other cells"
        elif secondary:
            text = (
                f"{_plural(len(secondary), 'further cell')} suppressed so that no suppressed "
                "cell can be worked out from the margins"
            )
        else:
            text = "no suppressed cell can be worked out from the margins"
        return CheckResult(
            "secondary_suppression",
            Status.PASS,
            text,
            tuple(self.cell(r) for r in sorted(secondary)),
        )

    def _facts(self, hidden: set[int]) -> tuple[Fact, ...]:
        output = self.output
        count = output.kind is not Kind.MAGNITUDE
        return tuple(
            Fact(
                0,
                output.name,
                output.population,
                column,
                self.keys[row],
                float(values[row]),
                row not in hidden,
                count,
            )
            for column, values in self.columns.items()
            for row in range(output.num_rows)
        )

    def _differencing(
        self,
        facts: tuple[Fact, ...],
        forced: set[int],
        reasons: dict[int, list[str]],
        releases: set[int],
    ) -> CheckResult:
        return differencing_check(
            self.profile,
            facts,
            self.history,
            forced_cells=[self.cell(r) for r in sorted(forced)],
            linked_cells=[self.cell(r) for r, why in sorted(reasons.items()) if LINKED in why],
            releases=releases,
        )

    def _rounding(self) -> CheckResult:
        return rounding_check(self.profile, self.output.derived)

    def _released(self, hidden: set[int]) -> pa.Table:
        output, profile = self.output, self.profile
        mask = pa.array([r in hidden for r in range(output.num_rows)], pa.bool_())
        dropped = {output.contributors, output.largest, output.second_largest} - {None}
        fields, arrays = [], []
        for field in output.table.schema:
            name = field.name
            if name in dropped:
                continue
            column = output.table.column(name).combine_chunks()
            if name in output.counts:
                values = [
                    None if r in hidden else profile.round(int(v))
                    for r, v in enumerate(column.to_pylist())
                ]
                arrays.append(pa.array(values, pa.int64()))
                fields.append(pa.field(name, pa.int64()))
            elif name in output.dims:
                arrays.append(column)
                fields.append(field)
            else:  # the magnitude and derived columns
                arrays.append(pc.if_else(mask, pa.scalar(None, column.type), column))
                fields.append(field.with_nullable(True))
        return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def differencing_check(
    profile: Profile,
    facts: Sequence[Fact],
    history: Sequence[Fact],
    *,
    forced_cells: Sequence[Cell] = (),
    linked_cells: Sequence[Cell] = (),
    releases: set[int] | None = None,
) -> CheckResult:
    """Nested differences, changed values and linked suppressions, as one check."""
    if not history:
        return CheckResult("differencing", Status.PASS, "no earlier release in this project")
    t = profile.threshold
    on_flag = Status(profile.differencing.value)
    parts, cells, status = [], [], Status.PASS
    near = nested_differences(facts, history, profile)
    if near:
        status = on_flag
        earlier = sorted({d.release for d in near})
        parts.append(
            f"{_plural(len(near), 'count')} differ by fewer than {t} from the same cell "
            f"released for another population or measure (release "
            f"{', '.join(map(str, earlier))}): if one population contains the other, the "
            "difference is a group below the threshold"
        )
        cells += [dict(d.key) for d in near]
    changed = conflicts(facts, history)
    if changed:
        status = worst([status, Status.REVIEW])
        earlier = sorted({f.release for f in changed})
        parts.append(
            f"{_plural(len(changed), 'cell')} of population {changed[0].population!r} had "
            f"another value in release {', '.join(map(str, earlier))}: the data changed, or "
            "another population was released under the same name (name it)"
        )
        cells += [dict(f.key) for f in changed]
    if forced_cells:
        status = worst([status, Status.REVIEW])
        parts.append(
            f"{_plural(len(forced_cells), 'cell')} suppressed because an earlier release "
            "suppressed them"
        )
        cells += [dict(c) for c in forced_cells]
    if linked_cells:
        status = worst([status, Status.REVIEW])
        parts.append(
            f"{_plural(len(linked_cells), 'further cell')} suppressed because, with the "
            f"counts of release {', '.join(map(str, sorted(releases or ())))}, they would "
            "reveal a suppressed cell"
        )
        cells += [dict(c) for c in linked_cells]
    if not parts:
        count = len({f.release for f in history})
        parts.append(
            f"checked against {_plural(count, 'earlier release')}: no count within {t} of the "
            "same cell elsewhere, no suppressed cell recoverable"
        )
    return CheckResult("differencing", status, "; ".join(parts), tuple(cells))


def rounding_check(profile: Profile, derived: Sequence[str]) -> CheckResult:
    if profile.rounding == 1:
        return CheckResult("rounding", Status.PASS, "counts released unrounded")
    if derived:
        return CheckResult(
            "rounding",
            Status.REVIEW,
            f"counts rounded to the nearest {profile.rounding}, but columns "
            f"{', '.join(derived)} were computed before rounding and could give the exact "
            "counts back: recompute them from the rounded counts or justify them",
        )
    return CheckResult(
        "rounding", Status.PASS, f"every count rounded to the nearest {profile.rounding}"
    )


# -- survival ------------------------------------------------------------------------------
def _assess_survival(output: Output, profile: Profile, history: Sequence[Fact]) -> Assessment:
    strata = aggregate(output, profile)
    dims = output.dims
    label = "stratum" if dims else "curve"
    rows_out: dict[str, list[object]] = {d: [] for d in dims}
    rows_out |= {"time": [], "time_end": [], "at_risk": [], "events": []}
    has_censored = "censored" in output.counts
    if has_censored:
        rows_out["censored"] = []
    rows_out["survival"] = []
    facts: list[Fact] = []
    suppressed: list[Suppressed] = []
    merged = 0
    for stratum in strata:
        key = key_of(dims, stratum.coords)
        cell = dict(zip(dims, stratum.coords, strict=True))
        published = bool(stratum.intervals)
        first_at_risk = output.column("at_risk")[stratum.rows[0]] if stratum.rows else 0
        total_events = sum(int(output.column("events")[r]) for r in stratum.rows)
        facts.append(
            Fact(0, output.name, output.population, "at_risk", key, float(first_at_risk), published)
        )
        facts.append(
            Fact(0, output.name, output.population, "events", key, float(total_events), published)
        )
        if not published:
            suppressed.append(Suppressed(cell, (rules.THRESHOLD,)))
            continue
        merged += len(stratum.rows) - len(stratum.intervals)
        surv = 1.0
        for interval in stratum.intervals:
            n, d = profile.round(interval.at_risk), profile.round(interval.events)
            surv *= 1 - d / n if n else 1.0
            for dim, value in zip(dims, stratum.coords, strict=True):
                rows_out[dim].append(value)
            rows_out["time"].append(interval.start)
            rows_out["time_end"].append(interval.end)
            rows_out["at_risk"].append(n)
            rows_out["events"].append(d)
            if has_censored:
                rows_out["censored"].append(profile.round(interval.censored))
            rows_out["survival"].append(surv)
    released = pa.table(rows_out)
    t = profile.threshold
    dropped = list(output.derived)
    steps = (
        f"{_plural(merged, 'time point')} merged into the interval before or after so that "
        f"every interval has at least {t} at risk and events and censorings that are zero "
        f"or at least {t}"
        if merged
        else f"every time point has at least {t} at risk and releasable events and censorings"
    )
    if suppressed:
        steps += f"; {_plural(len(suppressed), label)} suppressed whole (too few events)"
    checks = [
        CheckResult(
            "structure",
            Status.PASS,
            f"{_plural(len(strata), label)}, {_plural(output.num_rows, 'time point')}; the "
            "survival estimate is recomputed from the released counts"
            + (f" (columns {', '.join(dropped)} are not released)" if dropped else ""),
        ),
        CheckResult(
            "threshold",
            Status.PASS,
            steps,
            tuple(s.cell for s in suppressed),
        ),
        differencing_check(profile, facts, history),
        rounding_check(profile, ()),
    ]
    record = Record(
        output=output.name,
        kind=output.kind.value,
        population=output.population,
        profile=profile.to_dict(),
        status=worst(c.result for c in checks),
        checks=tuple(checks),
        suppressed=tuple(suppressed),
    )
    return Assessment(record, released, tuple(facts))
