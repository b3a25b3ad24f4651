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


class SchemaError(BastideError):
    """A declared schema that is unknown or inconsistent."""


class ReconciliationError(BastideError):
    """Row counts of a file that do not add up (read != loaded + quarantined + excluded)."""
