"""Raw readers of the reference tables (bastide's bundle) the generator draws its codes from.

Each reader runs once per process (cached); nothing here depends on the seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from bastide import reference
from bastide.cdm.spec import FIELD_LEVEL

_UNACCENT = str.maketrans("ÀÂÄÁÉÈÊËÎÏÍÔÖÓÙÛÜÚÇŒ", "AAAAEEEEIIIOOOUUUUCO")


def plain(text: str) -> str:
    """Upper case without accents, for matching names across files."""
    return text.upper().translate(_UNACCENT)


def _rows(name: str) -> list[list[str]]:
    return reference.rows(name)


@lru_cache(maxsize=1)
def cim10() -> dict[str, str]:
    """CIM-10 code (no dot) -> label, from IR_CIM_V."""
    rows = _rows("nomenclatures/IR_CIM_V")
    return {r[0]: r[1] for r in rows[1:] if r}


@lru_cache(maxsize=1)
def ccam() -> dict[str, tuple[str, str]]:
    """CCAM act code -> (label, regrouping code such as ATM, ADI, ADE, ADC)."""
    rows = _rows("nomenclatures/IR_CCAM_V63")
    return {r[0]: (r[1], r[2]) for r in rows[1:] if r}


@cache
def atc(level: int) -> dict[str, str]:
    """ATC code -> label at level 1..5 (Open Medic)."""
    rows = _rows(f"nomenclatures/openmedic_ATC{level}")
    return {r[0]: r[1].strip() for r in rows[1:] if r}


@lru_cache(maxsize=1)
def ucd() -> dict[str, str]:
    """UCD code (13 chars, zero-padded) -> name."""
    rows = _rows("nomenclatures/NU_UCD_R")
    return {r[0]: r[8] for r in rows[1:] if r}


@dataclass(frozen=True)
class Presentation:
    """One reimbursed BDPM presentation (a box) of a medicinal product."""

    cip13: int
    cip7: int
    cis: str
    name: str
    form: str
    holder: str
    label: str
    units: int | None
    rate: int
    price: float


def _units(label: str) -> int | None:
    # "plaquette(s) ... de 30 comprimé(s)" -> 30; "3 plaquette(s) ... de 10 ..." -> 30.
    match = re.search(r"\bde (\d+) ", label)
    if not match:
        return None
    packs = re.match(r"(\d+) ", label)
    return int(match[1]) * (int(packs[1]) if packs else 1)


def _price(text: str) -> float:
    # "6,39" or "2,849,83": the last comma is the decimal mark, others group thousands.
    whole, _, cents = text.rpartition(",")
    return float(whole.replace(",", "").replace(".", "") + "." + cents)


@lru_cache(maxsize=1)
def bdpm_compositions() -> dict[str, set[str]]:
    """CIS -> active substance names (upper case, without accents)."""
    rows = _rows("nomenclatures/bdpm/CIS_COMPO_bdpm")
    subs: dict[str, set[str]] = {}
    for r in rows:
        if len(r) > 6 and r[6] == "SA":
            subs.setdefault(r[0], set()).add(plain(r[3].strip()))
    return subs


@lru_cache(maxsize=1)
def bdpm_presentations() -> list[tuple[Presentation, str]]:
    """Every active, reimbursed presentation with its route of administration."""
    cis_rows = _rows("nomenclatures/bdpm/CIS_bdpm")
    cis = {r[0]: r for r in cis_rows if len(r) > 10}
    out: list[tuple[Presentation, str]] = []
    for r in _rows("nomenclatures/bdpm/CIS_CIP_bdpm"):
        if len(r) < 10 or r[0] not in cis or r[3] != "Présentation active":
            continue
        rate = r[8].replace(" ", "").rstrip("%")
        if r[7] != "oui" or not rate.isdigit() or not r[9]:
            continue
        c = cis[r[0]]
        pres = Presentation(
            cip13=int(r[6]),
            cip7=int(r[1]),
            cis=r[0],
            name=c[1].strip(),
            form=c[2].strip(),
            holder=c[10].strip(),
            label=r[2].strip(),
            units=_units(r[2]),
            rate=int(rate),
            price=_price(r[9]),
        )
        out.append((pres, c[3].strip()))
    return out


@lru_cache(maxsize=1)
def departments() -> list[tuple[str, str, str]]:
    """(INSEE department code, name, chef-lieu commune code)."""
    rows = _rows("snds-omop-mapping/v_departement_2023")
    return [(r[0], r[6], r[2]) for r in rows[1:] if r]


@lru_cache(maxsize=1)
def communes() -> dict[str, list[str]]:
    """INSEE department code -> its communes' INSEE codes (current communes only)."""
    rows = _rows("snds-omop-mapping/v_commune_2023")
    by_dep: dict[str, list[str]] = {}
    for r in rows[1:]:
        if r and r[0] == "COM":
            by_dep.setdefault(r[3], []).append(r[1])
    return by_dep


@lru_cache(maxsize=1)
def prs_nat_ref_frequencies() -> dict[int, tuple[float, str]]:
    """PRS_NAT_REF -> (percent of DCIR claim lines, mapped OMOP visit concept), from the
    HDH documentation (general population, June 2014)."""
    rows = _rows("snds-omop-mapping/Freq_prs_nat_ref_er_prs_f")
    header = next(i for i, r in enumerate(rows) if r and r[0] == "PRS_NAT_REF")
    return {int(r[0]): (float(r[1]), r[4]) for r in rows[header + 1 :] if r and r[0].isdigit()}


@lru_cache(maxsize=1)
def prs_nat_ref_codes() -> set[int]:
    rows = _rows("nomenclatures/IR_NAT_V")
    return {int(r[0]) for r in rows[1:] if r and r[0].isdigit()}


@dataclass(frozen=True)
class OmopField:
    name: str
    required: bool
    datatype: str


@cache
def omop_fields(table: str) -> tuple[OmopField, ...]:
    """Fields of an OMOP CDM v5.4 table in specification order."""
    rows = reference.records(FIELD_LEVEL)
    return tuple(
        OmopField(r["cdmFieldName"], r["isRequired"] == "Yes", r["cdmDatatype"])
        for r in rows
        if r["cdmTableName"].lower() == table.lower()
    )
