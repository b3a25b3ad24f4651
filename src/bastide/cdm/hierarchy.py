"""Hierarchies of the local vocabularies: parents by code prefix, CIM-10 chapters, and the
transitive closure that becomes CONCEPT_ANCESTOR."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

# WHO ICD-10 chapters (titles of the French edition). Blocks (E10-E14, ...) are not in the
# SNDS files and are not derived.
CIM10_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "Certaines maladies infectieuses et parasitaires"),
    ("C00", "D48", "Tumeurs"),
    (
        "D50",
        "D89",
        "Maladies du sang et des organes hématopoïétiques et certains troubles du système"
        " immunitaire",
    ),
    ("E00", "E90", "Maladies endocriniennes, nutritionnelles et métaboliques"),
    ("F00", "F99", "Troubles mentaux et du comportement"),
    ("G00", "G99", "Maladies du système nerveux"),
    ("H00", "H59", "Maladies de l'œil et de ses annexes"),
    ("H60", "H95", "Maladies de l'oreille et de l'apophyse mastoïde"),
    ("I00", "I99", "Maladies de l'appareil circulatoire"),
    ("J00", "J99", "Maladies de l'appareil respiratoire"),
    ("K00", "K93", "Maladies de l'appareil digestif"),
    ("L00", "L99", "Maladies de la peau et du tissu cellulaire sous-cutané"),
    ("M00", "M99", "Maladies du système ostéo-articulaire, des muscles et du tissu conjonctif"),
    ("N00", "N99", "Maladies de l'appareil génito-urinaire"),
    ("O00", "O99", "Grossesse, accouchement et puerpéralité"),
    ("P00", "P96", "Certaines affections dont l'origine se situe dans la période périnatale"),
    ("Q00", "Q99", "Malformations congénitales et anomalies chromosomiques"),
    (
        "R00",
        "R99",
        "Symptômes, signes et résultats anormaux d'examens cliniques et de laboratoire, non"
        " classés ailleurs",
    ),
    (
        "S00",
        "T98",
        "Lésions traumatiques, empoisonnements et certaines autres conséquences de causes externes",
    ),
    ("V01", "Y98", "Causes externes de morbidité et de mortalité"),
    (
        "Z00",
        "Z99",
        "Facteurs influant sur l'état de santé et motifs de recours aux services de santé",
    ),
    ("U00", "U99", "Codes d'utilisation particulière"),
)
MAX_DEPTH = 32  # deeper than any real hierarchy: reaching it means a cycle


def chapter_code(first: str, last: str) -> str:
    return f"{first}-{last}"


def cim10_chapters() -> pl.DataFrame:
    """Chapters as (code, name, first, last); the code is the range, e.g. "E00-E90"."""
    return pl.DataFrame(
        [(chapter_code(a, b), name, a, b) for a, b, name in CIM10_CHAPTERS],
        schema=["code", "name", "first", "last"],
        orient="row",
    )


def cim10_chapter_parents(codes: pl.Series) -> pl.DataFrame:
    """(code, parent) linking each 3-character category to the chapter whose range holds it."""
    categories = pl.DataFrame({"code": codes}).filter(pl.col("code").str.len_chars() == 3)
    return (
        categories.join(cim10_chapters(), how="cross")
        .filter(pl.col("code").is_between(pl.col("first"), pl.col("last")))
        .select("code", pl.col("code_right").alias("parent"))
    )


def prefix_parents(codes: pl.Series, lengths: Sequence[int]) -> pl.DataFrame:
    """(code, parent): the parent of a code is its longest proper prefix, among ``lengths``,
    that is itself a code. Codes without such a prefix have no row."""
    known = pl.DataFrame({"parent": codes.unique()})
    frame = pl.DataFrame({"code": codes.unique()})
    candidates = []
    for rank, length in enumerate(sorted(lengths, reverse=True)):
        candidates.append(
            frame.filter(pl.col("code").str.len_chars() > length)
            .with_columns(parent=pl.col("code").str.slice(0, length), rank=pl.lit(rank))
            .join(known, on="parent", how="semi")
        )
    return (
        pl.concat(candidates)
        .sort("code", "rank")
        .unique("code", keep="first", maintain_order=True)
        .select("code", "parent")
    )


def closure(edges: pl.DataFrame, concept_ids: pl.Series) -> pl.DataFrame:
    """CONCEPT_ANCESTOR rows from ``edges`` (descendant_concept_id → ancestor_concept_id,
    one step each): every ancestor of every concept, itself included at level 0, with the
    shortest and longest path lengths."""
    step = edges.select("descendant_concept_id", "ancestor_concept_id").unique()
    paths = [
        pl.DataFrame(
            {"descendant_concept_id": concept_ids.unique(), "level": 0},
            schema={"descendant_concept_id": pl.Int64, "level": pl.Int64},
        ).with_columns(ancestor_concept_id=pl.col("descendant_concept_id")),
        step.with_columns(level=pl.lit(1, pl.Int64)),
    ]
    frontier = paths[-1]
    for _ in range(MAX_DEPTH):
        frontier = (
            frontier.join(
                step.rename({"descendant_concept_id": "via", "ancestor_concept_id": "next"}),
                left_on="ancestor_concept_id",
                right_on="via",
            )
            .select(
                "descendant_concept_id",
                pl.col("next").alias("ancestor_concept_id"),
                (pl.col("level") + 1).alias("level"),
            )
            .unique()
        )
        if frontier.is_empty():
            break
        paths.append(frontier)
    else:
        raise ValueError("the concept hierarchy has a cycle")
    columns = ["descendant_concept_id", "ancestor_concept_id", "level"]
    return (
        pl.concat([p.select(columns) for p in paths])
        .group_by("ancestor_concept_id", "descendant_concept_id")
        .agg(
            pl.col("level").min().alias("min_levels_of_separation"),
            pl.col("level").max().alias("max_levels_of_separation"),
        )
        .sort("ancestor_concept_id", "descendant_concept_id")
    )
