"""Errors of the workspace: each is one line saying what was refused or stopped, and why."""

from __future__ import annotations

from bastide.errors import BastideError


class WorkspaceError(BastideError):
    """Base of the workspace's errors."""


class QueryRefused(WorkspaceError):
    """The query is not a single read-only query over the project's own tables, or it
    reaches for something the sandbox does not offer (files, settings, extensions)."""


class QueryFailed(WorkspaceError):
    """The query was accepted but the engine could not run it (a type error, a function
    that does not exist...), with the engine's reason."""


class QueryStopped(WorkspaceError):
    """The query hit a resource limit of the workspace and was stopped."""


class QueryTimeout(QueryStopped):
    """The query ran longer than the workspace's time limit."""


class QueryTooLarge(QueryStopped):
    """The query needed more memory or spill space, or returned more rows or bytes,
    than the workspace allows."""
