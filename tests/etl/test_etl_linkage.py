"""Spec: hospital patients linked to national persons, and hospital rows under warehouse ids.

The rules of bastide.linkage.link (identifier, then shared stays, else new) and of
bastide.etl.hospital (local ids remapped per source; linked patients take their national
person id; unmapped CIM-10 source codes mapped). The national side is what the SNDS ETL
makes of a tiny extract; SNDS_TO_OMOP.md §2.3 and §5.2 (one pseudonym function for
BEN_NIR_PSA, NIR_ANO_17 and the hospitals' chaining identifier).
"""

# ruff: noqa: E501  (the tables of a case are as wide as their columns)
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pyarrow as pa
import pytest
from snds_spec import ENGINE, Omop, concept, parse_rows, run_snds, vocabulary_code_map

from bastide.cdm.spec import table_spec
from bastide.engines import Engine, open_engine
from bastide.etl import hospital
from bastide.ingest.staging import staged_schema
from bastide.ingest.tables import conform, omop_storage_schema
from bastide.linkage.link import link_persons
from bastide.sources.omop_schema import omop_source_schema

FINESS = "010000001"
ELSEWHERE = "020000002"

# National persons and their stays. ano-3 and ano-4 are alike and were in hospital on
# the same days; ano-6's stay was in another establishment.
NATIONAL = {
    "IR_BEN_R": """
        BEN_NIR_PSA | BEN_RNG_GEM | BEN_NIR_ANO | BEN_SEX_COD | BEN_NAI_ANN | BEN_NAI_MOI
        psa-1       | 1           | ano-1       | 1           | 1950        | 3
        psa-2       | 1           | ano-2       | 2           | 1960        | 5
        psa-3       | 1           | ano-3       | 1           | 1970        | 1
        psa-4       | 1           | ano-4       | 1           | 1970        | 1
        psa-5       | 1           | ano-5       | 2           | 1980        | 7
        psa-6       | 1           | ano-6       | 1           | 1990        | 9
        psa-7       | 1           | ano-7       | 2           | 1965        | 2
        psa-8       | 1           | ano-8       | 1           | 1945        | 10
    """,
    "T_MCOaaB": f"""
        PMSI_YEAR | ETA_NUM     | RSA_NUM | DGN_PAL
        2020      | {FINESS}    | 1       | I10
        2020      | {FINESS}    | 2       | I10
        2020      | {FINESS}    | 3       | I10
        2020      | {FINESS}    | 4       | I10
        2020      | {FINESS}    | 5       | I10
        2020      | {ELSEWHERE} | 6       | I10
        2020      | {FINESS}    | 7       | I10
        2020      | {FINESS}    | 8       | I10
    """,
    "T_MCOaaC": f"""
        PMSI_YEAR | ETA_NUM     | RSA_NUM | NIR_ANO_17 | EXE_SOI_DTD | EXE_SOI_DTF
        2020      | {FINESS}    | 1       | psa-1      | 2020-02-03  | 2020-02-07
        2020      | {FINESS}    | 2       | psa-2      | 2020-03-10  | 2020-03-12
        2020      | {FINESS}    | 3       | psa-3      | 2020-04-01  | 2020-04-03
        2020      | {FINESS}    | 4       | psa-4      | 2020-04-01  | 2020-04-03
        2020      | {FINESS}    | 5       | psa-5      | 2020-05-04  | 2020-05-06
        2020      | {ELSEWHERE} | 6       | psa-6      | 2020-06-01  | 2020-06-02
        2020      | {FINESS}    | 7       | psa-7      | 2020-07-01  | 2020-07-03
        2020      | {FINESS}    | 8       | psa-8      | 2020-08-10  | 2020-08-12
    """,
}


@pytest.fixture(scope="module")
def national() -> Omop:
    return run_snds(**NATIONAL)


def hospital_table(table: str, text: str) -> pa.Table:
    """A staged hospital OMOP table (identifiers as pseudonym text), other columns null."""
    schema = staged_schema(omop_source_schema(table))
    rows = parse_rows(text, {f.name: f.type for f in schema}, table)
    return pa.Table.from_pylist(rows, schema=schema)


