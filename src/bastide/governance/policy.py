"""Policy as data: who may do what, in which project state, and why not.

``decide`` is pure (no database, no IO): it reads the ``RULES`` table and returns a
``Decision`` carrying its reason and the name of the rule that decided. The governance
service records every decision, allowed or denied, in the audit log.

A rule lists the roles that may act, the project states it applies in (``None``: the
action is not about a project) and a relation the actor must have with the project:

- ``not_requester``: the four-eyes rule, a steward never decides on their own request;
- ``member``: a researcher works only inside projects they are a member of;
- ``requester``: only the researcher who requested a project may close it;
- ``not_output_requester``: four-eyes on outputs, no one decides on the release of an
  output they asked to release.

``relation_roles`` says to which of the rule's roles the relation applies (a steward may
close any project; a researcher only their own). An actor with several roles is allowed
when any one of them is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bastide.governance.lifecycle import TRANSITIONS
from bastide.governance.terms import OPEN_STATES, Action, ProjectState, Role

R = Role
S = ProjectState


class Relation(StrEnum):
    NONE = "none"
    NOT_REQUESTER = "not_requester"
    MEMBER = "member"
    REQUESTER = "requester"
    NOT_OUTPUT_REQUESTER = "not_output_requester"


@dataclass(frozen=True)
class Rule:
    action: Action
    roles: frozenset[Role]
    states: frozenset[ProjectState] | None  # None: not about a project
    relation: Relation = Relation.NONE
    relation_roles: frozenset[Role] | None = None  # None: every role of the rule
    why: str = ""

    def relation_applies_to(self, role: Role) -> bool:
        return self.relation is not Relation.NONE and (
            self.relation_roles is None or role in self.relation_roles
        )


@dataclass(frozen=True)
class Context:
    """What the actor is to the project in question."""

    is_requester: bool = False
    is_member: bool = False
    is_output_requester: bool = False  # asked for the release being decided


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: str


ALL_ROLES = frozenset(Role)
ANY_STATE = frozenset(ProjectState)


def _states(action: Action) -> frozenset[ProjectState]:
    """A lifecycle action applies exactly in the states its transition leaves from."""
    return TRANSITIONS[action].sources


def _rule(
    action: Action,
    roles: Iterable[Role],
    states: frozenset[ProjectState] | None,
    relation: Relation = Relation.NONE,
    relation_roles: Iterable[Role] | None = None,
    why: str = "",
) -> Rule:
    return Rule(
        action,
        frozenset(roles),
        states,
        relation,
        frozenset(relation_roles) if relation_roles is not None else None,
        why,
    )


A = Action
RULES: dict[Action, Rule] = {
    r.action: r
    for r in (
        _rule(A.REQUEST_PROJECT, [R.RESEARCHER], None, why="researchers ask for access"),
        _rule(
            A.REVIEW_PROJECT,
            [R.STEWARD],
            _states(A.REVIEW_PROJECT),
            Relation.NOT_REQUESTER,
            why="four-eyes: no one reviews their own request",
        ),
        _rule(
            A.APPROVE_PROJECT,
            [R.STEWARD],
            _states(A.APPROVE_PROJECT),
            Relation.NOT_REQUESTER,
            why="four-eyes: no one approves their own request",
        ),
        _rule(
            A.REJECT_PROJECT,
            [R.STEWARD],
            _states(A.REJECT_PROJECT),
            Relation.NOT_REQUESTER,
            why="four-eyes: no one decides on their own request",
        ),
        _rule(
            A.ACTIVATE_PROJECT,
            [R.STEWARD, R.OPERATOR],
            _states(A.ACTIVATE_PROJECT),
            why="the project starts once its perimeter is in place",
        ),
        _rule(
            A.REVOKE_PROJECT,
            [R.STEWARD],
            _states(A.REVOKE_PROJECT),
            why="a steward can always withdraw an authorisation",
        ),
        _rule(
            A.CLOSE_PROJECT,
            [R.STEWARD, R.RESEARCHER],
            _states(A.CLOSE_PROJECT),
            Relation.REQUESTER,
            [R.RESEARCHER],
            why="a requester may withdraw or end their own project",
        ),
        _rule(
            A.MANAGE_MEMBERS,
            [R.STEWARD],
            OPEN_STATES,
            why="who works on a project is part of its authorisation",
        ),
        _rule(
            A.VIEW_PROJECT,
            ALL_ROLES,
            ANY_STATE,
            Relation.MEMBER,
            [R.RESEARCHER],
            why="researchers see only their own projects",
        ),
        _rule(
            A.EXTRACT_PROJECT,
            [R.OPERATOR],
            frozenset({S.APPROVED, S.ACTIVE}),
            why="only the granted perimeter of an approved project is extracted",
        ),
        _rule(
            A.QUERY_PROJECT,
            [R.RESEARCHER],
            frozenset({S.ACTIVE}),
            Relation.MEMBER,
            why="data is used only by members, within the authorisation's lifetime",
        ),
        _rule(
            A.RELEASE_OUTPUT,
            [R.RESEARCHER],
            frozenset({S.ACTIVE}),
            Relation.MEMBER,
            why="outputs leave only from a live project, asked by a member",
        ),
        _rule(
            A.REVIEW_RELEASE,
            [R.STEWARD],
            frozenset({S.ACTIVE}),
            Relation.NOT_OUTPUT_REQUESTER,
            why="four-eyes: a steward who did not ask for the release decides on it",
        ),
        _rule(A.INGEST, [R.OPERATOR], None, why="operators run the border"),
        _rule(
            A.IMPORT_VOCABULARY,
            [R.OPERATOR],
            None,
            why="operators load the reference vocabularies every study reads",
        ),
        _rule(A.MANAGE_KEYS, [R.OPERATOR], None, why="operators hold key custody"),
        _rule(A.MANAGE_USERS, [R.OPERATOR], None, why="operators administer accounts"),
        _rule(
            A.LIST_USERS,
            [R.OPERATOR, R.STEWARD, R.AUDITOR],
            None,
            why="who has access is needed to review and audit it",
        ),
        _rule(A.READ_AUDIT, [R.AUDITOR], None, why="the trail is read by auditors"),
        _rule(
            A.CHECKPOINT_AUDIT,
            [R.AUDITOR, R.OPERATOR],
            None,
            why="a checkpoint only adds evidence, whoever asks for it",
        ),
        _rule(
            A.MANAGE_WITNESSES,
            [R.AUDITOR],
            None,
            why="auditors choose who countersigns the trail, not the operators it watches",
        ),
        _rule(A.CATALOG_READ, ALL_ROLES, None, why="the catalogue holds no patient data"),
        _rule(
            A.CATALOG_WRITE,
            [R.OPERATOR, R.STEWARD],
            None,
            why="operators record loads, stewards document",
        ),
    )
}


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(str(i) for i in items)) or "none"


def _relation_holds(relation: Relation, context: Context) -> bool:
    if relation is Relation.NOT_REQUESTER:
        return not context.is_requester
    if relation is Relation.MEMBER:
        return context.is_member
    if relation is Relation.REQUESTER:
        return context.is_requester
    if relation is Relation.NOT_OUTPUT_REQUESTER:
        return not context.is_output_requester
    return True


_RELATION_DENIALS = {
    Relation.NOT_REQUESTER: "the actor requested this project and may not decide on it",
    Relation.MEMBER: "the actor is not a member of this project",
    Relation.REQUESTER: "only the project's requester may do this",
    Relation.NOT_OUTPUT_REQUESTER: "the actor asked for this release and may not decide on it",
}
_RELATION_GRANTS = {
    Relation.NOT_REQUESTER: "the actor did not request this project",
    Relation.MEMBER: "the actor is a member",
    Relation.REQUESTER: "the actor requested this project",
    Relation.NOT_OUTPUT_REQUESTER: "the actor did not ask for this release",
}


def decide(
    actor_roles: Iterable[Role | str],
    action: Action | str,
    project_state: ProjectState | str | None,
    context: Context | None = None,
) -> Decision:
    """Whether an actor holding ``actor_roles`` may do ``action``, and why (or why not).

    Checks run in a fixed order and the first failure is the reason: the role, then the
    presence of a project, then its state, then the actor's relation to it.
    """
    context = context or Context()
    try:
        rule = RULES[Action(action)]
    except ValueError:
        return Decision(False, f"unknown action {action!r}", "unknown_action")
    roles = {Role(r) for r in actor_roles if r in Role._value2member_map_}
    name = rule.action.value
    candidates = roles & rule.roles
    if not candidates:
        return Decision(
            False,
            f"{name} needs the role {_names(rule.roles)}; the actor has {_names(roles)}",
            f"{name}/role",
        )
    state: ProjectState | None = None
    if rule.states is not None:
        if project_state is None:
            return Decision(
                False, f"{name} applies to a project and none was given", f"{name}/project"
            )
        state = ProjectState(project_state)
        if state not in rule.states:
            return Decision(
                False,
                f"{name} needs a project that is {_names(rule.states)}; this one is {state}",
                f"{name}/state",
            )
    # Allowed through a role the relation does not bind, or one whose relation holds.
    free = sorted(r for r in candidates if not rule.relation_applies_to(r))
    bound_ok = _relation_holds(rule.relation, context)
    if not free and not bound_ok:
        return Decision(
            False, f"{name}: {_RELATION_DENIALS[rule.relation]}", f"{name}/{rule.relation}"
        )
    role = free[0] if free else sorted(candidates)[0]
    parts = [f"{role} may {name}"]
    if state is not None:
        parts.append(f"the project is {state}")
    if not free:
        parts.append(_RELATION_GRANTS[rule.relation])
    return Decision(True, "; ".join(parts), name)


def policy_table_markdown() -> str:
    """The rules as a Markdown table (embedded in docs/governance.md, checked by a test)."""
    lines = [
        "| action | roles | project states | relation | why |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES.values():
        states = (
            "—"
            if rule.states is None
            else ("any" if rule.states == ANY_STATE else _names(rule.states))
        )
        if rule.relation is Relation.NONE:
            relation = "—"
        elif rule.relation_roles is None:
            relation = rule.relation.value
        else:
            relation = f"{rule.relation.value} ({_names(rule.relation_roles)})"
        lines.append(
            f"| {rule.action} | {_names(rule.roles)} | {states} | {relation} | {rule.why} |"
        )
    return "\n".join(lines) + "\n"
