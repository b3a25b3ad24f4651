"""The governed vocabulary actions the CLI and the Python API call.

``import_vocabulary`` is an operator action: it is decided (``import_vocabulary`` in the
policy) and recorded before anything is read, and its outcome (succeeded, unchanged or
failed) is recorded after. Only metadata reaches the log: digests of the files, row
counts, the snapshot version, the error's class and message (which names a file and a
line of a vocabulary file, never a patient value).
"""

from __future__ import annotations

import re
from pathlib import Path

from bastide.audit import Outcome
from bastide.audit.entry import audit_safe_reason
from bastide.errors import BastideError
from bastide.governance.governed import GovernedService
from bastide.governance.identity import Identity
from bastide.governance.terms import Action
from bastide.storage import Warehouse
from bastide.vocab.publish import ImportResult, import_download
from bastide.vocab.status import VocabularyStatus, vocabulary_status

OBJECT = "vocabulary:athena"
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_.:/+-]+")


def import_vocabulary(
    gov: GovernedService, actor: Identity, directory: Path, *, subset: bool = False
) -> ImportResult:
    """Import the Athena download at ``directory`` as a new warehouse snapshot."""
    action = Action.IMPORT_VOCABULARY
    gov.authorize(actor, action, obj=OBJECT, details={"source": "athena"})
    try:
        result = import_download(gov.hub, Path(directory), subset=subset)
    except BastideError as exc:
        gov.audit.append(
            actor.name,
            action,
            Outcome.FAILED,
            None,
            OBJECT,
            audit_safe_reason(f"nothing was published: {exc}"),
            {"source": "athena", "error": type(exc).__name__},
        )
        raise
    details: dict[str, object] = {"source": "athena", "file_sha256": result.file_sha256}
    if result.unchanged:
        reason = "the same files are already imported; nothing was published"
    else:
        reason = f"vocabulary snapshot {result.version} published"
        details |= {"snapshot": str(result.version), "row_counts": result.rows}
        release = _NOT_TOKEN.sub("-", result.release or "").strip("-")[:80]
        if release:
            details["version"] = release
    gov.audit.append(actor.name, action, Outcome.SUCCEEDED, None, OBJECT, reason, details)
    return result


def vocabulary_status_for(gov: GovernedService, actor: Identity) -> VocabularyStatus:
    """The vocabularies of the current snapshot (anyone may read the catalogue)."""
    gov.authorize(actor, Action.CATALOG_READ, obj="vocabulary:status")
    return vocabulary_status(Warehouse(gov.hub).current())
