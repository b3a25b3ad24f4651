"""The cohort language: cohort definitions as plain data (what YAML and JSON files hold),
read with errors that name the field, and written back in a canonical form.

```yaml
name: celecoxib_new_users
version: 1
concept_sets:
  celecoxib: [{vocabulary: ATC, code: M01AH01}]
entry:
  events: [{domain: drug_exposure, concept_set: celecoxib}]
  occurrence: first
observation: {prior_days: 365}
inclusion:
  - name: no celecoxib in the year before
    events: {domain: drug_exposure, concept_set: celecoxib}
    window: [-365, -1]
    count: {at_most: 0}
  - {name: adults, age: {min: 18}}
exit: {end: exposure_end, concept_set: celecoxib, gap_days: 30, extend_days: 30}
```
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import date
from functools import partial
from typing import Any, TypeVar

from bastide.cohorts.errors import CohortDefinitionError
from bastide.cohorts.model import (
    SEX_CONCEPTS,
    AgeCriterion,
    CohortDefinition,
    Concept,
    ConceptSet,
    Count,
    Criterion,
    Entry,
    EventCriterion,
    Events,
    Exit,
    ExitRule,
    ExposureEndExit,
    FixedExit,
    IndexDateCriterion,
    Observation,
    ObservationEndExit,
    SexCriterion,
    Window,
)

T = TypeVar("T")
D = TypeVar("D")

EXIT_RULES = ("fixed", "observation_end", "exposure_end")
CRITERION_KINDS = ("events", "age", "sex", "index_date")


# -- reading --------------------------------------------------------------------------------


def _type_name(value: object) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "text"}
    return names.get(type(value), repr(value))


class _Field:
    """A value being read and where it sits in the document (for error messages)."""

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def fail(self, message: str) -> CohortDefinitionError:
        return CohortDefinitionError(message, self.path or None)

    def mapping(self, allowed: tuple[str, ...], required: tuple[str, ...] = ()) -> _Mapping:
        if not isinstance(self.value, Mapping):
            raise self.fail(f"expected a mapping, not {_type_name(self.value)}")
        for key in self.value:
            if key not in allowed:
                raise CohortDefinitionError(
                    f"unknown field (expected one of {', '.join(allowed)})", self._sub(str(key))
                )
        for key in required:
            if key not in self.value:
                raise CohortDefinitionError("required", self._sub(key))
        return _Mapping(self.value, self.path)

    def items(self) -> list[_Field]:
        if not isinstance(self.value, list | tuple):
            raise self.fail(f"expected a list, not {_type_name(self.value)}")
        return [_Field(v, f"{self.path}[{i}]") for i, v in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise self.fail(f"expected text, not {_type_name(self.value)}")
        return self.value

    def integer(self) -> int:
        value = self.value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"expected an integer, not {_type_name(self.value)}")
        return value

    def number(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.fail(f"expected a number, not {_type_name(self.value)}")
        return float(self.value)

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, not {_type_name(self.value)}")
        return self.value

    def day(self) -> date:
        if isinstance(self.value, date):
            return self.value
        if isinstance(self.value, str):
            try:
                return date.fromisoformat(self.value)
            except ValueError:
                pass
        raise self.fail(f"expected a date YYYY-MM-DD, not {self.value!r}")

    def _sub(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def build(self, make: Callable[[], T]) -> T:
        """Run a model constructor, naming this field in its validation error."""
        try:
            return make()
        except CohortDefinitionError as exc:
            raise exc.within(self.path) if self.path else exc from None


class _Mapping:
    def __init__(self, value: Mapping[str, Any], path: str) -> None:
        self.value = value
        self.path = path

    def __contains__(self, key: str) -> bool:
        return key in self.value

    def __getitem__(self, key: str) -> _Field:
        return _Field(self.value[key], f"{self.path}.{key}" if self.path else key)

    def get(self, key: str, read: Callable[[_Field], T], default: D) -> T | D:
        if key not in self.value or self.value[key] is None:
            return default
        return read(self[key])


def definition_from_dict(data: Any, path: str = "") -> CohortDefinition:
    """A `CohortDefinition` from plain data; `CohortDefinitionError` names the field."""
    root = _Field(data, path)
    m = root.mapping(
        (
            "name",
            "version",
            "description",
            "concept_sets",
            "entry",
            "observation",
            "inclusion",
            "exit",
            "collapse_days",
        ),
        required=("name", "version", "entry"),
    )
    concept_sets = m.get("concept_sets", _concept_sets, ())
    return root.build(
        lambda: CohortDefinition(
            name=m["name"].text(),
            version=m["version"].integer(),
            description=m.get("description", _Field.text, ""),
            concept_sets=concept_sets,
            entry=_entry(m["entry"]),
            observation=m.get("observation", _observation, Observation()),
            inclusion=tuple(_criterion(f) for f in m.get("inclusion", _Field.items, [])),
            exit=m.get("exit", _exit, Exit()),
            collapse_days=m.get("collapse_days", _Field.integer, 0),
        )
    )


def _concept_sets(f: _Field) -> tuple[ConceptSet, ...]:
    if not isinstance(f.value, Mapping):
        raise f.fail(f"expected a mapping of names to lists of concepts, not {_type_name(f.value)}")
    sets = []
    for name in f.value:
        item = _Field(f.value[name], f"{f.path}.{name}")
        concepts = tuple(_concept(c) for c in item.items())
        sets.append(item.build(partial(ConceptSet, str(name), concepts)))
    return tuple(sets)


def _concept(f: _Field) -> Concept:
    m = f.mapping(("vocabulary", "code", "concept_id", "descendants", "exclude"))
    code = m.get("code", lambda x: x.value if isinstance(x.value, int) else x.text(), None)
    return f.build(
        lambda: Concept(
            vocabulary=m.get("vocabulary", _Field.text, None),
            code=str(code) if code is not None else None,
            concept_id=m.get("concept_id", _Field.integer, None),
            descendants=m.get("descendants", _Field.boolean, True),
            exclude=m.get("exclude", _Field.boolean, False),
        )
    )


def _events(f: _Field) -> Events:
    m = f.mapping(("domain", "concept_set", "type_concept_ids", "value"), required=("domain",))
    value_min = value_max = None
    if "value" in m and m.value["value"] is not None:
        v = m["value"].mapping(("min", "max"))
        value_min = v.get("min", _Field.number, None)
        value_max = v.get("max", _Field.number, None)
    types = m.get("type_concept_ids", _Field.items, [])
    return f.build(
        lambda: Events(
            domain=m["domain"].text(),
            concept_set=m.get("concept_set", _Field.text, None),
            type_concept_ids=tuple(t.integer() for t in types),
            value_min=value_min,
            value_max=value_max,
        )
    )


def _entry(f: _Field) -> Entry:
    m = f.mapping(("events", "occurrence"), required=("events",))
    events = tuple(_events(e) for e in m["events"].items())
    return f.build(lambda: Entry(events, m.get("occurrence", _Field.text, "first")))  # type: ignore[arg-type]


def _observation(f: _Field) -> Observation:
    m = f.mapping(("prior_days", "post_days"))
    return f.build(
        lambda: Observation(
            prior_days=m.get("prior_days", _Field.integer, 0),
            post_days=m.get("post_days", _Field.integer, 0),
        )
    )


def _bound(f: _Field, infinite: float) -> int | None:
    value = f.value
    if value is None or (isinstance(value, str) and value.strip() in ("-inf", "inf", "+inf")):
        if isinstance(value, str) and value.strip().startswith("-") != (infinite < 0):
            raise f.fail(f"{value!r} cannot bound this side of the window")
        return None
    if isinstance(value, float) and math.isinf(value):
        if (value < 0) != (infinite < 0):
            raise f.fail(f"{value!r} cannot bound this side of the window")
        return None
    return f.integer()


def _window(f: _Field) -> Window:
    if isinstance(f.value, Mapping):
        m = f.mapping(("start", "end"))
        start = _bound(m["start"], -math.inf) if "start" in m else None
        end = _bound(m["end"], math.inf) if "end" in m else None
    else:
        items = f.items()
        if len(items) != 2:
            raise f.fail("expected [start, end] in days relative to the index date")
        start, end = _bound(items[0], -math.inf), _bound(items[1], math.inf)
    return f.build(lambda: Window(start, end))


def _count(f: _Field) -> Count:
    m = f.mapping(("at_least", "at_most", "exactly"))
    if "exactly" in m:
        if "at_least" in m or "at_most" in m:
            raise f.fail("give exactly, or at_least and at_most")
        n = m["exactly"].integer()
        return f.build(lambda: Count(n, n))
    return f.build(
        lambda: Count(
            m.get("at_least", _Field.integer, None), m.get("at_most", _Field.integer, None)
        )
    )


def _sex(f: _Field) -> tuple[int, ...]:
    values = f.items() if isinstance(f.value, list | tuple) else [f]
    ids = []
    for v in values:
        if isinstance(v.value, str):
            key = v.value.strip().lower()
            if key not in SEX_CONCEPTS:
                raise v.fail(f"unknown sex {v.value!r} (expected male, female or a concept id)")
            ids.append(SEX_CONCEPTS[key])
        else:
            ids.append(v.integer())
    return tuple(ids)


def _criterion(f: _Field) -> Criterion:
    if not isinstance(f.value, Mapping):
        raise f.fail(f"expected a mapping, not {_type_name(f.value)}")
    kinds = [k for k in CRITERION_KINDS if k in f.value]
    if len(kinds) != 1:
        raise f.fail(f"needs exactly one of {', '.join(CRITERION_KINDS)}")
    kind = kinds[0]
    extra = ("window", "count", "ignore_observation_period") if kind == "events" else ()
    m = f.mapping(("name", kind, *extra), required=("name",))
    name = m["name"].text()
    if kind == "events":
        events = _events(m["events"])
        window = m.get("window", _window, Window())
        count = m.get("count", _count, Count())
        ignore = m.get("ignore_observation_period", _Field.boolean, False)
        return f.build(lambda: EventCriterion(name, events, window, count, ignore))
    if kind == "age":
        a = m["age"].mapping(("min", "max"))
        low, high = a.get("min", _Field.integer, None), a.get("max", _Field.integer, None)
        return m["age"].build(lambda: AgeCriterion(name, low, high))
    if kind == "sex":
        ids = _sex(m["sex"])
        return m["sex"].build(lambda: SexCriterion(name, ids))
    d = m["index_date"].mapping(("start", "end"))
    start, end = d.get("start", _Field.day, None), d.get("end", _Field.day, None)
    return m["index_date"].build(lambda: IndexDateCriterion(name, start, end))


def _exit(f: _Field) -> Exit:
    if not isinstance(f.value, Mapping):
        raise f.fail(f"expected a mapping, not {_type_name(f.value)}")
    end = f.value.get("end", "observation_end")
    if end not in EXIT_RULES:
        raise CohortDefinitionError(
            f"unknown exit {end!r} (expected one of {', '.join(EXIT_RULES)})",
            f"{f.path}.end" if f.path else "end",
        )
    own = {
        "fixed": ("days",),
        "observation_end": (),
        "exposure_end": ("concept_set", "gap_days", "extend_days"),
    }[end]
    m = f.mapping(("end", *own, "censor_at_death", "censor"), required=own[:1])
    rule: ExitRule
    if end == "fixed":
        days = m["days"].integer()
        rule = f.build(lambda: FixedExit(days))
    elif end == "exposure_end":
        cs = m["concept_set"].text()
        gap = m.get("gap_days", _Field.integer, 0)
        extend = m.get("extend_days", _Field.integer, 0)
        rule = f.build(lambda: ExposureEndExit(cs, gap, extend))
    else:
        rule = ObservationEndExit()
    censor = tuple(_events(e) for e in m.get("censor", _Field.items, []))
    death = m.get("censor_at_death", _Field.boolean, True)
    return f.build(lambda: Exit(rule, death, censor))


# -- writing --------------------------------------------------------------------------------


def _events_dict(e: Events) -> dict[str, Any]:
    out: dict[str, Any] = {"domain": e.domain}
    if e.concept_set is not None:
        out["concept_set"] = e.concept_set
    if e.type_concept_ids:
        out["type_concept_ids"] = list(e.type_concept_ids)
    if e.value_min is not None or e.value_max is not None:
        out["value"] = {"min": e.value_min, "max": e.value_max}
    return out


def _concept_dict(c: Concept) -> dict[str, Any]:
    out: dict[str, Any] = (
        {"concept_id": c.concept_id}
        if c.concept_id is not None
        else {"vocabulary": c.vocabulary, "code": c.code}
    )
    out["descendants"] = c.descendants
    if c.exclude:
        out["exclude"] = True
    return out


def _criterion_dict(c: Criterion) -> dict[str, Any]:
    if isinstance(c, EventCriterion):
        out: dict[str, Any] = {
            "name": c.name,
            "events": _events_dict(c.events),
            "window": [c.window.start, c.window.end],
            "count": {"at_least": c.count.at_least, "at_most": c.count.at_most},
        }
        if c.ignore_observation_period:
            out["ignore_observation_period"] = True
        return out
    if isinstance(c, AgeCriterion):
        return {"name": c.name, "age": {"min": c.min, "max": c.max}}
    if isinstance(c, SexCriterion):
        return {"name": c.name, "sex": list(c.concept_ids)}
    return {
        "name": c.name,
        "index_date": {
            "start": c.start.isoformat() if c.start else None,
            "end": c.end.isoformat() if c.end else None,
        },
    }


def _exit_dict(e: Exit) -> dict[str, Any]:
    rule = e.rule
    out: dict[str, Any]
    if isinstance(rule, FixedExit):
        out = {"end": "fixed", "days": rule.days}
    elif isinstance(rule, ExposureEndExit):
        out = {
            "end": "exposure_end",
            "concept_set": rule.concept_set,
            "gap_days": rule.gap_days,
            "extend_days": rule.extend_days,
        }
    else:
        out = {"end": "observation_end"}
    out["censor_at_death"] = e.censor_at_death
    if e.censor:
        out["censor"] = [_events_dict(c) for c in e.censor]
    return out


def definition_to_dict(d: CohortDefinition) -> dict[str, Any]:
    """The canonical plain-data form (``definition_from_dict`` reads it back unchanged)."""
    return {
        "name": d.name,
        "version": d.version,
        "description": d.description,
        "concept_sets": {cs.name: [_concept_dict(c) for c in cs.concepts] for cs in d.concept_sets},
        "entry": {
            "events": [_events_dict(e) for e in d.entry.events],
            "occurrence": d.entry.occurrence,
        },
        "observation": {
            "prior_days": d.observation.prior_days,
            "post_days": d.observation.post_days,
        },
        "inclusion": [_criterion_dict(c) for c in d.inclusion],
        "exit": _exit_dict(d.exit),
        "collapse_days": d.collapse_days,
    }


def canonical_json(d: CohortDefinition) -> str:
    return json.dumps(definition_to_dict(d), sort_keys=True, separators=(",", ":"))


def digest(d: CohortDefinition) -> str:
    return hashlib.sha256(canonical_json(d).encode("utf-8")).hexdigest()