class Hospital:
    """One hospital source linked and loaded on an engine of its own, as an ingest does."""

    def __init__(
        self, national: Omop, source: str, finess: str | None, tables: Mapping[str, str]
    ) -> None:
        self.national = national
        self.source = source
        self.engine: Engine = open_engine(ENGINE["name"], threads=1)
        self.staged = {name: hospital_table(name, text) for name, text in tables.items()}
        for name in ("person", "visit_occurrence"):
            self.staged.setdefault(name, staged_schema(omop_source_schema(name)).empty_table())
        for name, data in self.staged.items():
            self.engine.register(f"src_{name}", data)
        self.engine.register("national_link", national.link)
        self.engine.register(
            "national_person",
            national.tables["person"].select(
                ["person_id", "gender_concept_id", "year_of_birth", "month_of_birth"]
            ),
        )
        self.engine.register(
            "national_visit",
            national.tables["visit_occurrence"].select(
                ["person_id", "visit_start_date", "visit_end_date", "visit_source_value"]
            ),
        )
        self.engine.register("code_map", vocabulary_code_map())
        self.person_map = link_persons(self.engine, source, finess)

    def links(self) -> list[tuple[Any, ...]]:
        """(local patient, method, national person or None when new)."""
        labels = self.national.person_labels()
        return sorted(
            (r["local_person_id"], r["method"], labels.get(r["person_id"]))
            for r in self.person_map.to_pylist()
        )

    def person_id(self, local: str) -> int:
        [found] = [
            r["person_id"] for r in self.person_map.to_pylist() if r["local_person_id"] == local
        ]
        return int(found)

    def load(self, table: str) -> pa.Table:
        """``src_<table>`` as the warehouse stores it."""
        columns = [f.name for f in table_spec(table).fields]
        query = hospital.table_query(self.source, table, columns)
        return conform(self.engine.query(query), omop_storage_schema(table))

    def close(self) -> None:
        self.engine.close()


OpenHospital = Callable[..., Hospital]


@pytest.fixture
def open_hospital(national: Omop) -> Iterator[OpenHospital]:
    opened: list[Hospital] = []

    def make(source: str, finess: str | None, **tables: str) -> Hospital:
        opened.append(Hospital(national, source, finess, tables))
        return opened[-1]

    yield make
    for h in opened:
        h.close()


def expected_links(text: str) -> list[tuple[Any, ...]]:
    types = dict.fromkeys(("local_person_id", "method", "national_person"), pa.string())
    return sorted(tuple(r.values()) for r in parse_rows(text, types, "person_map"))


PATIENTS = """
person_id | person_source_value | gender_concept_id | year_of_birth | month_of_birth
h1        | psa-1               | 8507              | 1950          | 3
h2        |                     | 8532              | 1960          | 5
h3        |                     | 8507              | 1970          | 1
h4        | psa-5               | 8532              | 1980          | 7
h5        |                     | 8532              | 1980          | 7
h6        |                     | 8507              | 1990          | 9
h7        | psa-unknown         | 8532              | 2001          | 1
h8        |                     | 8532              | 1965          | 3
"""
VISITS = """
visit_occurrence_id | person_id | visit_concept_id | visit_start_date | visit_end_date
1                   | h1        | 9201             | 2020-02-03       | 2020-02-07
2                   | h2        | 9201             | 2020-03-10       | 2020-03-12
3                   | h3        | 9201             | 2020-04-01       | 2020-04-03
4                   | h4        | 9201             | 2020-05-04       | 2020-05-06
5                   | h5        | 9201             | 2020-05-04       | 2020-05-06
6                   | h6        | 9201             | 2020-06-01       | 2020-06-02
7                   | h8        | 9201             | 2020-07-01       | 2020-07-03
"""


def test_patients_link_by_identifier_then_by_stays(open_hospital: OpenHospital) -> None:
    """h1 and h4 carry a chaining identifier a national person has: linked by
    identifier. h2 has none, but one national person of the same sex and birth year and
    month was in this establishment on the same days: linked by stays. Not linked (new):
    h3, whom two national persons fit equally well; h5, whose only fit (ano-5) is h4
    already; h6, whose fit was in hospital elsewhere; h7, whose identifier is nobody's
    and who has no stay; h8, born a month later than ano-7."""
    h = open_hospital("hospital-A", FINESS, person=PATIENTS, visit_occurrence=VISITS)
    assert h.links() == expected_links(
        """
        local_person_id | method     | national_person
        h1              | identifier | ano-1
        h2              | stays      | ano-2
        h3              | new        |
        h4              | identifier | ano-5
        h5              | new        |
        h6              | new        |
        h7              | new        |
        h8              | new        |
        """
    )


