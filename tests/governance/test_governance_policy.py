"""The policy as a table: every (role, action, project state, is_requester, is_member)
combination against the expected decision and reason.

``SPEC`` is the policy written out by hand, independently of ``bastide.governance.policy``;
the exhaustive test expands it and compares every decision. A few literal rows pin the
exact wording of reasons.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bastide.governance.policy import RULES, Context, decide, policy_table_markdown
from bastide.governance.terms import Action, ProjectState, Role

OPEN = "requested,under_review,approved,active"
# action | roles (* all) | states (- no project, * any) | relation[:the role it binds]
SPEC = f"""
request_project  | researcher               | -                | -
review_project   | steward                  | requested        | not_requester
approve_project  | steward                  | under_review     | not_requester
reject_project   | steward                  | under_review     | not_requester
activate_project | steward,operator         | approved         | -
revoke_project   | steward                  | approved,active  | -
close_project    | steward,researcher       | {OPEN}           | requester:researcher
manage_members   | steward                  | {OPEN}           | -
view_project     | *                        | *                | member:researcher
extract_project  | operator                 | approved,active  | -
query_project    | researcher               | active           | member
release_output   | researcher               | active           | member
review_release   | steward                  | active           | not_output_requester
ingest           | operator                 | -                | -
import_vocabulary | operator                | -                | -
manage_keys      | operator                 | -                | -
manage_users     | operator                 | -                | -
list_users       | operator,steward,auditor | -                | -
read_audit       | auditor                  | -                | -
checkpoint_audit | auditor,operator         | -                | -
manage_witnesses | auditor                  | -                | -
catalog_read     | *                        | -                | -
catalog_write    | operator,steward         | -                | -
"""


def _spec() -> dict[str, tuple[set[str], str, str, str | None]]:
    table = {}
    for line in SPEC.strip().splitlines():
        action, roles, states, relation = (cell.strip() for cell in line.split("|"))
        role_set = {r.value for r in Role} if roles == "*" else set(roles.split(","))
        name, _, bound = relation.partition(":")
        table[action] = (role_set, states, name, bound or None)
    return table


EXPECTED = _spec()
STATES: list[ProjectState | None] = [None, *ProjectState]


def expected(role: str, action: str, state: ProjectState | None, req: bool, mem: bool):
    """(allowed, rule) from the hand-written table."""
    roles, states, relation, bound = EXPECTED[action]
    if role not in roles:
        return False, f"{action}/role"
    if states != "-":
        if state is None:
            return False, f"{action}/project"
        if states != "*" and state.value not in states.split(","):
            return False, f"{action}/state"
    if relation == "-" or (bound is not None and role != bound):
        return True, action
    # The exhaustive cases never ask for an output (is_output_requester is False);
    # tests/release/test_release_policy.py covers that relation.
    holds = {
        "not_requester": not req,
        "member": mem,
        "requester": req,
        "not_output_requester": True,
    }[relation]
    return (True, action) if holds else (False, f"{action}/{relation}")


def test_spec_covers_every_action() -> None:
    assert set(EXPECTED) == {a.value for a in Action} == {a.value for a in RULES}


CASES = list(itertools.product(Role, Action, STATES, [False, True], [False, True]))


@pytest.mark.parametrize(
    ("role", "action", "state", "is_requester", "is_member"),
    CASES,
    ids=[f"{r}-{a}-{s}-{'req' if q else '-'}-{'mem' if m else '-'}" for r, a, s, q, m in CASES],
)
def test_policy_table(
    role: Role, action: Action, state: ProjectState | None, is_requester: bool, is_member: bool
) -> None:
    decision = decide([role], action, state, Context(is_requester, is_member))
    allowed, rule = expected(role.value, action.value, state, is_requester, is_member)
    assert (decision.allowed, decision.rule) == (allowed, rule), decision.reason
    assert decision.reason
    if allowed:
        assert decision.reason.startswith(f"{role} may {action}")
    elif rule.endswith("/role"):
        assert f"{action} needs the role" in decision.reason
        assert f"the actor has {role}" in decision.reason
    elif rule.endswith("/state"):
        assert decision.reason.endswith(f"this one is {state}")
    elif rule.endswith("/project"):
        assert "applies to a project" in decision.reason


@pytest.mark.parametrize(
    ("roles", "action", "state", "context", "allowed", "reason"),
    [
        (
            ["steward"],
            "approve_project",
            "under_review",
            Context(is_requester=True),
            False,
            "approve_project: the actor requested this project and may not decide on it",
        ),
        (
            ["steward"],
            "approve_project",
            "under_review",
            Context(),
            True,
            "steward may approve_project; the project is under_review; "
            "the actor did not request this project",
        ),
        (
            ["researcher"],
            "query_project",
            "expired",
            Context(is_member=True),
            False,
            "query_project needs a project that is active; this one is expired",
        ),
        (
            ["researcher"],
            "query_project",
            "active",
            Context(),
            False,
            "query_project: the actor is not a member of this project",
        ),
        (
            ["researcher"],
            "approve_project",
            "under_review",
            Context(),
            False,
            "approve_project needs the role steward; the actor has researcher",
        ),
        (
            ["researcher"],
            "close_project",
            "active",
            Context(is_member=True),
            False,
            "close_project: only the project's requester may do this",
        ),
        (
            [],
            "catalog_read",
            None,
            Context(),
            False,
            "catalog_read needs the role auditor, operator, researcher, steward; "
            "the actor has none",
        ),
        (["operator"], "no_such_action", None, Context(), False, "unknown action 'no_such_action'"),
    ],
)
def test_reasons_read_well(roles, action, state, context, allowed, reason) -> None:
    decision = decide(roles, action, state, context)
    assert (decision.allowed, decision.reason) == (allowed, reason)


def test_several_roles_allow_through_any_of_them() -> None:
    # A researcher who is also an auditor views any project as an auditor.
    both = decide(["researcher", "auditor"], "view_project", "active", Context())
    assert both.allowed and both.reason.startswith("auditor may view_project")
    # A steward who also requested the project still may not approve it.
    dual = decide(
        ["researcher", "steward"],
        "approve_project",
        "under_review",
        Context(is_requester=True, is_member=True),
    )
    assert not dual.allowed and dual.rule == "approve_project/not_requester"


def test_docs_show_the_policy_table() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "governance.md"
    assert policy_table_markdown() in docs.read_text(encoding="utf-8"), (
        "docs/governance.md must embed policy_table_markdown() verbatim"
    )
