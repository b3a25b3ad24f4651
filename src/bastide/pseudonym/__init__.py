"""Keyed pseudonymisation at the border: every direct identifier is replaced by an
HMAC-SHA256 pseudonym under the hub secret before anything is written.

The scheme (domains, normalisation, output formats) is defined in ``scheme``; see
docs/pseudonymisation.md.
"""

from bastide.pseudonym.pseudonymiser import MAX_ROWS_PER_ARRAY, Pseudonymiser
from bastide.pseudonym.routes import native_available
from bastide.pseudonym.scheme import (
    HOSPITAL_PATIENT,
    PERSON,
    PROVIDER,
    STAY,
    PseudonymError,
    normalise,
)

__all__ = [
    "HOSPITAL_PATIENT",
    "MAX_ROWS_PER_ARRAY",
    "PERSON",
    "PROVIDER",
    "STAY",
    "PseudonymError",
    "Pseudonymiser",
    "native_available",
    "normalise",
]
