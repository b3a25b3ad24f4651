"""Optional parts of bastide, installed as extras (docs/dependencies.md).

The base install runs the whole pipeline on DuckDB, with a key file and a SQLite metadata
store. Heavier parts that not every hub needs are extras, imported only on the code path
that uses them:

- ``spark``: the Spark engine (pyspark; Spark also needs a Java runtime and a JDK);
- ``hsm``: a PKCS#11 HSM as key provider (python-pkcs11);
- ``postgres``: a PostgreSQL metadata store (psycopg 3).

Asking for one of them without its package is a one-line ``MissingExtra`` saying how to
install it, never a traceback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from bastide.errors import BastideError


class MissingExtra(BastideError, ImportError):
    """A feature was asked for whose optional package is not installed."""


@dataclass(frozen=True)
class Extra:
    name: str  # the extra, as in ``bastide[name]``
    module: str  # the top-level module it provides
    package: str  # the distribution that provides it
    feature: str  # what needs it, for the message


SPARK = Extra("spark", "pyspark", "pyspark", "the Spark engine")
HSM = Extra("hsm", "pkcs11", "python-pkcs11", "a PKCS#11 key provider (HSM)")
POSTGRES = Extra("postgres", "psycopg", "psycopg", "a PostgreSQL metadata store")
EXTRAS = {extra.name: extra for extra in (SPARK, HSM, POSTGRES)}


def install_hint(extra: Extra) -> str:
    return (
        f"pip install 'bastide[{extra.name}]' (in a checkout of bastide: "
        f"uv sync --extra {extra.name})"
    )


def not_installed(extra: Extra) -> MissingExtra:
    """The error for ``extra``'s package being absent (for callers that only look)."""
    return MissingExtra(
        f"{extra.feature} needs {extra.package}, which is not installed: {install_hint(extra)}"
    )


def require(extra: Extra, module: str | None = None) -> ModuleType:
    """Import ``module`` (default: the extra's top-level module) or raise ``MissingExtra``.

    A package that is installed but fails to import (a broken install, one of its own
    dependencies missing) is reported as such, also in one line.
    """
    try:
        importlib.import_module(extra.module)  # first: tells "absent" from "broken"
        return importlib.import_module(module or extra.module)
    except ImportError as exc:
        if exc.name == extra.module:
            raise not_installed(extra) from None
        cause = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MissingExtra(
            f"{extra.feature} needs {extra.package}, which is installed but cannot be "
            f"imported ({cause}): reinstall it with {install_hint(extra)}"
        ) from None
