"""Named steps of an ingest (and of a project extract), announced as they are reached.

The fault tests stop the metadata database, or kill the process, at each of them:

- in process, with a callback passed as ``on_step`` (it runs when the step is reached);
- in a child process, with ``BASTIDE_STORAGE_FAULT=<step>`` (see ``storage.fsutil``): the
  process prints ``bastide-storage-fault: paused at <step>`` on stderr and waits there
  until it is killed.

Outside tests neither is set and a step costs one dict lookup.
"""

from __future__ import annotations

from collections.abc import Callable

from bastide.storage.fsutil import fault

StepHook = Callable[[str], None]

INGEST_STEPS = (
    "ingest:start",  # nothing done yet; the next step reconciles earlier interruptions
    "ingest:staged",  # the border has staged every file, nothing is in the warehouse
    "ingest:intent",  # the new snapshot is written, not published; intent not audited
    "ingest:publish",  # the intent is audited; the snapshot is about to be published
    "ingest:published",  # the snapshot is current; neither catalogued nor audited
    "ingest:catalogued",  # the catalogue has the snapshot; the outcome is not audited
)
BORDER_LANE_STEP = "border:lane"  # in a border worker process, before it reads its files
EXTRACT_STEPS = (
    "extract:start",  # nothing done yet
    "extract:intent",  # the decision is made; the intent is not audited
    "extract:written",  # the extract is in place; its outcome is not audited
)


def announce(step: str, hook: StepHook | None = None) -> None:
    fault(step)
    if hook is not None:
        hook(step)
