"""Project extracts: only the granted perimeter (tables, columns, population, period)
leaves the warehouse, identifiers re-keyed for the project, encrypted under its key."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hub_world import (
    E11,
    FEMALE,
    I10,
    J45,
    MALE,
    PERIOD,
    World,
    open_project,
    scope,
    warehouse_id,
)

from bastide.governance import NotFound, PermissionDenied
from bastide.projects import ExtractError, extract_project, open_extract, read_manifest
from bastide.projects.extract import extract_file
from bastide.projects.layout import extract_dir, project_dir
from bastide.projects.rekey import Rekeyer
from bastide.pseudonym import Pseudonymiser
from bastide.storage import Warehouse

PERSON_COLUMNS = ["person_id", "gender_concept_id", "year_of_birth", "person_source_value"]
STUDY = {
    "person": PERSON_COLUMNS,
    "condition_occurrence": [
        "condition_occurrence_id",
        "person_id",
        "condition_start_date",
        "visit_occurrence_id",
        "condition_source_value",
    ],
    "visit_occurrence": [
        "visit_occurrence_id",
        "person_id",
        "visit_start_date",
        "visit_source_value",
        "preceding_visit_occurrence_id",
    ],
    "observation_period": [
        "person_id",
        "observation_period_start_date",
        "observation_period_end_date",
    ],
    "death": ["person_id", "death_date"],
}


# -- the expectations, worked out in Python from the warehouse rows ------------------------
def descendants(tables: dict[str, pa.Table], concepts: list[int]) -> set[int]:
    ancestor = tables["concept_ancestor"]
    mask = pc.is_in(ancestor["ancestor_concept_id"], pa.array(concepts, pa.int64()))
    return set(ancestor.filter(mask)["descendant_concept_id"].to_pylist()) | set(concepts)


def age_at(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def population(
    tables: dict[str, pa.Table],
    *,
    sex: tuple[str, ...] = (),
    age_min: int | None = None,
    age_max: int | None = None,
    conditions: list[int] | None = None,
    day: date = PERIOD[0],
) -> set[int]:
    """Warehouse person ids of the persons a population criterion selects."""
    wanted = descendants(tables, conditions) if conditions else None
    ill = {
        row["person_id"]
        for row in tables["condition_occurrence"].to_pylist()
        if wanted is not None and row["condition_source_concept_id"] in wanted
    }
    genders = {"F": FEMALE, "M": MALE}
    chosen = set()
    for row in tables["person"].to_pylist():
        age = age_at(date(row["year_of_birth"], row["month_of_birth"], 1), day)
        if sex and row["gender_concept_id"] not in {genders[s] for s in sex}:
            continue
        if age_min is not None and age < age_min:
            continue
        if age_max is not None and age > age_max:
            continue
        if wanted is not None and row["person_id"] not in ill:
            continue
        chosen.add(row["person_id"])
    return chosen


def in_period(day: date) -> bool:
    return PERIOD[0] <= day <= PERIOD[1]


def rekeyer(world: World, project: str) -> Rekeyer:
    return Rekeyer(world.hub.keyring.data_key(f"project:{project}"))


def ids(values: Any) -> set[int]:
    return set(values.to_pylist()) - {None}


def read(world: World, project: str) -> dict[str, pa.Table]:
    return {name: data.to_table() for name, data in open_extract(world.hub, project).items()}


# -- the perimeter --------------------------------------------------------------------------
def test_extract_materialises_only_the_granted_perimeter(world: World) -> None:
    people, tables = world.people, world.tables
    crit: dict[str, Any] = {"conditions": [E11], "age_min": 18, "age_max": 80}
    open_project(world, "diabetes-care", people.rita, scope(STUDY, population=crit))

    manifest = extract_project(world.gov, people.olga, "diabetes-care")
    got = read(world, "diabetes-care")
    expected = population(tables, conditions=[E11], age_min=18, age_max=80)
    keyed = rekeyer(world, "diabetes-care")

    # Tables and columns: exactly those granted, in the table's own order.
    assert sorted(got) == sorted(STUDY)
    for name, columns in STUDY.items():
        assert sorted(got[name].column_names) == sorted(columns)
        assert list(manifest.tables[name].columns) == got[name].column_names
    assert got["person"].column_names == PERSON_COLUMNS
    # Population: diabetes (E11 selects its sub-codes E110 and E119), aged 18-80 in 2018.
    assert 5 < len(expected) < 20
    assert ids(got["person"]["person_id"]) == ids(keyed.record_ids(pa.array(sorted(expected))))
    assert manifest.persons == len(expected) == got["person"].num_rows
    # Period: one event a year 2015-2024, five of them in 2018-2022.
    assert got["visit_occurrence"].num_rows == 5 * len(expected)
    assert got["condition_occurrence"].num_rows == 5 * len(expected)
    assert all(in_period(d) for d in got["visit_occurrence"]["visit_start_date"].to_pylist())
    deaths = [
        row
        for row in tables["death"].to_pylist()
        if row["person_id"] in expected and in_period(row["death_date"])
    ]
    assert got["death"].num_rows == len(deaths) and len(deaths) < len(
        [r for r in tables["death"].to_pylist() if r["person_id"] in expected]
    )
    periods = got["observation_period"]
    assert set(periods["observation_period_start_date"].to_pylist()) == {PERIOD[0]}
    assert set(periods["observation_period_end_date"].to_pylist()) == {PERIOD[1]}
    assert manifest.row_counts == {name: t.num_rows for name, t in got.items()}
    assert manifest.snapshot == Warehouse(world.hub).current().version  # type: ignore[union-attr]


def test_identifiers_are_re_keyed_and_joins_still_hold(world: World) -> None:
    people, tables = world.people, world.tables
    open_project(world, "everyone", people.rita, scope(STUDY))
    extract_project(world.gov, people.olga, "everyone")
    got = read(world, "everyone")
    keyed = rekeyer(world, "everyone")

    warehouse_values = {
        name: {v for column in t.columns for v in column.to_pylist()} for name, t in tables.items()
    }
    person, visits, conditions = got["person"], got["visit_occurrence"], got["condition_occurrence"]
    # No identifier of the warehouse is left, in any id column.
    for table in got.values():
        for name in table.column_names:
            if name.endswith("_id") and "concept" not in name:
                assert not ids(table[name]) & warehouse_values["person"]
                assert not ids(table[name]) & warehouse_values["visit_occurrence"]
    # Pseudonyms are re-keyed whole; hospital stay numbers too; codes are kept.
    sources = tables["person"]["person_source_value"]
    assert set(person["person_source_value"].to_pylist()) == set(keyed.text(sources).to_pylist())
    assert not set(person["person_source_value"].to_pylist()) & set(sources.to_pylist())
    values = visits["visit_source_value"].to_pylist()
    stays = [v for v in values if v != "DCIR:1111"]
    assert values.count("DCIR:1111") == 3 * person.num_rows  # claims of 2019, 2021, ...
    assert len(stays) == 2 * person.num_rows  # hospital stays of 2018, 2020, 2022
    assert all(len(v) == 32 for v in stays)
    assert not set(stays) & warehouse_values["visit_occurrence"]
    assert set(conditions["condition_source_value"].to_pylist()) <= {"E119", "E110", "J450", "I10"}
    # Joins inside the extract hold.
    visit_ids = ids(visits["visit_occurrence_id"])
    assert ids(conditions["person_id"]) <= ids(person["person_id"])
    assert ids(conditions["visit_occurrence_id"]) <= visit_ids
    preceding = ids(visits["preceding_visit_occurrence_id"])
    assert len(preceding & visit_ids) == 4 * person.num_rows  # 2019-2022 follow one kept
    # The same warehouse id gets the same project id in every column (one function).
    first = warehouse_id("visit", 0 * 100 + 3)  # person 0, 2018
    assert keyed.record_ids(pa.array([first])).to_pylist()[0] in visit_ids


def test_extract_files_are_encrypted_under_the_project_key(world: World) -> None:
    people = world.people
    open_project(world, "sealed", people.rita, scope({"person": PERSON_COLUMNS}))
    manifest = extract_project(world.gov, people.olga, "sealed")
    path = extract_file(world.hub, "sealed", manifest.tables["person"])
    assert path.read_bytes()[-4:] == b"PARE"  # encrypted footer
    with pytest.raises(Exception, match=r"(?i)encrypt|decrypt|footer"):
        pq.read_table(path)
    raw = path.read_bytes()
    for value in world.tables["person"]["person_source_value"].to_pylist()[:5]:
        assert value.encode() not in raw
    assert hashlib.sha256(raw).hexdigest() == manifest.tables["person"].sha256


POPULATIONS = [
    pytest.param({"sex": ["F"]}, {"sex": ("F",)}, id="sex"),
    pytest.param({"age_min": 30, "age_max": 60}, {"age_min": 30, "age_max": 60}, id="age-range"),
    pytest.param({"conditions": [J45]}, {"conditions": [J45]}, id="cim10-category-selects-codes"),
    pytest.param({"conditions": [I10]}, {"conditions": [I10]}, id="exact-code"),
    pytest.param(
        {"sex": ["M"], "conditions": [E11, J45], "age_min": 40},
        {"sex": ("M",), "conditions": [E11, J45], "age_min": 40},
        id="combined",
    ),
    pytest.param({}, {}, id="everyone"),
]


@pytest.mark.parametrize(("criteria", "expected"), POPULATIONS)
def test_population_criteria(
    world: World, criteria: dict[str, Any], expected: dict[str, Any]
) -> None:
    open_project(
        world, "cohort", world.people.rita, scope({"person": ["person_id"]}, population=criteria)
    )
    manifest = extract_project(world.gov, world.people.olga, "cohort")
    want = population(world.tables, **expected)
    got = ids(read(world, "cohort")["person"]["person_id"])
    assert got == ids(rekeyer(world, "cohort").record_ids(pa.array(sorted(want), pa.int64())))
    assert manifest.persons == len(want)


def test_without_a_period_every_event_is_kept(world: World) -> None:
    study = {
        "visit_occurrence": ["person_id", "visit_start_date"],
        "observation_period": STUDY["observation_period"],
    }
    open_project(world, "all-time", world.people.rita, scope(study, period=None))
    extract_project(world.gov, world.people.olga, "all-time")
    got = read(world, "all-time")
    assert got["visit_occurrence"].num_rows == world.tables["visit_occurrence"].num_rows
    assert got["observation_period"].num_rows == world.tables["observation_period"].num_rows
    assert set(got["observation_period"]["observation_period_start_date"].to_pylist()) == {
        date(2010, 1, 1)
    }


# -- two projects ---------------------------------------------------------------------------
def test_two_projects_extracts_cannot_be_joined(world: World) -> None:
    people, hub = world.people, world.hub
    study = {"person": PERSON_COLUMNS, "visit_occurrence": STUDY["visit_occurrence"]}
    open_project(world, "study-a", people.rita, scope(study))
    open_project(world, "study-b", people.rob, scope(study))
    extract_project(world.gov, people.olga, "study-a")
    extract_project(world.gov, people.olga, "study-b")
    a, b = read(world, "study-a"), read(world, "study-b")

    # The same persons, with the same number of visits each ...
    assert a["person"].num_rows == b["person"].num_rows == world.tables["person"].num_rows
    assert sorted(a["person"]["year_of_birth"].to_pylist()) == sorted(
        b["person"]["year_of_birth"].to_pylist()
    )
    # ... and nothing to join them on.
    for table, column in [
        ("person", "person_id"),
        ("person", "person_source_value"),
        ("visit_occurrence", "visit_occurrence_id"),
        ("visit_occurrence", "person_id"),
        ("visit_occurrence", "preceding_visit_occurrence_id"),
    ]:
        assert not ids(a[table][column]) & ids(b[table][column]), f"{table}.{column} links"
    stays_a = {
        v for v in a["visit_occurrence"]["visit_source_value"].to_pylist() if v != "DCIR:1111"
    }
    stays_b = {
        v for v in b["visit_occurrence"]["visit_source_value"].to_pylist() if v != "DCIR:1111"
    }
    assert stays_a and not stays_a & stays_b

    # The mapping is not derivable without the project's key: neither the hub's
    # pseudonymisation key, nor the other project's, nor unkeyed hashes give it.
    warehouse_ids = pa.array(sorted(ids(world.tables["person"]["person_id"])), pa.int64())
    as_text = pc.cast(warehouse_ids, pa.string())
    a_ids = ids(a["person"]["person_id"])
    attempts = {
        "hub pseudonym key": Pseudonymiser(hub.data_key("pseudonym"), "project_record").person_id(
            as_text
        ),
        "other project's key": rekeyer(world, "study-b").record_ids(warehouse_ids),
        "sha256": pa.array(
            [
                int(hashlib.sha256(str(i).encode()).hexdigest()[:16], 16) >> 1
                for i in warehouse_ids.to_pylist()
            ]
        ),
        "md5 (stable_id)": pa.array(
            [
                int(hashlib.md5(str(i).encode()).hexdigest()[:15], 16)
                for i in warehouse_ids.to_pylist()
            ]
        ),
    }
    for what, guess in attempts.items():
        assert not ids(guess) & a_ids, f"{what} recomputes the mapping"
    assert ids(rekeyer(world, "study-a").record_ids(warehouse_ids)) == a_ids  # the key does
    # The key exists only wrapped by the master key.
    wrapped = hub.keyring.store.path("project:study-a").read_bytes()
    assert hub.keyring.data_key("project:study-a") not in wrapped


def test_a_new_extract_replaces_the_old_one_with_stable_pseudonyms(world: World) -> None:
    people, hub = world.people, world.hub
    open_project(world, "follow-up", people.rita, scope({"person": ["person_id", "year_of_birth"]}))
    first = extract_project(world.gov, people.olga, "follow-up")
    before = ids(read(world, "follow-up")["person"]["person_id"])
    newcomer = world.tables["person"].slice(0, 1).to_pylist()[0] | {
        "person_id": warehouse_id("person", 99)
    }
    person = pa.concat_tables(
        [
            world.tables["person"],
            pa.Table.from_pylist([newcomer], schema=world.tables["person"].schema),
        ]
    )
    with Warehouse(hub).begin("second load") as w:
        w.write("person", "test", person)
        w.commit()
    second = extract_project(world.gov, people.olga, "follow-up")
    after = ids(read(world, "follow-up")["person"]["person_id"])
    assert second.snapshot == first.snapshot + 1
    assert before < after and len(after - before) == 1
    leftovers = [p.name for p in project_dir(hub, "follow-up").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    assert sorted(p.name for p in extract_dir(hub, "follow-up").iterdir()) == [
        "manifest.json",
        "person.parquet",
    ]


# -- who may extract, and what cannot be --------------------------------------------------
def test_only_operators_extract_and_only_approved_projects(world: World) -> None:
    people, gov = world.people, world.gov
    open_project(world, "guarded", people.rita, scope({"person": ["person_id"]}), activate=False)
    for who in (people.rita, people.stella, people.audrey):
        with pytest.raises(PermissionDenied, match="extract_project needs the role operator"):
            extract_project(gov, who, "guarded")
    extract_project(gov, people.olga, "guarded")  # approved: allowed before activation
    gov.request_project(people.rob, _request("pending", {"person": ["person_id"]}))
    with pytest.raises(
        PermissionDenied, match="needs a project that is active, approved; this one is requested"
    ):
        extract_project(gov, people.olga, "pending")
    with pytest.raises(NotFound, match="unknown project 'nowhere'"):
        extract_project(gov, people.olga, "nowhere")
    denied = [
        e for e in gov.audit.entries(20) if e.action == "extract_project" and e.outcome == "denied"
    ]
    assert len(denied) == 4


def _request(name: str, tables: dict[str, list[str]]) -> Any:
    from bastide.governance import ProjectRequest

    return ProjectRequest.from_dict(
        {
            "name": name,
            "title": "t",
            "purpose": "p",
            "legal_basis": "RGPD art. 9.2.j",
            "authorisation": "CNIL DR-1",
            "tables": tables,
        }
    )


def test_a_table_without_person_id_holding_patient_rows_is_refused(world: World) -> None:
    open_project(
        world, "notes", world.people.rita, scope({"note_nlp": ["note_id", "lexical_variant"]})
    )
    with pytest.raises(
        ExtractError, match="table note_nlp cannot be limited to the project's population"
    ):
        extract_project(world.gov, world.people.olga, "notes")
    last = world.gov.audit.entries(1)[0]
    assert (last.action, last.outcome, last.details_dict["error"]) == (
        "extract_project",
        "failed",
        "ExtractError",
    )
    intent = world.gov.audit.entries(2)[1]  # the failure closes the intent it pairs with
    assert (intent.outcome, intent.details_dict["run"]) == ("allowed", last.details_dict["run"])
    assert not extract_dir(world.hub, "notes").exists()


def test_the_audit_log_holds_table_names_and_counts_only(world: World) -> None:
    open_project(
        world,
        "audited",
        world.people.rita,
        scope({"person": PERSON_COLUMNS, "death": ["person_id", "death_date"]}),
    )
    manifest = extract_project(world.gov, world.people.olga, "audited")
    recent = world.gov.audit.entries(4)
    done, intent = recent[0], recent[1]
    allowed = next(e for e in recent if e.outcome == "allowed" and "run" not in e.details_dict)
    assert (intent.outcome, intent.details_dict) == ("allowed", {"run": done.details_dict["run"]})
    assert (allowed.action, allowed.outcome, allowed.actor) == (
        "extract_project",
        "allowed",
        "olga",
    )
    assert (done.action, done.outcome, done.project, done.object) == (
        "extract_project",
        "succeeded",
        "audited",
        "extract:audited",
    )
    assert done.details_dict == {
        "run": intent.details_dict["run"],
        "snapshot": str(manifest.snapshot),
        "tables": ["death", "person"],
        "row_counts": {
            "death": manifest.tables["death"].rows,
            "person": manifest.tables["person"].rows,
        },
    }
    assert read_manifest(world.hub, "audited").row_counts == done.details_dict["row_counts"]


# -- the same extract on either engine ---------------------------------------------------
@pytest.mark.spark
def test_spark_extracts_exactly_what_duckdb_extracts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    crit: dict[str, Any] = {"conditions": [E11], "age_min": 18, "age_max": 80}
    open_project(world, "diabetes-care", world.people.rita, scope(STUDY, population=crit))
    on_duckdb = extract_project(world.gov, world.people.olga, "diabetes-care")
    expected = read(world, "diabetes-care")

    monkeypatch.setenv("BASTIDE_ENGINE__NAME", "spark")
    monkeypatch.delitem(world.hub.__dict__, "settings", raising=False)  # read it again
    assert world.hub.settings.get("engine", "name") == "spark"
    on_spark = extract_project(world.gov, world.people.olga, "diabetes-care")
    got = read(world, "diabetes-care")

    assert on_spark.persons == on_duckdb.persons > 5
    assert on_spark.row_counts == on_duckdb.row_counts
    for name, table in expected.items():
        key = [(c, "ascending") for c in table.column_names]
        assert got[name].schema == table.schema, name
        assert got[name].sort_by(key).equals(table.sort_by(key)), name
