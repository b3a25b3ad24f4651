"""French vocabularies as OMOP vocabulary tables (CONCEPT, CONCEPT_RELATIONSHIP,
CONCEPT_ANCESTOR, VOCABULARY) with the exact types of the CDM v5.4 specification, so they
can be unioned with the vocabulary of any OMOP database.

Loaded: CIM-10, CCAM, CSARR, ATC (levels 1-5), CIP13 (BDPM presentations) and UCD. CIP13
and UCD are attached to ATC classes by an IR_PHA_R extract when one is given. Concept ids
are a pure function of the code (`bastide.cdm.concept_ids`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

import polars as pl
import pyarrow as pa

from bastide.cdm import nomenclatures as nom
from bastide.cdm.concept_ids import concept_id, concept_id_expr
from bastide.cdm.hierarchy import cim10_chapter_parents, cim10_chapters, closure, prefix_parents
from bastide.cdm.lookup import code_map, normalise_codes, resolve_codes
from bastide.cdm.spec import conform

__all__ = [
    "build_vocabulary",
    "cip13_to_atc_relationships",
    "code_map",
    "normalise_codes",
    "resolve_codes",
]

VALID_START = date(1970, 1, 1)
VALID_END = date(2099, 12, 31)
ATC_CLASSES = {1: "ATC 1st", 2: "ATC 2nd", 3: "ATC 3rd", 4: "ATC 4th", 5: "ATC 5th"}
# Relationship pairs written in both directions, as OMOP does.
IS_A, SUBSUMES = "Is a", "Subsumes"
MAPS_TO, MAPPED_FROM = "Maps to", "Mapped from"

_CONCEPT_COLUMNS = [
    "concept_id",
    "concept_name",
    "domain_id",
    "vocabulary_id",
    "concept_class_id",
    "standard_concept",
    "concept_code",
]
_EDGE = {"descendant_concept_id": pl.Int64, "ancestor_concept_id": pl.Int64}


@dataclass(frozen=True)
class _Part:
    """Concepts of some vocabularies with their 'Is a' edges and 'Maps to' links."""

    concepts: pl.DataFrame  # _CONCEPT_COLUMNS
    is_a: pl.DataFrame  # descendant_concept_id, ancestor_concept_id
    maps_to: pl.DataFrame  # descendant_concept_id (source), ancestor_concept_id (target)
    versions: dict[str, tuple[str, str, str]]  # vocabulary_id -> name, reference, version


def _empty_edges() -> pl.DataFrame:
    return pl.DataFrame(schema=_EDGE)


def _concepts(
    codes: pl.DataFrame,
    vocabulary_id: str,
    domain: str,
    concept_class: pl.Expr | str,
    standard: str | None,
) -> pl.DataFrame:
    return codes.select(
        concept_id_expr(vocabulary_id, pl.col("code")).alias("concept_id"),
        pl.col("name").alias("concept_name"),
        pl.lit(domain).alias("domain_id"),
        pl.lit(vocabulary_id).alias("vocabulary_id"),
        (pl.lit(concept_class) if isinstance(concept_class, str) else concept_class).alias(
            "concept_class_id"
        ),
        pl.lit(standard, dtype=pl.String).alias("standard_concept"),
        pl.col("code").alias("concept_code"),
    )


def _edges(pairs: pl.DataFrame, child_vocabulary: str, parent_vocabulary: str) -> pl.DataFrame:
    return pairs.select(
        concept_id_expr(child_vocabulary, pl.col("code")).alias("descendant_concept_id"),
        concept_id_expr(parent_vocabulary, pl.col("parent")).alias("ancestor_concept_id"),
    )


def _cim10() -> _Part:
    source = nom.cim10()
    codes = source.codes.get_column("code")
    parents = pl.concat(
        [
            prefix_parents(codes, lengths=range(3, 8)),
            cim10_chapter_parents(codes),
        ]
    )
    has_children = pl.col("code").is_in(parents.get_column("parent").implode())
    concepts = pl.concat(
        [
            _concepts(
                source.codes,
                "CIM10",
                "Condition",
                pl.when(has_children)
                .then(pl.lit("ICD10 Hierarchy"))
                .otherwise(pl.lit("ICD10 code")),
                "C",
            ),
            _concepts(cim10_chapters(), "CIM10", "Condition", "ICD10 Chapter", "C"),
        ]
    )
    name = "CIM-10, Classification internationale des maladies, 10e révision (ATIH)"
    return _Part(
        concepts,
        _edges(parents, "CIM10", "CIM10"),
        _empty_edges(),
        {"CIM10": (name, source.reference, source.version)},
    )


def _flat(
    source: nom.Nomenclature, vocabulary_id: str, name: str, domain: str, concept_class: str
) -> _Part:
    concepts = _concepts(source.codes, vocabulary_id, domain, concept_class, None)
    return _Part(
        concepts,
        _empty_edges(),
        _empty_edges(),
        {vocabulary_id: (name, source.reference, source.version)},
    )


def _atc() -> _Part:
    source = nom.atc()
    parents = prefix_parents(source.codes.get_column("code"), lengths=range(1, 7))
    concepts = _concepts(
        source.codes,
        "ATC",
        "Drug",
        pl.col("level").replace_strict(ATC_CLASSES, return_dtype=pl.String),
        "C",
    )
    name = "WHO Anatomical Therapeutic Chemical classification (French labels)"
    return _Part(
        concepts,
        _edges(parents, "ATC", "ATC"),
        _empty_edges(),
        {"ATC": (name, source.reference, source.version)},
    )


@cache
def _nomenclature_part() -> _Part:
    parts = [
        _cim10(),
        _flat(
            nom.ccam(),
            "CCAM",
            "Classification commune des actes médicaux",
            "Procedure",
            "CCAM act",
        ),
        _flat(
            nom.csarr(),
            "CSARR",
            "Catalogue spécifique des actes de rééducation et réadaptation",
            "Procedure",
            "CSARR act",
        ),
        _atc(),
        _flat(nom.cip13(), "CIP13", "CIP13 drug presentations (BDPM)", "Drug", "Drug Pack"),
        _flat(nom.ucd(), "UCD", "Unités communes de dispensation", "Drug", "Drug Unit"),
    ]
    return _merge(parts)


def _merge(parts: list[_Part]) -> _Part:
    versions: dict[str, tuple[str, str, str]] = {}
    for part in parts:
        versions.update(part.versions)
    return _Part(
        pl.concat([p.concepts for p in parts]),
        pl.concat([p.is_a for p in parts]),
        pl.concat([p.maps_to for p in parts]),
        versions,
    )


# -- drugs to ATC classes (IR_PHA_R) ---------------------------------------------------------
IR_PHA_R_CIP13 = "PHA_CIP_C13"
IR_PHA_R_ATC = "PHA_ATC_C07"
IR_PHA_R_UCD = "PHA_CIP_UCD"
IR_PHA_R_NAMES = ("PHA_MED_NOM", "PHA_NOM_COURT", "PHA_PRD_LIB1")


def _digits13(expr: pl.Expr) -> pl.Expr:
    """A CIP13 or UCD code as 13 digits (IR_PHA_R stores them as integers)."""
    text = expr.cast(pl.String).str.strip_chars().str.replace(r"\.0$", "")
    return pl.when(text.str.contains(r"^[0-9]{1,13}$")).then(text.str.zfill(13))


def _known_atc(frame: pl.DataFrame, known: pl.Series) -> pl.DataFrame:
    """``frame`` (with an ``atc`` column) restricted to rows whose ATC code, or failing that
    its longest prefix, is a loaded ATC class; that class is put in ``target``."""
    candidates = []
    known_frame = pl.DataFrame({"target": known})
    for rank, length in enumerate((7, 6, 5, 4, 3, 1)):
        candidates.append(
            frame.with_columns(target=pl.col("atc").str.slice(0, length), rank=pl.lit(rank))
            .filter(pl.col("atc").str.len_chars() >= length)
            .join(known_frame, on="target", how="semi")
        )
    keys = list(frame.columns)
    return pl.concat(candidates).sort(*keys, "rank").unique(keys, keep="first").drop("rank")


def _drug_classes(ir_pha_r: pa.Table, base: _Part) -> _Part:
    """CIP13 (and UCD) → ATC from an IR_PHA_R extract: CIP13 codes BDPM lacks become
    concepts named from IR_PHA_R; each CIP13 'Maps to' and 'Is a' its ATC class, and each
    UCD 'Is a' the ATC classes of the CIP13 presentations that contain it."""
    missing = [c for c in (IR_PHA_R_CIP13, IR_PHA_R_ATC) if c not in ir_pha_r.column_names]
    if missing:
        raise ValueError(f"IR_PHA_R lacks columns {missing}")
    present = [c for c in (IR_PHA_R_UCD, *IR_PHA_R_NAMES) if c in ir_pha_r.column_names]
    raw = pl.from_arrow(ir_pha_r.select([IR_PHA_R_CIP13, IR_PHA_R_ATC, *present]))
    assert isinstance(raw, pl.DataFrame)
    names = [pl.col(c).cast(pl.String) for c in IR_PHA_R_NAMES if c in present]
    rows = raw.select(
        _digits13(pl.col(IR_PHA_R_CIP13)).alias("code"),
        pl.col(IR_PHA_R_ATC).cast(pl.String).str.strip_chars().str.to_uppercase().alias("atc"),
        (
            _digits13(pl.col(IR_PHA_R_UCD)) if IR_PHA_R_UCD in present else pl.lit(None, pl.String)
        ).alias("ucd"),
        (pl.coalesce(names) if names else pl.lit(None, pl.String)).alias("name"),
    ).filter(pl.col("code").is_not_null())

    concepts = base.concepts
    cip13_known = concepts.filter(pl.col("vocabulary_id") == "CIP13").get_column("concept_code")
    new_cip13 = (
        rows.filter(~pl.col("code").is_in(cip13_known.implode()))
        .select("code", pl.coalesce("name", pl.lit("CIP13 ") + pl.col("code")).alias("name"))
        .unique("code", keep="first")
        .sort("code")
        .with_columns(name=nom.clean_name(pl.col("name")))
    )
    atc_known = concepts.filter(pl.col("vocabulary_id") == "ATC").get_column("concept_code")
    classified = _known_atc(
        rows.filter(pl.col("atc").is_not_null()).select("code", "atc").unique(), atc_known
    )
    cip13_edges = _edges(
        classified.select("code", pl.col("target").alias("parent")), "CIP13", "ATC"
    )
    ucd_known = concepts.filter(pl.col("vocabulary_id") == "UCD").get_column("concept_code")
    ucd_pairs = (
        rows.filter(pl.col("ucd").is_in(ucd_known.implode()))
        .select("code", "ucd")
        .join(classified, on="code")
        .select(pl.col("ucd").alias("code"), pl.col("target").alias("parent"))
        .unique()
    )
    return _Part(
        _concepts(new_cip13, "CIP13", "Drug", "Drug Pack", None),
        pl.concat([cip13_edges, _edges(ucd_pairs, "UCD", "ATC")]),
        cip13_edges,
        {},
    )


def cip13_to_atc_relationships(ir_pha_r: pa.Table) -> pa.Table:
    """CONCEPT_RELATIONSHIP rows attaching CIP13 presentations (and the UCD they contain) to
    their ATC class from an IR_PHA_R extract (PHA_CIP_C13, PHA_ATC_C07, optionally
    PHA_CIP_UCD): 'Maps to'/'Mapped from' and 'Is a'/'Subsumes'. An ATC code absent from
    the loaded classes falls back to its longest loaded prefix."""
    part = _drug_classes(ir_pha_r, _nomenclature_part())
    return _relationships(part)


# -- the four tables --------------------------------------------------------------------------
def build_vocabulary(ir_pha_r: pa.Table | None = None) -> dict[str, pa.Table]:
    """CONCEPT, CONCEPT_RELATIONSHIP, CONCEPT_ANCESTOR and VOCABULARY (keys in lower case)
    of the French vocabularies; with ``ir_pha_r``, drugs are also classified under ATC."""
    if ir_pha_r is None:
        return dict(_base_tables())
    part = _nomenclature_part()
    return _tables(_merge([part, _drug_classes(ir_pha_r, part)]))


@cache
def _base_tables() -> tuple[tuple[str, pa.Table], ...]:
    return tuple(_tables(_nomenclature_part()).items())


def _with_validity(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        valid_start_date=pl.lit(VALID_START),
        valid_end_date=pl.lit(VALID_END),
        invalid_reason=pl.lit(None, dtype=pl.String),
    )


def _vocabulary_concepts(part: _Part) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (concept_id("Metadata", vid), name, "Metadata", vid, "Vocabulary", None, vid)
            for vid, (name, _, _) in sorted(part.versions.items())
        ],
        schema=dict.fromkeys(_CONCEPT_COLUMNS, pl.String) | {"concept_id": pl.Int64},
        orient="row",
    )


def _relationships(part: _Part) -> pa.Table:
    def pairs(edges: pl.DataFrame, forward: str, backward: str) -> list[pl.DataFrame]:
        a, b = pl.col("descendant_concept_id"), pl.col("ancestor_concept_id")
        return [
            edges.select(a.alias("concept_id_1"), b.alias("concept_id_2"), pl.lit(forward)),
            edges.select(b.alias("concept_id_1"), a.alias("concept_id_2"), pl.lit(backward)),
        ]

    frames = [
        f.rename({"literal": "relationship_id"})
        for f in pairs(part.is_a, IS_A, SUBSUMES) + pairs(part.maps_to, MAPS_TO, MAPPED_FROM)
    ]
    rows = pl.concat(frames).unique().sort("concept_id_1", "relationship_id", "concept_id_2")
    return conform(_with_validity(rows).to_arrow(), "concept_relationship")


def _tables(part: _Part) -> dict[str, pa.Table]:
    concepts = pl.concat([part.concepts, _vocabulary_concepts(part)]).sort("concept_id")
    duplicated = concepts.filter(pl.col("concept_id").is_duplicated())
    if not duplicated.is_empty():  # impossible by construction; refuse rather than corrupt
        raise ValueError(f"duplicate concept ids: {duplicated.head(5).to_dicts()}")
    vocabulary = pl.DataFrame(
        [
            (vid, name, reference, version, concept_id("Metadata", vid))
            for vid, (name, reference, version) in sorted(part.versions.items())
        ],
        schema=[
            "vocabulary_id",
            "vocabulary_name",
            "vocabulary_reference",
            "vocabulary_version",
            "vocabulary_concept_id",
        ],
        orient="row",
    )
    ancestor = closure(part.is_a, concepts.get_column("concept_id"))
    return {
        "concept": conform(_with_validity(concepts).to_arrow(), "concept"),
        "concept_relationship": _relationships(part),
        "concept_ancestor": conform(ancestor.to_arrow(), "concept_ancestor"),
        "vocabulary": conform(vocabulary.to_arrow(), "vocabulary"),
    }
