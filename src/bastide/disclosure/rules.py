"""Primary rules: which cells may not be released as they are.

- **threshold**: a non-zero count below the profile's threshold, before or after
  rounding (for magnitudes: fewer contributors than the threshold);
- **zeros**: a zero count (an empty cell of magnitudes), suppressed or flagged as the
  profile says;
- **dominance** (n, k): the n largest contributions make up at least k of the cell's
  total (``(largest + second) / total >= k`` for n = 2);
- **p-percent**: what remains after the two largest contributions is less than p of the
  largest (``(total - largest - second) / largest < p``): the second contributor could
  estimate the largest within p.

The last two apply to tables of magnitudes; like ACRO, they are not evaluated on cells
with negative values (the output then goes to review).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bastide.disclosure.output import Kind, Output
from bastide.disclosure.profiles import Profile, Zeros

THRESHOLD = "threshold"
ZERO = "zero"
DOMINANCE = "dominance"
P_PERCENT = "p_percent"


@dataclass
class Primary:
    """The outcome of the primary rules over the rows of one output."""

    reasons: dict[int, list[str]] = field(default_factory=dict)  # row -> rules it breaks
    zero_rows: list[int] = field(default_factory=list)
    negative_rows: list[int] = field(default_factory=list)

    def flag(self, row: int, rule: str) -> None:
        rules = self.reasons.setdefault(row, [])
        if rule not in rules:
            rules.append(rule)

    def rows(self, rule: str) -> list[int]:
        return sorted(r for r, rules in self.reasons.items() if rule in rules)


def primary(output: Output, profile: Profile) -> Primary:
    result = Primary()
    if output.kind is Kind.MAGNITUDE:
        _magnitudes(output, profile, result)
        return result
    columns = [output.column(c) for c in output.counts]
    for row in range(output.num_rows):
        values = [int(col[row]) for col in columns]
        if any(profile.too_small(v) for v in values):
            result.flag(row, THRESHOLD)
        if any(v == 0 for v in values):
            _zero(result, row, profile)
    return result


def _zero(result: Primary, row: int, profile: Profile) -> None:
    result.zero_rows.append(row)
    if profile.zeros is Zeros.SUPPRESS:
        result.flag(row, ZERO)


def _magnitudes(output: Output, profile: Profile, result: Primary) -> None:
    assert output.value and output.contributors and output.largest and output.second_largest
    totals = output.column(output.value)
    contributors = output.column(output.contributors)
    largest = output.column(output.largest)
    second = output.column(output.second_largest)
    for row in range(output.num_rows):
        n, total, top1, top2 = int(contributors[row]), totals[row], largest[row], second[row]
        if n == 0:
            _zero(result, row, profile)
            continue
        if n < profile.threshold:
            result.flag(row, THRESHOLD)
        if min(total, top1, top2) < 0:
            result.negative_rows.append(row)
            continue
        if profile.dominance_n is not None and profile.dominance_k is not None and total > 0:
            top = top1 + (top2 if profile.dominance_n == 2 else 0)
            if top / total >= profile.dominance_k:  # ratios, as ACRO computes them
                result.flag(row, DOMINANCE)
        p = profile.p_percent
        if p is not None and top1 > 0 and (total - top1 - top2) / top1 < p:
            result.flag(row, P_PERCENT)
