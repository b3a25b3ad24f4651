"""Figures as PNG bytes (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure as MplFigure

COLOURS = ("#1f5f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d35400")


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
    """Point estimates with confidence intervals, one per label."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    xs = range(len(labels))
    errors = [
        [max(v - lo, 0) for v, lo in zip(values, lower, strict=True)],
        [max(hi - v, 0) for v, hi in zip(values, upper, strict=True)],
    ]
    ax.errorbar(xs, values, yerr=errors, fmt="o", color=COLOURS[0], capsize=4)
    ax.set_xticks(list(xs), list(labels), rotation=45 if len(labels) > 6 else 0)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return _png(fig)


def bars(labels: Sequence[str], values: Sequence[float], *, title: str, ylabel: str) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.bar(list(labels), list(values), color=COLOURS[0])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)
