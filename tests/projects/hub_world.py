"""A hub with a small warehouse snapshot, accounts for every role and a clock the tests
move: what the project-extract and workspace tests run against.

The warehouse holds hand-made OMOP rows (so that every expected count can be worked out
by hand) and the real French vocabularies' ``concept_ancestor`` (so that a CIM-10
category selects its sub-codes exactly as in a real hub). Everything goes through the
real storage, keys, governance and audit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from bastide.cdm.concept_ids import concept_id
from bastide.cdm.spec import arrow_schema
from bastide.cdm.vocabulary import build_vocabulary
from bastide.governance import Governance, Identity, ProjectRequest, ProjectView, Scope
from bastide.hub import Hub
from bastide.storage import Warehouse

PERSONS = 40
FEMALE, MALE = 8532, 8507
E11 = concept_id("CIM10", "E11")  # type 2 diabetes (a category)
E119 = concept_id("CIM10", "E119")  # ... without complication (below E11)
E110 = concept_id("CIM10", "E110")
J45 = concept_id("CIM10", "J45")  # asthma
J450 = concept_id("CIM10", "J450")
I10 = concept_id("CIM10", "I10")  # essential hypertension
PERIOD = (date(2018, 1, 1), date(2022, 12, 31))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def warehouse_id(kind: str, i: int) -> int:
    """Ids shaped like the warehouse's (60 bits of an MD5, as stable_id makes them)."""
    return int(hashlib.md5(f"{kind}|{i}".encode()).hexdigest()[:15], 16)


def pseudonym(kind: str, i: int) -> str:
    """A border pseudonym: 32 lower-case hex characters."""
    return hashlib.sha256(f"{kind}-{i}".encode()).hexdigest()[:32]


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([f.with_nullable(True) for f in arrow_schema(name)])
    columns = {f.name: [row.get(f.name) for row in rows] for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)


def person_rows() -> list[dict[str, Any]]:
    """Person i: born in 1935 + 2i (1935..2013), female when i is even."""
    return [
        {
            "person_id": warehouse_id("person", i),
            "gender_concept_id": FEMALE if i % 2 == 0 else MALE,
            "year_of_birth": 1935 + 2 * i,
            "month_of_birth": 1 + i % 12,
            "race_concept_id": 0,
            "ethnicity_concept_id": 0,
            "person_source_value": f"{pseudonym('nir', i)}#1",
            "gender_source_value": "2" if i % 2 == 0 else "1",
        }
        for i in range(PERSONS)
    ]


def condition_of(i: int) -> tuple[int, str] | None:
    """Every third person has diabetes (E119 or E110), every fifth asthma (J450), persons
    7 and 14 hypertension (I10) only; the others have no condition."""
    if i % 3 == 0:
        return (E119, "E119") if i % 2 == 0 else (E110, "E110")
    if i % 5 == 0:
        return (J450, "J450")
    if i in (7, 14):
        return (I10, "I10")
    return None


def event_dates() -> list[date]:
    """One event a year, 2015..2024 (2018..2022 fall in PERIOD)."""
    return [date(year, 6, 15) for year in range(2015, 2025)]


