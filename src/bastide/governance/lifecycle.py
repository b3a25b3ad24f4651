"""The project lifecycle as data: which action moves a project from which states to which.

::

    requested ──review──► under_review ──approve──► approved ──activate──► active
        │                     │                        │                     │
        │                     └──reject──► rejected    ├──revoke──► revoked ◄┤
        │                                              ├──(expiry)► expired ◄┤
        └──────────────close (also from under_review, approved, active)──► closed

Expiry is not an action: a project that is approved or active becomes expired as soon
as the clock passes its expiry date, checked every time the project is looked at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bastide.governance.errors import IllegalTransition
from bastide.governance.terms import Action, ProjectState

S = ProjectState


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[ProjectState]
    target: ProjectState


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.REVIEW_PROJECT, frozenset({S.REQUESTED}), S.UNDER_REVIEW),
        Transition(Action.APPROVE_PROJECT, frozenset({S.UNDER_REVIEW}), S.APPROVED),
        Transition(Action.REJECT_PROJECT, frozenset({S.UNDER_REVIEW}), S.REJECTED),
        Transition(Action.ACTIVATE_PROJECT, frozenset({S.APPROVED}), S.ACTIVE),
        Transition(Action.REVOKE_PROJECT, frozenset({S.APPROVED, S.ACTIVE}), S.REVOKED),
        Transition(
            Action.CLOSE_PROJECT,
            frozenset({S.REQUESTED, S.UNDER_REVIEW, S.APPROVED, S.ACTIVE}),
            S.CLOSED,
        ),
    )
}

# States in which the expiry date is enforced (it is only set on approval).
EXPIRING_STATES = frozenset({S.APPROVED, S.ACTIVE})


def next_state(state: ProjectState, action: Action) -> ProjectState:
    """The state ``action`` leads to from ``state``; IllegalTransition if it cannot."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise IllegalTransition(f"{action} does not change a project's state")
    if state not in transition.sources:
        allowed = ", ".join(sorted(transition.sources))
        raise IllegalTransition(
            f"cannot {action.removesuffix('_project')} a project that is {state} "
            f"({action} applies to: {allowed})"
        )
    return transition.target


def is_expired(state: ProjectState, expires_at: datetime | None, now: datetime) -> bool:
    """True when an approved or active project is past its expiry date."""
    return state in EXPIRING_STATES and expires_at is not None and now >= expires_at
