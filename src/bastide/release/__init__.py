"""Release: the only way an output leaves a project.

A member requests the release of an output with a justification; the disclosure checks
(``bastide.disclosure``) run at once; a steward who is not the requester approves or
rejects; only approved outputs are written outside the project area, their hashes in the
audit log.
"""

from bastide.release.errors import ReleaseError, ReleaseNotFound, ReleaseRefused
from bastide.release.service import Releases, ReleaseView, released_files

__all__ = [
    "ReleaseError",
    "ReleaseNotFound",
    "ReleaseRefused",
    "ReleaseView",
    "Releases",
    "released_files",
]
