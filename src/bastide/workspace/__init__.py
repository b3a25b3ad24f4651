"""The workspace: researchers' SQL over their project's extract, in a sandbox that can
read nothing else (docs/workspace.md).

```python
from bastide.workspace import Workspace

with Workspace(hub, "asthma-care", "rita") as ws:
    ws.tables()                                  # {"person": [...], ...}
    table = ws.query("SELECT count(*) FROM person")
    ws.save("adults", "SELECT person_id FROM person WHERE year_of_birth < 2000")
```
"""

from bastide.workspace.errors import (
    QueryFailed,
    QueryRefused,
    QueryStopped,
    QueryTimeout,
    QueryTooLarge,
    WorkspaceError,
)
from bastide.workspace.guard import check_query
from bastide.workspace.limits import Limits
from bastide.workspace.outputs import OutputInfo
from bastide.workspace.sandbox import Sandbox
from bastide.workspace.workspace import Workspace

__all__ = [
    "Limits",
    "OutputInfo",
    "QueryFailed",
    "QueryRefused",
    "QueryStopped",
    "QueryTimeout",
    "QueryTooLarge",
    "Sandbox",
    "Workspace",
    "WorkspaceError",
    "check_query",
]
