"""Cohort definitions from YAML or JSON text and files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from bastide.cohorts.errors import CohortDefinitionError
from bastide.cohorts.model import CohortDefinition
from bastide.cohorts.serial import definition_from_dict


def parse_document(text: str, *, source: str = "<text>", json_only: bool = False) -> Any:
    """YAML (a superset of JSON) or strict JSON text as plain data; dates stay dates."""
    try:
        if json_only:
            return json.loads(text)
        return yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:  # ValueError: bad dates
        kind = "JSON" if json_only else "YAML"
        detail = " ".join(str(exc).split())
        raise CohortDefinitionError(f"{source}: not valid {kind}: {detail}") from None


def read_document(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CohortDefinitionError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CohortDefinitionError(f"{path}: cannot be read ({exc})") from None
    return parse_document(text, source=str(path), json_only=Path(path).suffix == ".json")


def loads(text: str, *, json_only: bool = False) -> CohortDefinition:
    """A cohort definition from YAML (or JSON) text."""
    return definition_from_dict(parse_document(text, json_only=json_only))


def load(path: Path) -> CohortDefinition:
    """A cohort definition from a ``.yaml``/``.yml`` or ``.json`` file."""
    data = read_document(path)
    try:
        return definition_from_dict(data)
    except CohortDefinitionError as exc:
        raise CohortDefinitionError(f"{path}: {exc}") from None
