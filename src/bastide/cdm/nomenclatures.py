"""Parsers of the French nomenclature files, each giving clean ``(code, name)`` rows and the
version it can prove from the file. Parsed once per directory and kept (immutable frames).

Encodings differ: SNDS nomenclature extracts and Open Medic are UTF-8 with ``;``; BDPM is
Latin-1, tab-separated and unquoted.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import polars as pl

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


def _read_csv(path: Path, *, separator: str = ";", latin1: bool = False) -> pl.DataFrame:
    if latin1:
        # Headerless: columns are named c1, c2, ... as BDPM documents them (1-based).
        text = path.read_bytes().decode("latin-1").encode("utf-8")
        frame = pl.read_csv(
            io.BytesIO(text),
            separator=separator,
            has_header=False,
            infer_schema=False,
            quote_char=None,
        )
        return frame.rename({old: f"c{i}" for i, old in enumerate(frame.columns, start=1)})
    return pl.read_csv(path, separator=separator, infer_schema=False)


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
def cim10(directory: Path) -> Nomenclature:
    """CIM-10 (ATIH French ICD-10) from IR_CIM_V, with MS_CIM_V for codes IR_CIM_V lacks.
    Placeholders such as III (unknown), XXX (not applicable), ZZZ are not codes."""
    ir = _read_csv(directory / "IR_CIM_V.csv")
    ms = _read_csv(directory / "MS_CIM_V.csv")
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
def ccam(directory: Path) -> Nomenclature:
    """CCAM acts from the newest IR_CCAM_V<nn>.csv. Some codes carry an activity note on a
    second line ("JANH798\\n[A]"); notes that are not codes (NT_09) are dropped."""
    files = sorted(
        directory.glob("IR_CCAM_V*.csv"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0)
    )
    if not files:
        raise FileNotFoundError(f"no IR_CCAM_V*.csv in {directory}")
    path = files[-1]
    raw = _read_csv(path)
    codes = raw.select(
        pl.col("CAM_PRS_IDE_COD").str.strip_chars().str.slice(0, 7).alias("code"),
        clean_name(pl.col("CAM_PRS_IDE_LIB")).alias("name"),
    )
    return Nomenclature(
        _unique_codes(codes, CCAM_CODE),
        version=f"CCAM {path.stem.rsplit('_', 1)[-1]}",
        reference=f"SNDS nomenclature {path.stem} (CNAM)",
    )


@cache
def csarr(directory: Path) -> Nomenclature:
    """CSARR rehabilitation acts; labels keep their first line (the rest are exclusions)."""
    raw = _read_csv(directory / "CSARR.csv")
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
def atc(directory: Path) -> Nomenclature:
    """ATC levels 1-5 from the Open Medic label files. A code listed in several files takes
    the label of the file matching its own level. Columns: code, name, level."""
    frames = []
    for level in range(1, 6):
        raw = _read_csv(directory / f"openmedic_ATC{level}.csv")
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
def cip13(directory: Path) -> Nomenclature:
    """CIP13 presentations from BDPM CIS_CIP (CIP13 column 7), named after their CIS
    (medicinal product, CIS_bdpm column 2) and the presentation. Columns: code, name, cip7."""
    presentations = _read_csv(directory / "bdpm" / "CIS_CIP_bdpm.txt", separator="\t", latin1=True)
    products = _read_csv(directory / "bdpm" / "CIS_bdpm.txt", separator="\t", latin1=True)
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
def ucd(directory: Path) -> Nomenclature:
    """UCD hospital dispensing units from NU_UCD_R (13 characters, zero-padded)."""
    raw = _read_csv(directory / "NU_UCD_R.csv")
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
