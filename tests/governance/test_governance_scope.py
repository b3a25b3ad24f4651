"""Requests and scopes are validated data; a granted scope may only narrow a request."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastide.governance import InvalidRequest, ProjectRequest, Scope
from bastide.governance.errors import IllegalTransition
from bastide.governance.lifecycle import TRANSITIONS, is_expired, next_state
from bastide.governance.terms import Action, ProjectState

REQUEST = {
    "name": "diabetes-outcomes",
    "title": "Outcomes of type 2 diabetes",
    "purpose": "Describe complications after diagnosis.",
    "legal_basis": "RGPD art. 6.1.e and 9.2.j",
    "authorisation": "CNIL DR-2024-123",
    "tables": {"person": ["person_id", "year_of_birth"], "condition_occurrence": ["person_id"]},
    "population": {"age_min": 40, "age_max": 80, "sex": ["F", "M"], "conditions": [201826]},
    "period": {"start": "2015-01-01", "end": "2022-12-31"},
}


def test_request_round_trip() -> None:
    request = ProjectRequest.from_dict(REQUEST)
    assert request.scope.period_start == date(2015, 1, 1)
    assert request.scope.table_columns["person"] == ("person_id", "year_of_birth")
    assert Scope.from_dict(request.scope.to_dict()) == request.scope


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "name: 'Bad Name'"),
        ({"title": ""}, "title: required"),
        ({"authorisation": None}, "authorisation: required"),
        ({"tables": {}}, "tables: a scope names at least one table"),
        ({"tables": {"person": []}}, "tables.person: list the columns"),
        ({"tables": {"person": ["x; drop table"]}}, "is not a column name"),
        ({"population": {"age_min": 70, "age_max": 20}}, "age_min 70 is above age_max 20"),
        ({"population": {"age_min": -1}}, "population.age_min: expected a whole age"),
        ({"population": {"sex": ["X"]}}, "population.sex: expected F or M"),
        ({"population": {"conditions": ["E11"]}}, "positive OMOP concept ids"),
        ({"population": {"nir": "1840275123456"}}, "population: unknown field(s) nir"),
        ({"period": {"start": "2020-01-01", "end": "2019-01-01"}}, "is after end"),
        ({"period": {"start": "yesterday"}}, "period.start: expected a date"),
        ({"extra": 1}, "request: unknown field(s) extra"),
    ],
)
def test_invalid_requests_say_what_is_wrong(change: dict, message: str) -> None:
    with pytest.raises(InvalidRequest, match=None) as caught:
        ProjectRequest.from_dict({**REQUEST, **change})
    assert message in str(caught.value)


def test_narrowing() -> None:
    requested = ProjectRequest.from_dict(REQUEST).scope
    narrower = Scope.from_dict(
        {
            "tables": {"person": ["person_id"]},
            "population": {"age_min": 50, "age_max": 70, "sex": ["F"], "conditions": [201826]},
            "period": {"start": "2016-01-01", "end": "2020-12-31"},
        }
    )
    assert narrower.narrowing_problems(requested) == []
    assert requested.narrowing_problems(requested) == []
    wider = Scope.from_dict(
        {
            "tables": {"person": ["person_id", "gender_concept_id"], "death": ["person_id"]},
            "population": {"age_min": 18},
            "period": {"start": "2010-01-01"},
        }
    )
    assert wider.narrowing_problems(requested) == [
        "table death was not requested",
        "columns person.{gender_concept_id} were not requested",
        "age_min must be at least 40",
        "age_max must be at most 80",
        "sex must be within ['F', 'M']",
        "conditions must be a non-empty subset of the requested ones",
        "period must not start before 2015-01-01",
        "period must not end after 2022-12-31",
    ]


ages = st.one_of(st.none(), st.integers(0, 130))


@given(a=ages, b=ages, c=ages, d=ages)
def test_age_narrowing_is_interval_inclusion(a, b, c, d) -> None:
    def scope(lo, hi):
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        return Scope.from_dict(
            {"tables": {"person": ["person_id"]}, "population": {"age_min": lo, "age_max": hi}}
        )

    requested, granted = scope(a, b), scope(c, d)
    rq, gr = requested.population, granted.population
    inside = (rq.age_min is None or (gr.age_min is not None and gr.age_min >= rq.age_min)) and (
        rq.age_max is None or (gr.age_max is not None and gr.age_max <= rq.age_max)
    )
    assert (granted.narrowing_problems(requested) == []) == inside


@pytest.mark.parametrize("state", list(ProjectState))
@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_lifecycle_table(state: ProjectState, action: Action) -> None:
    transition = TRANSITIONS[action]
    if state in transition.sources:
        assert next_state(state, action) is transition.target
    else:
        with pytest.raises(IllegalTransition, match=f"a project that is {state}"):
            next_state(state, action)


def test_terminal_states_lead_nowhere() -> None:
    for state in ("rejected", "expired", "revoked", "closed"):
        assert not any(ProjectState(state) in t.sources for t in TRANSITIONS.values())


def test_expiry_applies_to_approved_and_active_only() -> None:
    past = datetime(2024, 1, 1, tzinfo=UTC)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert {s for s in ProjectState if is_expired(s, past, now)} == {"approved", "active"}
    assert not is_expired(ProjectState.ACTIVE, now, past)
    assert not is_expired(ProjectState.ACTIVE, None, now)
