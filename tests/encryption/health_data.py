"""Small but realistic warehouse tables, and a scanner for their values in raw bytes."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa

# CIM-10 codes of 5 characters: a 3-byte needle such as "I10" occurs by chance in a few
# megabytes of ciphertext, a 5-byte one does not (odds ~1e-12 per byte).
CODES = {
    "E11.9": "Diabète sucré de type 2, sans complication",
    "I48.0": "Fibrillation auriculaire paroxystique",
    "J45.0": "Asthme à prédominance allergique",
    "C50.9": "Tumeur maligne du sein, sans précision",
    "F32.1": "Épisode dépressif moyen",
}
# Column names that are not part of the public OMOP CDM: hidden by the encrypted footer.
PRIVATE_COLUMNS = ("diagnostic_libelle_local", "sejour_commentaire")


def pseudonym(i: int) -> str:
    return hashlib.sha256(f"patient-{i}".encode()).hexdigest()[:32].upper()


def person(n: int = 200) -> pa.Table:
    return pa.table(
        {
            "person_id": pa.array(range(1, n + 1), pa.int64()),
            "person_source_value": [pseudonym(i) for i in range(1, n + 1)],
            "birth_datetime": [date(1940 + i % 60, 1 + i % 12, 1 + i % 28) for i in range(n)],
        }
    )


def conditions(n: int = 600) -> pa.Table:
    codes = list(CODES)
    start = date(2021, 3, 1)
    days = [start + timedelta(days=i % 400) for i in range(n)]
    return pa.table(
        {
            "condition_occurrence_id": pa.array(range(n), pa.int64()),
            "person_id": pa.array([1 + i % 200 for i in range(n)], pa.int64()),
            "condition_source_value": [codes[i % len(codes)] for i in range(n)],
            "diagnostic_libelle_local": [CODES[codes[i % len(codes)]] for i in range(n)],
            "condition_start_date": days,
            "sejour_commentaire": [f"entrée le {d.isoformat()}" for d in days],
        }
    )


def secrets_of(tables: list[pa.Table]) -> dict[str, bytes]:
    """Every value to look for: pseudonyms, codes, labels and dates written as text."""
    found: dict[str, bytes] = {}
    for table in tables:
        for name in table.column_names:
            for value in table.column(name).to_pylist():
                if isinstance(value, str):
                    found[value] = value.encode()
                elif isinstance(value, date):
                    found[value.isoformat()] = value.isoformat().encode()
    return found


# Pseudonyms, ISO dates, CIM-10 codes: found by shape first (one pass in C), then checked.
_SHAPES = re.compile(rb"[0-9A-F]{32}|[0-9]{4}-[0-9]{2}-[0-9]{2}|[A-Z][0-9]{2}\.[0-9]")


def scan(root: Path, needles: dict[str, bytes]) -> dict[str, list[str]]:
    """{file relative to root: [values found in its bytes]} over every file under root."""
    wanted = {v: k for k, v in needles.items()}
    # Free text holding a pseudonym, date or code is found through it: no need to look for
    # the whole text as well.
    free_text = {k: v for k, v in needles.items() if not _SHAPES.search(v)}
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a spill file the engine just released
            continue
        found = {wanted[m] for m in _SHAPES.findall(data) if m in wanted}
        found |= {k for k, v in free_text.items() if v in data}
        if found:
            hits[str(path.relative_to(root))] = sorted(found)
    return hits
