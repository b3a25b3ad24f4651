"""The release rows of the policy table, with the relation the exhaustive governance
test does not vary: whether the actor asked for the release being decided."""

from __future__ import annotations

import itertools

import pytest

from bastide.governance.policy import Context, decide
from bastide.governance.terms import ProjectState, Role

CASES = list(
    itertools.product(Role, [None, *ProjectState], [False, True], [False, True], [False, True])
)


@pytest.mark.parametrize(("role", "state", "member", "project_requester", "asked"), CASES)
def test_release_rows(role, state, member, project_requester, asked) -> None:
    context = Context(is_requester=project_requester, is_member=member, is_output_requester=asked)
    request = decide([role], "release_output", state, context)
    review = decide([role], "review_release", state, context)
    # release_output: a researcher, member of an active project.
    if role is not Role.RESEARCHER:
        assert request.rule == "release_output/role"
    elif state is None:
        assert request.rule == "release_output/project"
    elif state is not ProjectState.ACTIVE:
        assert request.rule == "release_output/state"
    else:
        assert request.allowed == member
    # review_release: a steward who did not ask for it, on an active project; being the
    # project's requester or a member does not matter.
    if role is not Role.STEWARD:
        assert review.rule == "review_release/role"
    elif state is None:
        assert review.rule == "review_release/project"
    elif state is not ProjectState.ACTIVE:
        assert review.rule == "review_release/state"
    elif asked:
        assert (review.allowed, review.rule) == (False, "review_release/not_output_requester")
        assert review.reason == (
            "review_release: the actor asked for this release and may not decide on it"
        )
    else:
        assert review.allowed
        assert review.reason == (
            "steward may review_release; the project is active; "
            "the actor did not ask for this release"
        )


def test_a_researcher_steward_who_asked_may_not_decide() -> None:
    both = decide(
        ["researcher", "steward"],
        "review_release",
        "active",
        Context(is_member=True, is_output_requester=True),
    )
    assert not both.allowed and both.rule == "review_release/not_output_requester"
