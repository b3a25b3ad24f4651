"""Code lists the generator draws from, built once per process from the nomenclatures.

Every code is taken from, or checked against, its reference file: CIM-10 (IR_CIM_V), CCAM
(IR_CCAM_V63), ATC (Open Medic ATC5), CIP13 (reimbursed BDPM presentations whose name
contains the substance and whose active substances are exactly those of the ATC code; for
substances sold only under brand names, the composition alone), UCD (NU_UCD_R),
PRS_NAT_REF (IR_NAT_V). Nothing depends on
the seed, so the lists are identical for every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bastide.errors import BastideError
from bastide.synth import clinical, inpatient, nomenclatures
from bastide.synth.nomenclatures import Presentation

# Reimbursement rate -> PRS_NAT_REF of the pharmacy claim line.
PHARMACY_NAT_REF = {65: 3313, 30: 3312, 15: 3341, 100: 3311}
# Visit kinds whose lines would need a detail table this generator does not write.
_PHARMACY_VISIT_CONCEPT = "581458"


class CatalogueError(BastideError):
    """A code of the clinical model is missing from its nomenclature."""


@dataclass(frozen=True)
class Drugs:
    """Reimbursed presentations (boxes) grouped by substance (ATC code)."""

    atc: tuple[str, ...]
    index: dict[str, int]
    presentations: tuple[Presentation, ...]
    substance: np.ndarray  # substance index of each presentation
    cip13: np.ndarray
    cip7: np.ndarray
    units: np.ndarray  # units per box, 0 when the label does not say
    price: np.ndarray
    nat_ref: np.ndarray
    small: tuple[np.ndarray, ...]  # per substance: presentations for about a month
    large: tuple[np.ndarray, ...]  # per substance: presentations for about three months


@dataclass(frozen=True)
class Catalogue:
    drugs: Drugs
    ucd: dict[str, np.ndarray]  # group -> UCD codes (13 characters)
    ccam: dict[str, tuple[str, int, int]]
    other_care_codes: np.ndarray
    other_care_p: np.ndarray
    cim10: tuple[str, ...]  # every CIM-10 code the model writes, sorted
    cim_index: dict[str, int]


def _matches(names: set[str], terms: tuple[tuple[str, ...], ...]) -> bool:
    """True when the actives are exactly one per term group ("OMEPRAZOLE" must not match
    "ESOMEPRAZOLE": a term starts at a word boundary)."""
    if len(names) != len(terms):
        return False
    return all(any(_word_start(t, n) for n in names for t in group) for group in terms)


def _word_start(term: str, name: str) -> bool:
    at = name.find(term)
    while at >= 0:
        if at == 0 or not name[at - 1].isalpha():
            return True
        at = name.find(term, at + 1)
    return False


def _drugs() -> Drugs:
    atc5 = nomenclatures.atc(5)
    compo = nomenclatures.bdpm_compositions()
    by_cis: dict[str, list[tuple[Presentation, str]]] = {}
    for pres, route in nomenclatures.bdpm_presentations():
        by_cis.setdefault(pres.cis, []).append((pres, route))
    found: list[tuple[int, Presentation]] = []
    atcs = tuple(sorted(clinical.SUBSTANCES))
    for i, code in enumerate(atcs):
        if code not in atc5:
            raise CatalogueError(f"ATC code {code} is not in openmedic_ATC5")
        terms, route = clinical.SUBSTANCES[code]
        groups = clinical.COMBINATIONS.get(code, (terms,))
        hits = [
            pres
            for cis, presentations in by_cis.items()
            if any(t in n for n in compo.get(cis, ()) for t in groups[0])
            and _matches(compo[cis], groups)
            for pres, p_route in presentations
            if route in p_route
        ]
        if not hits:
            raise CatalogueError(f"no reimbursed BDPM presentation for {code} ({terms[0]})")
        # Products named after the substance (generics) when there are some; otherwise
        # the brands whose composition is that substance (e.g. insulin glargine).
        named = [
            p for p in hits if any(_word_start(t, nomenclatures.plain(p.name)) for t in groups[0])
        ]
        hits = named or hits
        found.extend((i, p) for p in sorted(hits, key=lambda p: p.cip13))
    subst = np.array([i for i, _ in found], dtype=np.int32)
    units = np.array([p.units or 0 for _, p in found], dtype=np.int32)
    small, large = [], []
    for i in range(len(atcs)):
        mine = np.flatnonzero(subst == i)
        short = mine[(units[mine] > 0) & (units[mine] < 60)]
        long = mine[units[mine] >= 84]
        small.append(short if len(short) else mine)
        large.append(long if len(long) else small[-1])
    return Drugs(
        atc=atcs,
        index={a: i for i, a in enumerate(atcs)},
        presentations=tuple(p for _, p in found),
        substance=subst,
        cip13=np.array([p.cip13 for _, p in found], dtype=np.int64),
        cip7=np.array([p.cip7 for _, p in found], dtype=np.int64),
        units=units,
        price=np.array([p.price for _, p in found]),
        nat_ref=np.array([PHARMACY_NAT_REF[p.rate] for _, p in found], dtype=np.int32),
        small=tuple(small),
        large=tuple(large),
    )


def _ucd() -> dict[str, np.ndarray]:
    names = nomenclatures.ucd()
    out: dict[str, np.ndarray] = {}
    for group, words in inpatient.UCD_GROUPS.items():
        codes = sorted(c for c, n in names.items() if n.split(" ")[0].rstrip(".") in words)
        if not codes:
            raise CatalogueError(f"no UCD code for {group} ({', '.join(words)})")
        out[group] = np.array(codes, dtype=object)
    return out


def _check_cim10(codes: set[str]) -> tuple[str, ...]:
    known = nomenclatures.cim10()
    missing = sorted(c for c in codes if c not in known)
    if missing:
        raise CatalogueError(f"CIM-10 codes not in IR_CIM_V: {', '.join(missing)}")
    return tuple(sorted(codes))


def _other_care(modelled: set[int]) -> tuple[np.ndarray, np.ndarray]:
    """Claim-line natures this model does not simulate one by one, with their real shares."""
    freq = nomenclatures.prs_nat_ref_frequencies()
    known = nomenclatures.prs_nat_ref_codes()
    codes = sorted(
        c
        for c, (_, concept) in freq.items()
        if c > 0 and c not in modelled and concept != _PHARMACY_VISIT_CONCEPT and c in known
    )
    p = np.array([freq[c][0] for c in codes])
    return np.array(codes, dtype=np.int32), p / p.sum()


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    cim = {c for cond in clinical.CONDITIONS for c in cond.codes}
    cim |= {c for kind in inpatient.STAY_KINDS for c in kind.dp}
    cim |= {c for _, c in clinical.DEATH_CAUSES if c != "cancer"}
    cim |= {c for c, _ in clinical.DEATH_FALLBACK}
    cim |= {c for c, _ in inpatient.TYPICAL_DAS.values()}
    cim.add(clinical.EFFECT.outcome_code)
    cim10 = _check_cim10(cim)
    ccam = nomenclatures.ccam()
    for code, _, _ in clinical.CCAM_ACTS.values():
        if code not in ccam:
            raise CatalogueError(f"CCAM code {code} is not in IR_CCAM_V63")
    modelled = {1111, 1112, 1211, 3111, 3211} | set(PHARMACY_NAT_REF.values())
    modelled |= {nat for _, nat, _ in clinical.CCAM_ACTS.values()}
    codes, p = _other_care(modelled)
    return Catalogue(
        drugs=_drugs(),
        ucd=_ucd(),
        ccam=dict(clinical.CCAM_ACTS),
        other_care_codes=codes,
        other_care_p=p,
        cim10=cim10,
        cim_index={c: i for i, c in enumerate(cim10)},
    )
