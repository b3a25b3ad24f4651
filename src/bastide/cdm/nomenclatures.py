"""Parsers of the French nomenclature files, each giving clean ``(code, name)`` rows and the
version it can prove from the file. Parsed once and kept (immutable frames).

The files come from bastide's reference bundle (`bastide.reference`), already decoded: BDPM
files, Latin-1, tab-separated and header-less at the source, have columns c1, c2, … as BDPM
documents them (1-based).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

import polars as pl

from bastide import reference

NAME_LENGTH = 255  # concept.concept_name is varchar(255)

CIM10_CODE = r"^[A-Z][0-9]{2}[0-9A-Z+]{0,5}$"
CCAM_CODE = r"^[A-Z]{4}[0-9]{3}$"
CSARR_CODE = r"^[A-Z]{3}\+[0-9]{3}$"
ATC_CODE = r"^[A-Z]([0-9]{2}[A-Z0-9]{0,4})?$|^[A-Z][A-Z0-9]{3}$"
DIGITS13 = r"^[0-9]{13}$"
# Open Medic puts codes of every level in its "ATC5" file; a code's own level is given by
# its length (WHO ATC: A, A10, A10B, A10BA, A10BA02).
ATC_LEVEL_BY_LENGTH = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}


@dataclass(frozen=True)
class Nomenclature:
    """Codes of one nomenclature: a frame with at least ``code`` and ``name``."""

    codes: pl.DataFrame
    version: str
    reference: str


def _read(name: str) -> pl.DataFrame:
    """A nomenclature table of the reference bundle (text columns, empty fields null)."""
    return reference.frame(f"nomenclatures/{name}")


def clean_name(expr: pl.Expr) -> pl.Expr:
    """A label cleaned for concept_name: one line, trimmed, at most 255 characters."""
    cleaned = expr.str.replace_all(r"\s+", " ").str.strip_chars()
    return (
        pl.when(cleaned.str.len_chars() > NAME_LENGTH)
        .then(cleaned.str.slice(0, NAME_LENGTH - 1) + "…")
        .otherwise(cleaned)
    )


def _unique_codes(frame: pl.DataFrame, pattern: str) -> pl.DataFrame:
    return (
        frame.filter(pl.col("code").str.contains(pattern), pl.col("name").is_not_null())
        .unique("code", keep="first", maintain_order=True)
        .sort("code")
    )


def _sas_date(value: str) -> date:
    """SNDS dates written as SAS datetimes, e.g. 02JUL2017:00:00:00."""
    return datetime.strptime(value, "%d%b%Y:%H:%M:%S").date()


@cache
def cim10() -> Nomenclature:
    """CIM-10 (ATIH French ICD-10) from IR_CIM_V, with MS_CIM_V for codes IR_CIM_V lacks.
    Placeholders such as III (unknown), XXX (not applicable), ZZZ are not codes."""
    ir = _read("IR_CIM_V")
    ms = _read("MS_CIM_V")
    codes = (
        ir.select(pl.col("CIM_COD").alias("code"), pl.col("CIM_LIB").alias("ir_name"))
        .join(
            ms.select(pl.col("CIM_COD").alias("code"), pl.col("CIM_LIL"), pl.col("CIM_LIC")),
            on="code",
            how="full",
            coalesce=True,
        )
        .select(
            pl.col("code").str.strip_chars(),
            clean_name(pl.coalesce("ir_name", "CIM_LIL", "CIM_LIC")).alias("name"),
        )
    )
    versions = ir.filter(pl.col("VER_CPT_COD").is_not_null())
    release = versions.get_column("VER_CPT_COD").mode().sort()[-1]
    dated = max(_sas_date(v) for v in versions.get_column("VER_CPT_DTE").drop_nulls().unique())
    return Nomenclature(
        _unique_codes(codes, CIM10_CODE),
        version=f"IR_CIM_V {release} ({dated.isoformat()})",
        reference="SNDS nomenclatures IR_CIM_V, MS_CIM_V (ATIH CIM-10 FR)",
    )


@cache
def ccam() -> Nomenclature:
    """CCAM acts from the newest IR_CCAM_V<nn> table. Some codes carry an activity note on a
    second line ("JANH798\\n[A]"); notes that are not codes (NT_09) are dropped."""
    versions = {
        int(match[1]): table.name.rsplit("/", 1)[-1]
        for table in reference.tables()
        if (match := re.fullmatch(r"nomenclatures/IR_CCAM_V(\d+)", table.name))
    }
    if not versions:
        raise reference.ReferenceDataMissing("no IR_CCAM_V<nn> table in the reference bundle")
    stem = versions[max(versions)]
    raw = _read(stem)
    codes = raw.select(
        pl.col("CAM_PRS_IDE_COD").str.strip_chars().str.slice(0, 7).alias("code"),
        clean_name(pl.col("CAM_PRS_IDE_LIB")).alias("name"),
    )
    return Nomenclature(
        _unique_codes(codes, CCAM_CODE),
        version=f"CCAM {stem.rsplit('_', 1)[-1]}",
        reference=f"SNDS nomenclature {stem} (CNAM)",
    )


@cache
def csarr() -> Nomenclature:
    """CSARR rehabilitation acts; labels keep their first line (the rest are exclusions)."""
    raw = _read("CSARR")
    codes = raw.select(
        pl.col("csarr_code").str.strip_chars().alias("code"),
        clean_name(pl.col("libelle").str.split("\n").list.first()).alias("name"),
    )
    return Nomenclature(
        _unique_codes(codes, CSARR_CODE),
        version="CSARR (SNDS nomenclature, undated)",
        reference="SNDS nomenclature CSARR (ATIH)",
    )


@cache
def atc() -> Nomenclature:
    """ATC levels 1-5 from the Open Medic label files. A code listed in several files takes
    the label of the file matching its own level. Columns: code, name, level."""
    frames = []
    for level in range(1, 6):
        raw = _read(f"openmedic_ATC{level}")
        code_col, label_col = raw.columns[:2]
        frames.append(
            raw.select(
                pl.col(code_col).str.strip_chars().alias("code"),
                clean_name(pl.col(label_col)).alias("name"),
                pl.lit(level).alias("file_level"),
            )
        )
    natural = (
        pl.col("code")
        .str.len_chars()
        .replace_strict(ATC_LEVEL_BY_LENGTH, default=None, return_dtype=pl.Int64)
    )
    codes = (
        pl.concat(frames)
        .with_columns(level=pl.coalesce(natural, pl.col("file_level")))
        # The file of the code's own level first, then the most general file.
        .sort("code", (pl.col("file_level") != pl.col("level")), "file_level")
        .select("code", "name", "level")
    )
    return Nomenclature(
        _unique_codes(codes, ATC_CODE),
        version="Open Medic ATC label files (levels 1-5)",
        reference="Assurance Maladie Open Medic, openmedic_ATC1..5",
    )


def _latest_french_date(values: pl.Series) -> date:
    parsed = values.str.strptime(pl.Date, "%d/%m/%Y", strict=False).drop_nulls()
    return parsed.max()  # type: ignore[return-value]


@cache
def cip13() -> Nomenclature:
    """CIP13 presentations from BDPM CIS_CIP (CIP13 column 7), named after their CIS
    (medicinal product, CIS_bdpm column 2) and the presentation. Columns: code, name, cip7."""
    presentations = _read("bdpm/CIS_CIP_bdpm")
    products = _read("bdpm/CIS_bdpm")
    codes = presentations.select(
        pl.col("c1").str.strip_chars().alias("cis"),
        pl.col("c2").str.strip_chars().alias("cip7"),
        pl.col("c3").alias("presentation"),
        pl.col("c7").str.strip_chars().alias("code"),
    ).join(
        products.select(
            pl.col("c1").str.strip_chars().alias("cis"),
            pl.col("c2").alias("product"),
        ),
        on="cis",
        how="left",
    )
    codes = codes.select(
        "code",
        clean_name(
            pl.when(pl.col("product").is_not_null())
            .then(pl.col("product") + " — " + pl.col("presentation").fill_null(""))
            .otherwise(pl.col("presentation"))
        ).alias("name"),
        "cip7",
    )
    latest = _latest_french_date(presentations.get_column("c6"))
    return Nomenclature(
        _unique_codes(codes, DIGITS13),
        version=f"BDPM, latest dated entry {latest.isoformat()}",
        reference="ANSM Base de données publique des médicaments (CIS_CIP_bdpm, CIS_bdpm)",
    )


@cache
def ucd() -> Nomenclature:
    """UCD hospital dispensing units from NU_UCD_R (13 characters, zero-padded)."""
    raw = _read("NU_UCD_R")
    codes = raw.select(
        pl.col("UCD_UCD_COD").str.strip_chars().str.zfill(13).alias("code"),
        clean_name(
            pl.concat_str(
                [pl.col("UCD_DSN_LIB"), pl.col("UCD_CND_LIB")], separator=", ", ignore_nulls=True
            )
        ).alias("name"),
    )
    updated = max(_sas_date(v) for v in raw.get_column("UCD_DER_MAJ").drop_nulls().unique())
    return Nomenclature(
        _unique_codes(codes, DIGITS13),
        version=f"NU_UCD_R, last update {updated.isoformat()}",
        reference="SNDS nomenclature NU_UCD_R",
    )
