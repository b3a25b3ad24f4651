"""The one place that says which source columns are identifiers and which hold codes.

Identifier columns are replaced by keyed pseudonyms inside the reader; no raw value of
them leaves it. Each names the pseudonym domain it links in (the domains of
``bastide.pseudonym.scheme``): values of one domain link across tables and sources.
Code columns are checked against known-code sets the caller provides.

Table patterns are shell patterns over the declared schema name (``T_MCOaaC``, not
``T_MCO19C``); column names match case-insensitively; the first matching row wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

# Pseudonym domains (the names bastide.pseudonym.scheme defines).
PERSON = "person"
HOSPITAL_PATIENT = "hospital_patient"
STAY = "stay"
PROVIDER = "provider"

# Code systems.
CIM10 = "CIM-10"
CCAM = "CCAM"
CIP13 = "CIP13"
UCD = "UCD"

# NIR_ANO_17 values that mean "no identifier" in PMSI chaining. They pass through as is:
# pseudonymised, they would make every unchained stay one and the same person.
PMSI_PLACEHOLDER_IDS = ("XXXXXXXXXXXXXXXXX", "XXXXXXXXXXXXXXXXD")


@dataclass(frozen=True)
class IdentifierColumn:
    source: str
    table: str  # shell pattern over the schema name
    column: str
    domain: str
    required: bool = False  # missing value => missing_identifier
    placeholders: tuple[str, ...] = ()
    what: str = ""


@dataclass(frozen=True)
class Correction:
    """A correction to a declared field, with the reason."""

    source: str
    table: str
    column: str
    reason: str
    type: str | None = None  # a LogicalType value replacing the declared type
    drop_minimum: bool = False
    drop_maximum: bool = False


@dataclass(frozen=True)
class CodeColumn:
    source: str
    table: str
    column: str
    system: str
    placeholders: tuple[str, ...] = ()  # values meaning "no code" (kept, never unknown)


IDENTIFIER_COLUMNS: tuple[IdentifierColumn, ...] = (
    # SNDS beneficiaries: pseudonymised NIRs, already hashed once by the producer.
    IdentifierColumn("snds", "*", "BEN_NIR_PSA", PERSON, True, what="beneficiary (DCIR)"),
    IdentifierColumn(
        "snds", "*", "NIR_ANO_17", PERSON, True, PMSI_PLACEHOLDER_IDS, "patient (PMSI)"
    ),
    IdentifierColumn("snds", "*", "BEN_NIR_ANO", PERSON, what="beneficiary's own NIR"),
    IdentifierColumn("snds", "KI_*", "BEN_IDT_ANO", PERSON, True, what="deceased person"),
    IdentifierColumn("snds", "*", "BEN_IDT_ANO", PERSON, what="beneficiary identifier"),
    IdentifierColumn("snds", "*", "ASS_NIR_ANO", PERSON, what="insured rights-opener"),
    IdentifierColumn("snds", "*", "BEN_NIR_IDT", PERSON, what="beneficiary (EGB sample)"),
    IdentifierColumn("snds", "*", "NIR_ANO_MAM", PERSON, what="mother-child number"),
    IdentifierColumn("snds", "*", "ID_MAM_ENF", PERSON, what="mother-child chaining"),
    IdentifierColumn("snds", "*", "BEN_RAT_ANO", PERSON, what="pension file number"),
    IdentifierColumn("snds", "*", "DCD_IDT_ENC", PERSON, what="death record"),
    IdentifierColumn("snds", "*", "IPP_IRR_CRY", HOSPITAL_PATIENT, what="hospital patient"),
    # Health professionals.
    IdentifierColumn("snds", "*", "IPP_IDV_NUM", PROVIDER, what="professional's NIR"),
    IdentifierColumn("snds", "*", "PFS_PFS_NUM", PROVIDER, what="professional"),
    IdentifierColumn("snds", "*", "PFS_EXE_NUM", PROVIDER, what="executing professional"),
    IdentifierColumn("snds", "*", "PFS_PRE_NUM", PROVIDER, what="prescribing professional"),
    IdentifierColumn("snds", "*", "PSP_PPS_NUM", PROVIDER, what="prescriber"),
    IdentifierColumn("snds", "*", "PRS_MTT_NUM", PROVIDER, what="attending doctor"),
    # Hospital OMOP extracts: the hospital's patient number and its chaining identifier
    # (the same keyed function as BEN_NIR_PSA / NIR_ANO_17, so that they link).
    IdentifierColumn("omop", "*", "person_id", HOSPITAL_PATIENT, True, what="patient"),
    IdentifierColumn("omop", "cohort", "subject_id", HOSPITAL_PATIENT, what="patient"),
    IdentifierColumn("omop", "person", "person_source_value", PERSON, what="chaining id"),
    IdentifierColumn("omop", "visit_occurrence", "visit_source_value", STAY, what="stay"),
    IdentifierColumn("omop", "visit_detail", "visit_detail_source_value", STAY, what="stay"),
    IdentifierColumn("omop", "provider", "npi", PROVIDER, what="professional"),
    IdentifierColumn("omop", "provider", "dea", PROVIDER, what="professional"),
    IdentifierColumn("omop", "provider", "provider_source_value", PROVIDER, what="professional"),
)

CODE_COLUMNS: tuple[CodeColumn, ...] = (
    CodeColumn("snds", "*", "DGN_PAL", CIM10),
    CodeColumn("snds", "*", "DGN_REL", CIM10),
    CodeColumn("snds", "*", "ASS_DGN", CIM10),
    CodeColumn("snds", "*", "DCD_CIM_COD", CIM10),
    CodeColumn("snds", "*", "ECD_CIM_COD", CIM10),
    CodeColumn("snds", "*", "CAM_PRS_IDE", CCAM),
    CodeColumn("snds", "*", "CDC_ACT", CCAM),
    CodeColumn("snds", "*", "CCAM_COD", CCAM),
    CodeColumn("snds", "*", "PHA_PRS_C13", CIP13, placeholders=("0",)),
    CodeColumn("snds", "*", "UCD_UCD_COD", UCD),
)


CORRECTIONS: tuple[Correction, ...] = (
    # Declared integer in T_MCOaaB and T_MCOaaC but text in every other PMSI table they
    # join with: as numbers they would lose leading zeros (FINESS 010780054).
    Correction("snds", "T_*", "ETA_NUM", "FINESS: 9 characters, text elsewhere", "string"),
    Correction("snds", "T_*", "RSA_NUM", "stay number: text elsewhere", "string"),
    # Cancellations and regularisations carry negative quantities in DCIR; the ETL nets
    # them against the original lines, so they must not be quarantined.
    Correction("snds", "ER_PRS_F", "PRS_ACT_QTE", "signed quantity", drop_minimum=True),
    Correction("snds", "ER_PRS_F", "PRS_ACT_NBR", "signed count", drop_minimum=True),
    # Infants under one year have an age of 0 years (and their age in days).
    Correction("snds", "T_*", "AGE_ANN", "0 for infants under one year", drop_minimum=True),
)


def _match(
    decl: IdentifierColumn | CodeColumn | Correction, source: str, table: str, column: str
) -> bool:
    return (
        decl.source == source
        and decl.column.upper() == column.upper()
        and fnmatchcase(table.upper(), decl.table.upper())
    )


def correction(source: str, table: str, column: str) -> Correction | None:
    """The correction of a column's declaration, if there is one."""
    return next((d for d in CORRECTIONS if _match(d, source, table, column)), None)


def identifier_column(source: str, table: str, column: str) -> IdentifierColumn | None:
    """The declaration of ``column`` as an identifier, if it is one."""
    return next((d for d in IDENTIFIER_COLUMNS if _match(d, source, table, column)), None)


def code_column(source: str, table: str, column: str) -> CodeColumn | None:
    """The declaration of ``column`` as a code column, if it is one."""
    return next((d for d in CODE_COLUMNS if _match(d, source, table, column)), None)
