"""Build the reference-data bundle that ships inside bastide, from the public source files.

    uv run python scripts/build_reference.py                 # ../shared/data -> the package
    uv run python scripts/build_reference.py --source DIR --out DIR

bastide never reads the source folder at run time: what it needs (the OMOP CDM v5.4
specification, the French nomenclatures, the SNDS table schemas, a few HDH mapping tables)
is converted here, once, into zstd Parquet tables of text plus a JSON index that names
every table's origin, licence, source files and their checksums, and the checksum of every
bundle file. The build is reproducible: the same source files give the same bytes (with
the pyarrow version of the lock file), and a test rebuilds it and compares.

Delimited files become tables of strings, exactly as the csv module reads them (encoding
decoded here, so the bundle is UTF-8 throughout); a header-less file's columns are named
c1, c2, … and short rows are padded with nulls. JSON documents are kept verbatim.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data"
DEFAULT_OUT = REPO / "src" / "bastide" / "reference" / "bundle"
FORMAT_VERSION = 1

# Licences and origins, as the source folders declare them.
APACHE = "Apache-2.0"
MPL = "MPL-2.0"
ETALAB = "Licence Ouverte 2.0 (Etalab)"
OMOP_ORIGIN = "OHDSI CommonDataModel, inst/csv (OMOP CDM v5.4 specification)"
NOMENCLATURE_ORIGIN = "Health Data Hub synthetic-snds, nomenclatures (SNDS reference tables)"
OPEN_MEDIC_ORIGIN = "Assurance Maladie Open Medic, ATC label files (via synthetic-snds)"
BDPM_ORIGIN = "ANSM Base de données publique des médicaments, 2019 snapshot"
SCHEMA_SNDS_ORIGIN = "Health Data Hub schema-snds (Table Schema JSON of SNDS tables)"
MAPPING_ORIGIN = "Health Data Hub SNDS -> OMOP conversion documentation"


@dataclass(frozen=True)
class Delimited:
    """A delimited text file to convert into a table of strings."""

    name: str  # bundle name, e.g. "nomenclatures/IR_CIM_V"
    path: str  # under the source folder
    origin: str
    licence: str
    delimiter: str = ";"
    encoding: str = "utf-8"
    header_line: int | None = 1  # 1-based line of the header; None: no header (c1, c2, …)
    quoting: bool = True


@dataclass(frozen=True)
class Documents:
    """JSON documents (one per file) found by a glob, kept verbatim in one table."""

    name: str
    root: str
    pattern: str
    origin: str
    licence: str
    recursive: bool = field(default=False)


def _nomenclature(stem: str, origin: str = NOMENCLATURE_ORIGIN) -> Delimited:
    return Delimited(f"nomenclatures/{stem}", f"nomenclatures/{stem}.csv", origin, ETALAB)


def _bdpm(stem: str) -> Delimited:
    return Delimited(
        f"nomenclatures/bdpm/{stem}",
        f"nomenclatures/bdpm/{stem}.txt",
        BDPM_ORIGIN,
        ETALAB,
        delimiter="\t",
        encoding="latin-1",
        header_line=None,
        quoting=False,  # BDPM is unquoted: a '"' is part of a label
    )


def _mapping(stem: str, header_line: int = 1) -> Delimited:
    return Delimited(
        f"snds-omop-mapping/{stem}",
        f"snds-omop-mapping/{stem}.csv",
        MAPPING_ORIGIN,
        MPL,
        delimiter=",",
        header_line=header_line,
    )


SOURCES: tuple[Delimited | Documents, ...] = (
    Delimited(
        "omop-spec/table_level",
        "omop-spec/OMOP_CDMv5.4_Table_Level.csv",
        OMOP_ORIGIN,
        APACHE,
        delimiter=",",
    ),
    Delimited(
        "omop-spec/field_level",
        "omop-spec/OMOP_CDMv5.4_Field_Level.csv",
        OMOP_ORIGIN,
        APACHE,
        delimiter=",",
    ),
    _nomenclature("IR_CIM_V"),
    _nomenclature("MS_CIM_V"),
    _nomenclature("IR_CCAM_V63"),
    _nomenclature("CSARR"),
    _nomenclature("NU_UCD_R"),
    _nomenclature("IR_NAT_V"),
    _nomenclature("IR_SPE_V"),
    *(_nomenclature(f"openmedic_ATC{level}", OPEN_MEDIC_ORIGIN) for level in range(1, 6)),
    _bdpm("CIS_bdpm"),
    _bdpm("CIS_CIP_bdpm"),
    _bdpm("CIS_COMPO_bdpm"),
    _mapping("Freq_prs_nat_ref_er_prs_f", header_line=4),  # three title lines first
    _mapping("v_departement_2023"),
    _mapping("v_commune_2023"),
    Documents(
        "snds/schema-snds", "snds/schema-snds", "*.json", SCHEMA_SNDS_ORIGIN, MPL, recursive=True
    ),
    Documents("nomenclatures/schemas", "nomenclatures", "*.json", NOMENCLATURE_ORIGIN, ETALAB),
)
LICENCE_FILES = {
    MPL: "snds/LICENSE-schema-snds",
    ETALAB: "snds/LICENCE-synthetic-snds.md",
}
# The OMOP specification ships no licence file of its own: its notice is written here.
APACHE_NOTICE = """OMOP Common Data Model v5.4 specification (table- and field-level CSV files)
Copyright Observational Health Data Sciences and Informatics (OHDSI)
https://github.com/OHDSI/CommonDataModel

