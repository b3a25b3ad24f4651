"""Governance: who may do what with which data, for how long, and why.

- ``terms``, ``policy``, ``lifecycle``, ``scope``: the pure core (no database, no IO);
- ``store``, ``tables``, ``migrations``: the metadata store (SQLite or PostgreSQL);
- ``identity``: identities, local accounts, the seam for an OIDC provider;
- ``catalogue``: datasets and variable documentation;
- ``service.Governance``: the service every interface calls.
"""

from bastide.governance.catalogue import Catalogue, DatasetInfo, VariableInfo
from bastide.governance.errors import (
    AuthenticationFailed,
    GovernanceError,
    IllegalTransition,
    InvalidRequest,
    MetadataStoreError,
    NotFound,
    PermissionDenied,
)
from bastide.governance.governed import TransitionHook
from bastide.governance.identity import Account, Identity, IdentityProvider, LocalAccounts
from bastide.governance.policy import RULES, Context, Decision, decide
from bastide.governance.projects import ProjectView, TransitionView
from bastide.governance.scope import Population, ProjectRequest, Scope
from bastide.governance.service import Governance
from bastide.governance.store import MetadataStore, metadata_url
from bastide.governance.terms import Action, ProjectState, Role

__all__ = [
    "RULES",
    "Account",
    "Action",
    "AuthenticationFailed",
    "Catalogue",
    "Context",
    "DatasetInfo",
    "Decision",
    "Governance",
    "GovernanceError",
    "Identity",
    "IdentityProvider",
    "IllegalTransition",
    "InvalidRequest",
    "LocalAccounts",
    "MetadataStore",
    "MetadataStoreError",
    "NotFound",
    "PermissionDenied",
    "Population",
    "ProjectRequest",
    "ProjectState",
    "ProjectView",
    "Role",
    "Scope",
    "TransitionHook",
    "TransitionView",
    "VariableInfo",
    "decide",
    "metadata_url",
]
