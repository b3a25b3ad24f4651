"""Rich progress bars for the long steps of ingestion (``bastide.ingest.progress``)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)


class RichProgress:
    """One bar per step; a step's bar completes when the next step begins."""

    def __init__(self, console: Console) -> None:
        self._bars = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]}", style="dim"),
            TimeElapsedColumn(),
            console=console,
        )
        self._task: TaskID | None = None

    def _finish_current(self) -> None:
        if self._task is not None:
            task = self._bars.tasks[self._bars.task_ids.index(self._task)]
            self._bars.update(self._task, completed=task.total or task.completed, detail="")

    def step(self, label: str, total: int | None = None) -> None:
        self._finish_current()
        self._task = self._bars.add_task(label, total=total, detail="")

    def advance(self, units: int = 1, detail: str = "") -> None:
        if self._task is not None:
            self._bars.update(self._task, advance=units, detail=detail)

    def __enter__(self) -> RichProgress:
        self._bars.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._finish_current()
        self._bars.__exit__(exc_type, exc, tb)
