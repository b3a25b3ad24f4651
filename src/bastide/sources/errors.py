"""Errors of the border. Messages name files, lines and columns, never data values."""

from __future__ import annotations

from bastide.errors import BastideError


class SourceFileError(BastideError):
    """A source file that cannot be read at all (or lacks a required column).

    The message reads ``<file> line <n>: <problem>`` when the line is known, else
    ``<file>: <problem>``. It never quotes row content, which may hold identifiers.
    """

    def __init__(self, file: str, problem: str, line: int | None = None) -> None:
        self.file = file
        self.problem = problem
        self.line = line
        where = f"{file} line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")


class ExtractFilesError(SourceFileError):
    """Several files of one extract that cannot be read: every one is named, one a line."""

    def __init__(self, errors: list[SourceFileError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.file, first.problem, first.line)
        lines = "\n".join(f"  {e}" for e in self.errors)
        self.args = (f"{len(self.errors)} files cannot be read:\n{lines}",)

    def __str__(self) -> str:
        return str(self.args[0])


class SchemaError(BastideError):
    """A declared schema that is unknown or inconsistent."""


class ReconciliationError(BastideError):
    """Row counts of a file that do not add up (read != loaded + quarantined + excluded)."""
