"""Every row of a national extract is loaded, quarantined or excluded, and recorded.

A small synthetic extract (no planted defects) is spoiled in three ways the generator's
own defects do not cover: a PMSI stay whose exit is before its entry, an exact copy of a
dispensing line (ER_PHA_F declares no primary key) and a stay (T_MCOaaB) whose chaining
row (T_MCOaaC) is missing. The ingest must quarantine the first two with their line,
exclude the third with its line, and balance read = loaded + quarantined + excluded for
every file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from ingest_helpers import warehouse_query as _query

from bastide.hub import Hub
from bastide.ingest import ingest
from bastide.ingest import tables as t
from bastide.sources import Reconciliation, ReconciliationError, read_source
from bastide.synth import SynthOptions, generate


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[0].split(";"), [line.split(";") for line in lines[1:]]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join(";".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")


def _line_of(path: Path, eta: str, rsa: str) -> int:
    header, rows = _rows(path)
    e, r = header.index("ETA_NUM"), header.index("RSA_NUM")
    return next(i for i, row in enumerate(rows, start=2) if (row[e], row[r]) == (eta, rsa))


def _spoil(snds: Path) -> dict[str, object]:
    """Plant the three cases; return where they are."""
    # a stay that ends before it starts (T_MCO19C, line 2)
    header, rows = _rows(snds / "T_MCO19C.csv")
    d, f = header.index("EXE_SOI_DTD"), header.index("EXE_SOI_DTF")
    rows[0][f] = "01JAN2018:00:00:00"
    reversed_stay = (rows[0][header.index("ETA_NUM")], rows[0][header.index("RSA_NUM")])
    assert rows[0][d] > "" and not rows[0][d].endswith("2018:00:00:00")
    _write(snds / "T_MCO19C.csv", header, rows)
    # a dispensing delivered twice (ER_PHA_F, lines 2 and 3)
    header, rows = _rows(snds / "ER_PHA_F.csv")
    _write(snds / "ER_PHA_F.csv", header, [rows[0], rows[0], *rows[1:]])
    # a stay without its chaining row (the second row of T_MCO20C removed)
    header, rows = _rows(snds / "T_MCO20C.csv")
    orphan = (rows[1][header.index("ETA_NUM")], rows[1][header.index("RSA_NUM")])
    _write(snds / "T_MCO20C.csv", header, [rows[0], *rows[2:]])
    return {
        "reversed_b": _line_of(snds / "T_MCO19B.csv", *reversed_stay),
        "orphan_b": _line_of(snds / "T_MCO20B.csv", *orphan),
    }


@pytest.fixture(scope="module")
def spoiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Hub, Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("extract") / "x"
    generate(SynthOptions(persons=300, seed=3, out=out, hospitals=1, defects=0))
    snds = out / "snds"
    where = _spoil(snds)
    hub = Hub.init(tmp_path_factory.mktemp("hub") / "hub")
    ingest(hub, snds, "snds")
    return hub, snds, where


def test_planted_rows_are_quarantined_with_their_line(spoiled) -> None:  # type: ignore[no-untyped-def]
    hub, _, _ = spoiled
    rows = _query(
        hub,
        f'SELECT source_file, line_number, reason, "column" FROM {t.QUARANTINE} '
        "ORDER BY source_file, line_number",
    )
    assert {(r["source_file"], r["line_number"]): (r["reason"], r["column"]) for r in rows} == {
        ("ER_PHA_F.csv", 3): ("duplicate_key", "*"),
        ("T_MCO19C.csv", 2): ("out_of_range", "EXE_SOI_DTF"),
    }


def test_a_reversed_stay_makes_no_visit_and_no_condition(spoiled) -> None:  # type: ignore[no-untyped-def]
    hub, _, where = spoiled
    backwards = _query(
        hub,
        "SELECT COUNT(*) AS n FROM visit_occurrence WHERE visit_end_date < visit_start_date",
    )
    assert backwards[0]["n"] == 0
    excluded = _query(
        hub,
        f'SELECT source_file, line_number, "table", rule FROM {t.EXCLUDED_ROWS} '
        "WHERE source_file LIKE 'T_MCO%B.csv'",
    )
    # its stay row has no chaining row left: excluded, with its line, as is the stay
    # whose chaining row is missing
    got = {(r["source_file"], r["line_number"]): (r["table"], r["rule"]) for r in excluded}
    assert got[("T_MCO19B.csv", where["reversed_b"])] == ("T_MCOaaB", "no_chaining_row")
    assert got[("T_MCO20B.csv", where["orphan_b"])] == ("T_MCOaaB", "no_chaining_row")


def test_every_file_balances_and_every_exclusion_has_its_line(spoiled) -> None:  # type: ignore[no-untyped-def]
    hub, snds, _ = spoiled
    files = _query(hub, f"SELECT * FROM {t.RECONCILIATION}")
    excluded = _query(
        hub,
        f"SELECT source_file, COUNT(*) AS n, MIN(line_number) AS first, "
        f"MAX(line_number) AS last, COUNT(DISTINCT line_number) AS lines "
        f"FROM {t.EXCLUDED_ROWS} GROUP BY source_file",
    )
    by_file = {r["source_file"]: r for r in excluded}
    for f in files:
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] + f["rows_excluded"]
        with (snds / f["source_file"]).open(encoding="utf-8") as fh:
            assert f["rows_read"] == sum(1 for _ in csv.reader(fh)) - 1
        x = by_file.get(f["source_file"])
        assert f["rows_excluded"] == (x["n"] if x else 0), f["source_file"]
        if x:
            assert x["lines"] == x["n"] and x["first"] >= 2 and x["last"] <= f["rows_read"] + 1
    counts = _query(hub, f"SELECT source_table, rule, rows FROM {t.EXCLUSIONS}")
    assert sum(c["rows"] for c in counts) == sum(r["n"] for r in excluded) > 0
    listed = [(c["source_table"], c["rule"]) for c in counts]
    assert listed == sorted(listed)


def test_a_run_that_does_not_balance_names_the_file_and_counts(spoiled) -> None:  # type: ignore[no-untyped-def]
    """The check an ingest makes before it publishes (``Reconciliation.settle``): one row
    of one file neither loaded nor excluded."""
    _, snds, _ = spoiled
    reader = read_source(snds / "T_MCO21B.csv", pseudonymise=lambda a: a)
    staged = sum(b.valid.num_rows for b in reader)
    rec = Reconciliation.of([reader.reconciliation])
    assert rec.settle({"T_MCO21B.csv": staged - 1}, {"T_MCO21B.csv": 1}).rows_excluded == 1
    with pytest.raises(ReconciliationError) as err:
        rec.settle({"T_MCO21B.csv": staged - 2}, {"T_MCO21B.csv": 1})
    message = str(err.value)
    assert message.startswith("the reconciliation does not balance")
    assert f"T_MCO21B.csv: {staged:,} rows read but {staged - 2:,} loaded" in message
    assert "(1 unaccounted for)" in message
    with pytest.raises(ReconciliationError, match=r"ER_PHA_F\.csv: 3 rows in the ETL"):
        rec.settle({"T_MCO21B.csv": staged, "ER_PHA_F.csv": 3}, {})
