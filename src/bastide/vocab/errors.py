"""Errors of a vocabulary import: each names the file, the line and the problem."""

from __future__ import annotations

from bastide.errors import BastideError


class VocabularyError(BastideError):
    """A delivery that cannot be imported; nothing of it is published."""


def at_line(file: str, line: int | None, problem: str) -> VocabularyError:
    where = f"{file} line {line}" if line is not None else file
    return VocabularyError(f"{where}: {problem}")
