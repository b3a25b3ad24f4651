"""When a project ends (expired, revoked, closed), its extract key is destroyed.

``install`` is called on every governance service (``SERVICE_HOOKS`` in
``bastide.governance.governed``), so whichever process moves a project to a final state
(a steward's ``bastide project revoke``, the first look at a project past its expiry, a
scheduler's ``expire_due``) also crypto-shreds the project's data key through the
encryption layer. Every file under ``projects/<name>/`` (the extract and the saved
outputs) is encrypted under that key, so all of it becomes unreadable at once.

This module stays light: it is imported whenever a governance service opens.
"""

from __future__ import annotations

import contextlib
import shutil
from typing import TYPE_CHECKING

from bastide.audit import Outcome
from bastide.errors import BastideError
from bastide.governance.governed import SYSTEM
from bastide.governance.terms import TERMINAL_STATES, ProjectState
from bastide.projects.layout import key_scope

if TYPE_CHECKING:
    from bastide.governance.governed import GovernedService
    from bastide.governance.identity import Identity
    from bastide.governance.projects import ProjectView
    from bastide.governance.service import Governance
    from bastide.hub import Hub

DESTROY_ACTION = "destroy_project_key"


def install(service: GovernedService) -> None:
    """Add the project hooks to a governance service: key destruction when a project
    ends, and, when the hub sets ``[projects] extract_on_approval = true``, the extract
    of the granted perimeter as soon as a steward approves."""
    service.add_hook(_Retire(service))
    if _flag(service.hub.settings.values.get("projects", {}).get("extract_on_approval")):
        service.add_hook(_ExtractOnApproval(service))


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class _Retire:
    def __init__(self, service: GovernedService) -> None:
        self.service = service

    def __call__(self, project: ProjectView, previous: ProjectState) -> None:
        if project.state in TERMINAL_STATES:
            retire(self.service, project)


class _ExtractOnApproval:
    def __init__(self, service: GovernedService) -> None:
        self.service = service

    def __call__(self, project: ProjectView, previous: ProjectState) -> None:
        if project.state is not ProjectState.APPROVED:
            return
        from bastide.projects.extract import extract_approved

        # A failure is recorded as a failed extract in the audit log; the approval stands
        # and an operator runs 'bastide extract' once the cause is fixed.
        with contextlib.suppress(BastideError):
            extract_approved(self.service, project)


def key_exists(hub: Hub, project: str) -> bool:
    return hub.keyring.store.read(key_scope(project)) is not None


def key_destroyed(hub: Hub, project: str) -> bool:
    return hub.keyring.store.tombstone(key_scope(project)) is not None


def retire(service: GovernedService, project: ProjectView) -> bool:
    """Destroy the extract key of a project that has ended, if it still exists (the
    call is idempotent). True when this call destroyed it. Audited either way it goes."""
    if project.state not in TERMINAL_STATES:
        raise BastideError(f"project {project.name!r} is {project.state}: it has not ended")
    hub = service.hub
    scope = key_scope(project.name)
    # The plain report and figures a member exported go with the project (its encrypted
    # files die with its key).
    from bastide.studies.workspace import exports_dir

    shutil.rmtree(exports_dir(hub, project.name), ignore_errors=True)
    if hub.keyring.store.read(scope) is None:
        return False
    from bastide.storage import encryption_for

    state = project.state.value
    obj = f"key:{scope}"
    try:
        encryption_for(hub, scope).destroy(reason=f"project {state}")
    except BastideError as exc:
        service.audit.append(
            SYSTEM,
            DESTROY_ACTION,
            Outcome.FAILED,
            project.name,
            obj,
            f"the project is {state} but its extract key could not be destroyed",
            {"to_state": state, "error": type(exc).__name__},
        )
        raise
    service.audit.append(
        SYSTEM,
        DESTROY_ACTION,
        Outcome.SUCCEEDED,
        project.name,
        obj,
        f"the project is {state}: its extract key was destroyed",
        {"to_state": state},
    )
    return True


def ended_message(hub: Hub, project: ProjectView) -> str:
    """One line saying when the project ended and what became of its data."""
    name = project.name
    if project.state is ProjectState.EXPIRED and project.expires_at is not None:
        when = f"expired on {project.expires_at.date().isoformat()}"
    else:
        ended = [t.at for t in project.history if t.to_state is project.state]
        verb = {
            ProjectState.REVOKED: "was revoked",
            ProjectState.CLOSED: "was closed",
            ProjectState.REJECTED: "was rejected",
            ProjectState.EXPIRED: "expired",
        }.get(project.state, f"is {project.state}")
        when = f"{verb} on {ended[-1].date().isoformat()}" if ended else verb
    if key_destroyed(hub, name):
        fate = "its extract key was destroyed"
    elif key_exists(hub, name):
        fate = "its extract key is pending destruction"
    else:
        fate = "it had no extract"
    return f"project {name!r} {when}; {fate}"


def retire_ended(gov: Governance, actor: Identity) -> list[str]:
    """For a scheduler or an operator (``manage_keys``): expire the projects past their
    date, then destroy the extract key of every ended project that still has one. The
    names of the projects whose key this call destroyed."""
    from bastide.governance.terms import Action

    gov.authorize(actor, Action.MANAGE_KEYS, obj="key:projects")
    before = _keys_held(gov)
    gov.expire_due()  # the hooks destroy the keys of the projects that expire now
    destroyed = before - _keys_held(gov)
    for view in gov.projects(actor):
        if view.state in TERMINAL_STATES and retire(gov, view):
            destroyed.add(view.name)
    return sorted(destroyed)


def _keys_held(gov: GovernedService) -> set[str]:
    return {
        record.scope.partition(":")[2]
        for record in gov.hub.keyring.store.records()
        if record.scope.startswith("project:")
    }
