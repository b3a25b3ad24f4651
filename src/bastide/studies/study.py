"""Study files: a study names its cohorts (inline definitions or cohort files) and the
analyses to run on them. Pure: reading a file is `load_study`'s only IO.

```yaml
study: nsaid_gi_bleeding
version: 1
title: GI bleeding in new users of celecoxib versus diclofenac
concept_sets:            # shared by the inline cohorts that use them
  celecoxib: [{vocabulary: ATC, code: M01AH01}]
cohorts:
  celecoxib: {version: 1, entry: {...}, ...}      # a cohort definition without its name
  gi_bleeding: {file: cohorts/gi_bleeding.yaml}   # or a cohort file, relative to the study
analyses:
  - {name: counts, type: counts, cohorts: [celecoxib, gi_bleeding]}
  - {name: risk, type: comparative, target: celecoxib, comparator: diclofenac,
     outcome: gi_bleeding, adjust: [age, sex]}
```
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from bastide.cohorts import (
    CohortDefinition,
    CohortDefinitionError,
    ExposureEndExit,
    definition_to_dict,
)
from bastide.cohorts.loader import read_document
from bastide.cohorts.serial import definition_from_dict
from bastide.studies.comparative import ADJUSTMENTS
from bastide.studies.errors import StudyError
from bastide.studies.incidence import STRATA
from bastide.studies.stats import DEFAULT_AGE_BANDS, validate_age_bands

_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")


@dataclass(frozen=True)
class CountsSpec:
    name: str
    cohorts: tuple[str, ...]


@dataclass(frozen=True)
class CharacterisationSpec:
    name: str
    cohorts: tuple[str, ...]
    window: tuple[int, int] = (-365, -1)
    top: int = 10
    age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS


@dataclass(frozen=True)
class IncidenceSpec:
    name: str
    cohort: str
    outcome: str
    strata: tuple[str, ...] = STRATA
    age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS
    exclude_prior_outcome: bool = True


@dataclass(frozen=True)
class UtilisationSpec:
    name: str
    cohort: str
    concept_set: str | None = None
    gap_days: int | None = None
    extend_days: int | None = None


@dataclass(frozen=True)
class ComparativeSpec:
    name: str
    target: str
    comparator: str
    outcome: str
    adjust: tuple[str, ...] = ()
    first_entry_only: bool = True
    exclude_in_both: bool = True
    exclude_prior_outcome: bool = True
    km_days: tuple[int, ...] = (30, 90, 180, 365)


AnalysisSpec: TypeAlias = (
    CountsSpec | CharacterisationSpec | IncidenceSpec | UtilisationSpec | ComparativeSpec
)
ANALYSIS_TYPES: dict[str, type] = {
    "counts": CountsSpec,
    "characterisation": CharacterisationSpec,
    "incidence": IncidenceSpec,
    "drug_utilisation": UtilisationSpec,
    "comparative": ComparativeSpec,
}


def analysis_type(spec: AnalysisSpec) -> str:
    return next(k for k, v in ANALYSIS_TYPES.items() if isinstance(spec, v))


def cohorts_of(spec: AnalysisSpec) -> tuple[str, ...]:
    if isinstance(spec, CountsSpec | CharacterisationSpec):
        return spec.cohorts
    if isinstance(spec, IncidenceSpec):
        return (spec.cohort, spec.outcome)
    if isinstance(spec, UtilisationSpec):
        return (spec.cohort,)
    return (spec.target, spec.comparator, spec.outcome)


@dataclass(frozen=True)
class Study:
    name: str
    version: int
    cohorts: tuple[CohortDefinition, ...]
    analyses: tuple[AnalysisSpec, ...]
    title: str = ""
    description: str = ""
    source: str | None = field(default=None, compare=False)  # the file it was read from

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise StudyError(f"study: {self.name!r} is not a valid name (a-z, 0-9, '_', '-')")
        names = [c.name for c in self.cohorts]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise StudyError(f"cohorts.{n}: defined twice")
        seen: set[str] = set()
        for i, spec in enumerate(self.analyses):
            if spec.name in seen:
                raise StudyError(f"analyses[{i}].name: {spec.name!r} is used twice")
            seen.add(spec.name)
            for cohort in cohorts_of(spec):
                if cohort not in names:
                    raise StudyError(f"analyses[{i}]: unknown cohort {cohort!r}")
            if isinstance(spec, UtilisationSpec):
                _check_utilisation(spec, self.cohort(spec.cohort), f"analyses[{i}]")

    def cohort(self, name: str) -> CohortDefinition:
        for c in self.cohorts:
            if c.name == name:
                return c
        raise StudyError(f"unknown cohort {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.name,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "cohorts": {c.name: definition_to_dict(c) for c in self.cohorts},
            "analyses": [{"type": analysis_type(a), **_plain(asdict(a))} for a in self.analyses],
        }

    @property
    def digest(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_utilisation(spec: UtilisationSpec, cohort: CohortDefinition, path: str) -> None:
    if spec.concept_set is None:
        if not isinstance(cohort.exit.rule, ExposureEndExit):
            raise StudyError(
                f"{path}.concept_set: required (cohort {cohort.name!r} does not end with exposure)"
            )
        return
    if spec.concept_set not in {cs.name for cs in cohort.concept_sets}:
        raise StudyError(
            f"{path}.concept_set: cohort {cohort.name!r} has no concept set {spec.concept_set!r}"
        )


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- reading ----------------------------------------------------------------------------------


def _fail(path: str, message: str) -> StudyError:
    return StudyError(f"{path}: {message}")


def _mapping(
    value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, "expected a mapping")
    for key in value:
        if key not in allowed:
            raise _fail(f"{path}.{key}", f"unknown field (expected one of {', '.join(allowed)})")
    for key in required:
        if key not in value:
            raise _fail(f"{path}.{key}", "required")
    return value


def _typed(kind: type | tuple[type, ...], description: str) -> Callable[[Any, str], Any]:
    def read(value: Any, path: str) -> Any:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise _fail(path, f"expected {description}")
        if not isinstance(value, kind):
            raise _fail(path, f"expected {description}")
        return value

    return read


_text = _typed(str, "text")
_int = _typed(int, "an integer")
_bool = _typed(bool, "true or false")


def _names(value: Any, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(path, "expected a list of cohort names")
    return tuple(_text(v, f"{path}[{i}]") for i, v in enumerate(value))


def _ints(value: Any, path: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise _fail(path, "expected a list of integers")
    return tuple(_int(v, f"{path}[{i}]") for i, v in enumerate(value))


def _choices(allowed: tuple[str, ...]) -> Callable[[Any, str], tuple[str, ...]]:
    def read(value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise _fail(path, f"expected a list of {', '.join(allowed)}")
        for i, v in enumerate(value):
            if v not in allowed:
                raise _fail(f"{path}[{i}]", f"{v!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    return read


def _window(value: Any, path: str) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(path, "expected [start, end] in days relative to the index date")
    start, end = (_int(v, f"{path}[{i}]") for i, v in enumerate(value))
    if start > end:
        raise _fail(path, f"start ({start}) is after end ({end})")
    return start, end


def _bands(value: Any, path: str) -> tuple[int, ...]:
    bands = _ints(value, path)
    try:
        validate_age_bands(bands)
    except StudyError as exc:
        raise _fail(path, str(exc)) from None
    return bands


# field → reader, per analysis type (after name and type)
_FIELDS: dict[str, dict[str, Callable[[Any, str], Any]]] = {
    "counts": {"cohorts": _names},
    "characterisation": {"cohorts": _names, "window": _window, "top": _int, "age_bands": _bands},
    "incidence": {
        "cohort": _text,
        "outcome": _text,
        "strata": _choices(STRATA),
        "age_bands": _bands,
        "exclude_prior_outcome": _bool,
    },
    "drug_utilisation": {
        "cohort": _text,
        "concept_set": _text,
        "gap_days": _int,
        "extend_days": _int,
    },
    "comparative": {
        "target": _text,
        "comparator": _text,
        "outcome": _text,
        "adjust": _choices(ADJUSTMENTS),
        "first_entry_only": _bool,
        "exclude_in_both": _bool,
        "exclude_prior_outcome": _bool,
        "km_days": _ints,
    },
}
_REQUIRED = {
    "counts": ("cohorts",),
    "characterisation": ("cohorts",),
    "incidence": ("cohort", "outcome"),
    "drug_utilisation": ("cohort",),
    "comparative": ("target", "comparator", "outcome"),
}


def _analysis(value: Any, path: str) -> AnalysisSpec:
    if not isinstance(value, Mapping):
        raise _fail(path, "expected a mapping")
    kind = value.get("type")
    if kind not in ANALYSIS_TYPES:
        raise _fail(f"{path}.type", f"expected one of {', '.join(ANALYSIS_TYPES)}, not {kind!r}")
    fields = _FIELDS[kind]
    m = _mapping(value, path, ("name", "type", *fields), ("name", *_REQUIRED[kind]))
    name = _text(m["name"], f"{path}.name")
    if not _NAME.fullmatch(name):
        raise _fail(f"{path}.name", f"{name!r} is not a valid name (a-z, 0-9, '_', '-')")
    options = {k: fields[k](m[k], f"{path}.{k}") for k in fields if k in m}
    if kind == "characterisation" and options.get("top", 1) < 1:
        raise _fail(f"{path}.top", "must be at least 1")
    for key in ("gap_days", "extend_days"):
        if options.get(key, 0) < 0:
            raise _fail(f"{path}.{key}", "must be at least 0")
    spec: AnalysisSpec = ANALYSIS_TYPES[kind](name=name, **options)
    return spec


def _cohort(
    name: str, value: Any, path: str, shared: Mapping[str, Any], base: Path | None
) -> CohortDefinition:
    if isinstance(value, Mapping) and set(value) == {"file"}:
        if base is None:
            raise _fail(f"{path}.file", "cohort files need a study read from a file")
        file = (base / _text(value["file"], f"{path}.file")).resolve()
        try:
            definition = definition_from_dict(read_document(file))
        except CohortDefinitionError as exc:
            raise _fail(path, f"{file.name}: {exc}") from None
        if definition.name != name:
            raise _fail(path, f"{file.name} defines cohort {definition.name!r}, not {name!r}")
        return definition
    if not isinstance(value, Mapping):
        raise _fail(path, "expected a cohort definition or {file: path}")
    if "name" in value and value["name"] != name:
        raise _fail(f"{path}.name", f"differs from the cohort's key {name!r}")
    document = dict(value, name=name)
    own = dict(document.get("concept_sets") or {})
    used = _referenced_sets(document)
    for set_name in used:
        if set_name not in own and set_name in shared:
            own[set_name] = shared[set_name]
    if own:
        document["concept_sets"] = own
    try:
        return definition_from_dict(document, path)
    except CohortDefinitionError as exc:
        raise StudyError(str(exc)) from None


def _referenced_sets(document: Mapping[str, Any]) -> list[str]:
    """Concept set names a cohort document mentions (shared sets are merged in for them)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "concept_set" and isinstance(value, str) and value not in found:
                    found.append(value)
                elif key != "concept_sets":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