def test_a_national_person_two_patients_fit_is_given_to_neither(
    open_hospital: OpenHospital,
) -> None:
    """A national person is linked to one patient of a hospital at most: when two
    patients without identifier fit ano-8 by their stays, neither is linked."""
    h = open_hospital(
        "hospital-A",
        FINESS,
        person="""
        person_id | gender_concept_id | year_of_birth | month_of_birth
        h9        | 8507              | 1945          | 10
        h10       | 8507              | 1945          | 10
        """,
        visit_occurrence="""
        visit_occurrence_id | person_id | visit_start_date | visit_end_date
        9                   | h9        | 2020-08-10       | 2020-08-12
        10                  | h10       | 2020-08-10       | 2020-08-12
        """,
    )
    assert h.links() == expected_links(
        """
        local_person_id | method | national_person
        h10             | new    |
        h9              | new    |
        """
    )


def test_new_patients_get_stable_ids_of_their_own(
    open_hospital: OpenHospital, national: Omop
) -> None:
    """A patient new to the hub gets an id that is no national person's, the same at
    every run, and different from the patient of another hospital with the same local
    id."""
    first = open_hospital("hospital-A", FINESS, person=PATIENTS, visit_occurrence=VISITS)
    again = open_hospital("hospital-A", FINESS, person=PATIENTS, visit_occurrence=VISITS)
    other = open_hospital("hospital-B", None, person=PATIENTS, visit_occurrence=VISITS)
    new = [local for local, method, _ in first.links() if method == "new"]
    ids = [first.person_id(local) for local in new]
    assert len(set(ids)) == len(new)
    assert not set(ids) & set(national.person_labels())
    assert ids == [again.person_id(local) for local in new]
    assert not set(ids) & {other.person_id(local) for local in new}


def test_hospital_rows_take_warehouse_ids(open_hospital: OpenHospital, national: Omop) -> None:
    """etl.hospital: local ids become warehouse ids per source, so two hospitals' visit
    1 are two visits; a linked patient's rows take the national person id and their
    person row is not written again; a CIM-10 code the hospital left unmapped
    ('K92.2') gets its CIM-10 source concept."""
    person = """
    person_id | person_source_value | gender_concept_id | year_of_birth | month_of_birth
    h1        | psa-1               | 8507              | 1950          | 3
    h3        |                     | 8507              | 1970          | 1
    """
    visits = """
    visit_occurrence_id | person_id | visit_concept_id | visit_start_date | visit_end_date
    1                   | h1        | 9201             | 2020-02-03       | 2020-02-07
    2                   | h3        | 9201             | 2020-04-01       | 2020-04-03
    """
    conditions = """
    condition_occurrence_id | person_id | condition_concept_id | condition_start_date | visit_occurrence_id | condition_source_value | condition_source_concept_id
    1                       | h1        | 0                    | 2020-02-03           | 1                   | K92.2                  | 0
    """
    a = open_hospital(
        "hospital-A",
        FINESS,
        person=person,
        visit_occurrence=visits,
        condition_occurrence=conditions,
    )
    b = open_hospital("hospital-B", ELSEWHERE, person=person, visit_occurrence=visits)
    ano_1 = {label: pid for pid, label in national.person_labels().items()}["ano-1"]

    persons_a = a.load("person")
    assert persons_a["person_id"].to_pylist() == [a.person_id("h3")]

    visits_a = a.load("visit_occurrence").sort_by("visit_start_date")
    visits_b = b.load("visit_occurrence")
    assert visits_a["person_id"].to_pylist() == [ano_1, a.person_id("h3")]
    ids_a = visits_a["visit_occurrence_id"].to_pylist()
    assert None not in ids_a and len(set(ids_a)) == 2
    ids_b = set(visits_b["visit_occurrence_id"].to_pylist())
    assert not set(ids_a) & ids_b, "visit 1 of hospital A is not visit 1 of hospital B"

    [condition] = a.load("condition_occurrence").to_pylist()
    assert condition["person_id"] == ano_1
    assert condition["visit_occurrence_id"] == ids_a[0], "h1's visit of 2020-02-03"
    assert condition["condition_source_value"] == "K92.2"
    assert condition["condition_source_concept_id"] == concept("CIM10", "K922")
    assert condition["condition_concept_id"] == 0
