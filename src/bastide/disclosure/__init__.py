"""Statistical disclosure control: the pure core (no engine, no file, no network).

- ``output``: ``Output``, a table and the roles of its columns;
- ``profiles``: named rule profiles (SNDS, OpenSAFELY, ACRO) and hub configuration;
- ``rules``: primary rules (threshold, zeros, dominance, p-percent);
- ``grid``, ``protection``, ``suppression``: margins as equations, the exact audit of
  what can be worked out, secondary suppression;
- ``survival``: time points merged into releasable intervals;
- ``history``: what a project released, and the differencing checks;
- ``check.assess``: all of it for one output, giving a ``Record`` and the released table.
"""

from bastide.disclosure.check import Assessment, assess
from bastide.disclosure.errors import DisclosureError, InvalidOutput, ProfileError
from bastide.disclosure.history import Fact
from bastide.disclosure.output import TOTAL, Kind, Output
from bastide.disclosure.profiles import (
    ACRO,
    BUILTIN,
    OPENSAFELY,
    SNDS,
    OnDifferencing,
    Profile,
    Profiles,
    Zeros,
)
from bastide.disclosure.record import CheckResult, Record, Status, Suppressed

__all__ = [
    "ACRO",
    "BUILTIN",
    "OPENSAFELY",
    "SNDS",
    "TOTAL",
    "Assessment",
    "CheckResult",
    "DisclosureError",
    "Fact",
    "InvalidOutput",
    "Kind",
    "OnDifferencing",
    "Output",
    "Profile",
    "ProfileError",
    "Profiles",
    "Record",
    "Status",
    "Suppressed",
    "Zeros",
    "assess",
]
