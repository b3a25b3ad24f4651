"""Figures as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure as MplFigure

COLOURS = ("#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d35400")
MAX_TICK_LABELS = 12  # beyond, every k-th label only (79 calendar years stay readable)
# The y-axis shows the estimates with this margin; a confidence interval reaching beyond
# (a year with one person) is cut at the top and marked with a triangle.
Y_MARGIN = 1.6


def tick_positions(count: int, most: int = MAX_TICK_LABELS) -> list[int]:
    """At most ``most`` evenly spaced positions among ``count``, the last one included."""
    if count <= most:
        return list(range(count))
    step = -(-count // most)  # ceil
    positions = list(range(0, count, step))
    if positions[-1] != count - 1 and (count - 1 - positions[-1]) >= step / 2:
        positions.append(count - 1)
    return positions[:most] if len(positions) > most else positions


def estimate_top(values: Sequence[float], upper: Sequence[float]) -> float:
    """The top of the y-axis: from the estimates, not from their widest interval."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    highest = max(finite, default=0.0)
    if highest <= 0:
        uppers = [u for u in upper if u is not None and math.isfinite(u)]
        return max(max(uppers, default=1.0), 1e-9)
    return highest * Y_MARGIN


@dataclass(frozen=True)
class Curve:
    label: str
    times: Sequence[float]
    values: Sequence[float]
    lower: Sequence[float] | None = None
    upper: Sequence[float] | None = None


def _png(fig: MplFigure) -> bytes:
    buffer = io.BytesIO()
    # No date or software metadata: the same results give the same bytes.
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def step_curves(curves: Sequence[Curve], *, title: str, xlabel: str, ylabel: str) -> bytes:
    """Kaplan-Meier style step functions with their confidence bands."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, curve in enumerate(curves):
        colour = COLOURS[i % len(COLOURS)]
        ax.step(curve.times, curve.values, where="post", color=colour, label=curve.label)
        if curve.lower is not None and curve.upper is not None:
            ax.fill_between(
                curve.times, curve.lower, curve.upper, step="post", color=colour, alpha=0.15
            )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend()
    return _png(fig)


def estimates(
    labels: Sequence[str],
    values: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    *,
    title: str,
    ylabel: str,
) -> bytes:
    """Point estimates with confidence intervals, one per label. At most
    ``MAX_TICK_LABELS`` labels are written; the y-axis follows the estimates and an
    interval reaching past it is cut there and marked with a triangle."""
    fig, ax = plt.subplots(figsize=(max(7.0, min(14.0, 0.12 * len(labels))), 4.2))
    top = estimate_top(values, upper)
    xs = list(range(len(labels)))
    clipped = [hi > top for hi in upper]
    errors = [
        [max(v - lo, 0) for v, lo in zip(values, lower, strict=True)],
        [max(min(hi, top) - v, 0) for v, hi in zip(values, upper, strict=True)],
    ]
    small = len(labels) > 30
    ax.errorbar(
        xs,
        values,
        yerr=errors,
        fmt="o",
        color=COLOURS[0],
        capsize=2 if small else 4,
        markersize=3 if small else 6,
        elinewidth=0.8 if small else 1.5,
    )
    cut = [x for x, c in zip(xs, clipped, strict=True) if c]
    if cut:
        ax.plot(
            cut,
            [top] * len(cut),
            linestyle="none",
            marker="^",
            color=COLOURS[1],
            clip_on=False,
            label="interval beyond the axis",
        )
        ax.legend(loc="upper left", fontsize="small")
    shown = tick_positions(len(labels))
    ax.set_xticks(shown, [labels[i] for i in shown], rotation=45 if len(shown) > 6 else 0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top)
    ax.grid(alpha=0.3)
    return _png(fig)


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, ylabel: str) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xs = list(range(len(labels)))
    ax.bar(xs, list(values), color=COLOURS[0])
    shown = tick_positions(len(labels))
    ax.set_xticks(shown, [labels[i] for i in shown], rotation=45 if len(shown) > 6 else 0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