Licensed under the Apache License, Version 2.0 (the "License"); you may not use these files
except in compliance with the License. You may obtain a copy of the License at
http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software distributed under the
License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND,
either express or implied. See the License for the specific language governing permissions
and limitations under the License.
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _delimited_table(spec: Delimited, data: bytes) -> pa.Table:
    text = data.decode(spec.encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = io.StringIO(text, newline="")
    if spec.quoting:
        rows = list(csv.reader(lines, delimiter=spec.delimiter))
    else:
        rows = list(csv.reader(lines, delimiter=spec.delimiter, quoting=csv.QUOTE_NONE))
    if spec.header_line is None:
        width = max(len(r) for r in rows)
        header = [f"c{i}" for i in range(1, width + 1)]
        body = [r for r in rows if r]
    else:
        header = rows[spec.header_line - 1]
        body = [r for r in rows[spec.header_line :] if r]
        width = len(header)
    if len(set(header)) != len(header) or any(not h for h in header):
        raise SystemExit(f"{spec.path}: the header has empty or repeated column names")
    columns: list[list[str | None]] = [[] for _ in range(width)]
    for number, row in enumerate(body, start=1):
        if len(row) > width:
            raise SystemExit(f"{spec.path}: row {number} has {len(row)} fields, header {width}")
        for i in range(width):
            columns[i].append(row[i] if i < len(row) else None)
    return pa.table({h: pa.array(c, pa.string()) for h, c in zip(header, columns, strict=True)})


def _documents(spec: Documents, source: Path) -> tuple[pa.Table, list[Path]]:
    root = source / spec.root
    found = root.rglob(spec.pattern) if spec.recursive else root.glob(spec.pattern)
    paths = sorted(found, key=lambda p: p.relative_to(root).as_posix())
    texts = [p.read_bytes().decode("utf-8") for p in paths]
    for text in texts:
        json.loads(text)  # refuse a malformed document at build time, not at run time
    table = pa.table(
        {
            "path": pa.array([p.relative_to(root).as_posix() for p in paths], pa.string()),
            "name": pa.array([p.stem for p in paths], pa.string()),
            "document": pa.array(texts, pa.string()),
        }
    )
    return table, paths


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", compression_level=19, use_dictionary=True)
    path.write_bytes(sink.getvalue().to_pybytes())


def build(source: Path, out: Path) -> dict[str, object]:
    """Write the bundle into ``out`` (replaced whole) and return its index."""
    if not source.is_dir():
        raise SystemExit(f"source folder not found: {source}")
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    entries: dict[str, object] = {}
    for spec in SOURCES:
        if isinstance(spec, Delimited):
            data = (source / spec.path).read_bytes()
            table = _delimited_table(spec, data)
            sources = {spec.path: sha256(data)}
            header = spec.header_line is not None
        else:
            table, paths = _documents(spec, source)
            sources = {p.relative_to(source).as_posix(): sha256(p.read_bytes()) for p in paths}
            header = True
        file = f"tables/{spec.name}.parquet"
        _write_parquet(table, staging / file)
        entries[spec.name] = {
            "file": file,
            "origin": spec.origin,
            "licence": spec.licence,
            "rows": table.num_rows,
            "columns": table.column_names,
            "header": header,  # False: the source had no header line (columns c1, c2, …)
            "sources": sources,
        }
    licences = {}
    for licence, path in LICENCE_FILES.items():
        target = f"licences/{Path(path).name}"
        (staging / target).parent.mkdir(parents=True, exist_ok=True)
        (staging / target).write_bytes((source / path).read_bytes())
        licences[licence] = target
    (staging / "licences" / "NOTICE-omop-cdm.txt").write_text(APACHE_NOTICE, encoding="utf-8")
    licences[APACHE] = "licences/NOTICE-omop-cdm.txt"
    manifest = {
        p.relative_to(staging).as_posix(): sha256(p.read_bytes())
        for p in sorted(staging.rglob("*"))
        if p.is_file()
    }
    index = {
        "format": FORMAT_VERSION,
        "tables": entries,
        "licences": licences,
        "manifest": manifest,
    }
    text = json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    (staging / "index.json").write_text(text, encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    index = build(args.source, args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"{len(index['tables'])} tables, {size / 1e6:.1f} MB in {args.out}")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