def warehouse_tables() -> dict[str, pa.Table]:
    persons = person_rows()
    visits, conditions, drugs, deaths, periods = [], [], [], [], []
    for i in range(PERSONS):
        pid = warehouse_id("person", i)
        periods.append(
            {
                "observation_period_id": warehouse_id("op", i),
                "person_id": pid,
                "observation_period_start_date": date(2010, 1, 1),
                "observation_period_end_date": date(2024, 12, 31),
                "period_type_concept_id": 32810,
            }
        )
        for k, day in enumerate(event_dates()):
            visit_id = warehouse_id("visit", i * 100 + k)
            hospital = k % 2 == 0
            visits.append(
                {
                    "visit_occurrence_id": visit_id,
                    "person_id": pid,
                    "visit_concept_id": 9201 if hospital else 9202,
                    "visit_start_date": day,
                    "visit_end_date": day + timedelta(days=2),
                    "visit_type_concept_id": 32810,
                    "visit_source_value": pseudonym("stay", i * 100 + k)
                    if hospital
                    else "DCIR:1111",
                    "preceding_visit_occurrence_id": warehouse_id("visit", i * 100 + k - 1)
                    if k
                    else None,
                }
            )
            found = condition_of(i)
            if found is not None:
                conditions.append(
                    {
                        "condition_occurrence_id": warehouse_id("cond", i * 100 + k),
                        "person_id": pid,
                        "condition_concept_id": 0,
                        "condition_start_date": day,
                        "condition_type_concept_id": 32810,
                        "visit_occurrence_id": visit_id,
                        "condition_source_value": found[1],
                        "condition_source_concept_id": found[0],
                    }
                )
            drugs.append(
                {
                    "drug_exposure_id": warehouse_id("drug", i * 100 + k),
                    "person_id": pid,
                    "drug_concept_id": 0,
                    "drug_exposure_start_date": day,
                    "drug_exposure_end_date": day + timedelta(days=29),
                    "drug_type_concept_id": 32810,
                    "quantity": 30.0,
                    "visit_occurrence_id": visit_id,
                    "drug_source_value": "3400930000001",
                }
            )
        if i % 4 == 0:  # deaths: some in the period, some after it
            deaths.append(
                {
                    "person_id": pid,
                    "death_date": date(2020, 3, 1) if i % 8 == 0 else date(2024, 1, 10),
                    "death_type_concept_id": 32815,
                }
            )
    vocabulary = build_vocabulary()
    return {
        "person": _table("person", persons),
        "observation_period": _table("observation_period", periods),
        "visit_occurrence": _table("visit_occurrence", visits),
        "condition_occurrence": _table("condition_occurrence", conditions),
        "drug_exposure": _table("drug_exposure", drugs),
        "death": _table("death", deaths),
        "concept_ancestor": vocabulary["concept_ancestor"],
    }


@dataclass
class People:
    olga: Identity  # operator
    stella: Identity  # steward
    sam: Identity  # steward
    rita: Identity  # researcher
    rob: Identity  # researcher
    rex: Identity  # researcher, member of nothing
    audrey: Identity  # auditor


@dataclass
class World:
    hub: Hub
    gov: Governance
    clock: Clock
    people: People
    tables: dict[str, pa.Table]


def make_world(root: Path, tables: dict[str, pa.Table]) -> World:
    hub = Hub.init(root)
    with Warehouse(hub).begin("test load") as w:
        for name, data in tables.items():
            w.write(name, "test", data)
        w.commit()
    clock = Clock()
    gov = Governance(hub, clock=clock)
    olga = gov.add_user(None, "olga", ["operator"])
    made = {
        name: gov.add_user(olga, name, [role])
        for name, role in [
            ("stella", "steward"),
            ("sam", "steward"),
            ("rita", "researcher"),
            ("rob", "researcher"),
            ("rex", "researcher"),
            ("audrey", "auditor"),
        ]
    }
    return World(hub, gov, clock, People(olga=olga, **made), tables)


def scope(
    tables: dict[str, list[str]],
    *,
    population: dict[str, Any] | None = None,
    period: tuple[date, date] | None = PERIOD,
) -> dict[str, Any]:
    data: dict[str, Any] = {"tables": tables, "population": population or {}}
    if period is not None:
        data["period"] = {"start": period[0], "end": period[1]}
    return data


def open_project(
    world: World,
    name: str,
    requester: Identity,
    requested: dict[str, Any],
    *,
    expires: date = date(2027, 12, 31),
    activate: bool = True,
) -> ProjectView:
    """Request, review, approve (as requested) and activate a project."""
    gov, p = world.gov, world.people
    request = ProjectRequest.from_dict(
        {
            "name": name,
            "title": f"Study {name}",
            "purpose": "Describe care pathways.",
            "legal_basis": "RGPD art. 6.1.e and 9.2.j",
            "authorisation": "CNIL DR-2025-042",
            **requested,
        }
    )
    gov.request_project(requester, request)
    gov.review_project(p.stella, name)
    view = gov.approve_project(p.sam, name, expires=expires, granted=Scope.from_dict(requested))
    if activate:
        view = gov.activate_project(p.olga, name)
    return view