def study_from_dict(data: Any, *, base: Path | None = None, source: str | None = None) -> Study:
    m = _mapping(
        data,
        "study file",
        ("study", "version", "title", "description", "concept_sets", "cohorts", "analyses"),
        ("study", "version", "cohorts", "analyses"),
    )
    shared = m.get("concept_sets") or {}
    if not isinstance(shared, Mapping):
        raise _fail("concept_sets", "expected a mapping of names to lists of concepts")
    cohorts_doc = m["cohorts"]
    if not isinstance(cohorts_doc, Mapping) or not cohorts_doc:
        raise _fail("cohorts", "expected a mapping of cohort names to definitions")
    cohorts = tuple(
        _cohort(str(name), value, f"cohorts.{name}", shared, base)
        for name, value in cohorts_doc.items()
    )
    analyses_doc = m["analyses"]
    if not isinstance(analyses_doc, list) or not analyses_doc:
        raise _fail("analyses", "expected a list of analyses")
    version = _int(m["version"], "version")
    if version < 1:
        raise _fail("version", "must be at least 1")
    return Study(
        name=_text(m["study"], "study"),
        version=version,
        title=_text(m.get("title", ""), "title"),
        description=_text(m.get("description", ""), "description").strip(),
        cohorts=cohorts,
        analyses=tuple(_analysis(a, f"analyses[{i}]") for i, a in enumerate(analyses_doc)),
        source=source,
    )


def load_study(path: Path) -> Study:
    """A study from a YAML (or JSON) file; errors name the file and the field."""
    path = Path(path)
    try:
        data = read_document(path)
    except CohortDefinitionError as exc:
        raise StudyError(str(exc)) from None
    try:
        return study_from_dict(data, base=path.parent, source=str(path))
    except StudyError as exc:
        raise StudyError(f"{path}: {exc}") from None
