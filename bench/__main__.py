"""``python -m bench [NAME ...] [--quick]``: run benchmarks and print ratios to baselines.

Runs every ``bench/bench_*.py`` (or the named ones), prints a Rich table per benchmark and saves the
rows as JSON under ``bench/results/``. Ratios compare speed per item with the module's
baseline row, measured in the same run on the same machine.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import Row

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def run_one(name: str, quick: bool) -> list[Row]:
    module = importlib.import_module(f"bench.bench_{name}")
    rows = module.run(quick)
    if sum(r.baseline for r in rows) > 1:
        raise SystemExit(f"bench_{name}: more than one baseline row")
    return rows


def table(name: str, rows: list[Row]) -> Table:
    t = Table(title=f"bench_{name}", title_justify="left")
    for col in ("case", "items", "seconds", "per second", "vs baseline", "notes"):
        t.add_column(col, justify="left" if col in ("case", "notes") else "right")
    base = next((r for r in rows if r.baseline), None)
    for r in rows:
        # Only rows that count the same unit as the baseline are compared with it.
        ratio = "baseline" if r.baseline else ""
        if not r.baseline and base is not None and r.unit == base.unit:
            times = r.rate / base.rate
            ratio = f"{times:.1f}×" if times >= 1 else f"{times:.2g}×"
        rate = f"{r.rate / 1e6:.2f} M" if r.rate >= 1e5 else f"{r.rate:,.0f}"
        rate = rate if r.rate >= 10 else f"{r.rate:.2g}"
        t.add_row(r.case, f"{r.items:,}", f"{r.seconds:.3f}", f"{rate} {r.unit}", ratio, r.notes)
    return t


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {available()})"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    names = args.names or available()
    unknown = sorted(set(names) - set(available()))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available()}")
    console = Console()
    results: dict[str, list[Row]] = {}
    for name in names:
        with console.status(f"running bench_{name}…"):
            results[name] = run_one(name, args.quick)
    for name, rows in results.items():
        console.print(table(name, rows))
    out = HERE / "results" / time.strftime("%Y%m%d-%H%M%S.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
                "quick": args.quick,
                "results": {k: [asdict(r) for r in v] for k, v in results.items()},
            },
            indent=2,
        )
    )
    console.print(f"saved {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
