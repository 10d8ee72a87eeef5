"""Scopes: the address form of a document's `metadata.scope` and the API's scope-id fields.

One home for the scope rules every kind shares; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconcile.errors import PlanError

SCOPE_TYPES = ("tenant", "cluster", "department", "project")

# The field that holds a scope's own id in API objects and filters (asset meta, template
# list filters); the tenant scope has none (docs/runai-api.md section 6).
SCOPE_ID_FIELDS = {"project": "projectId", "department": "departmentId", "cluster": "clusterId"}


def scope_text(scope: Mapping[str, object]) -> str:
    """The address form of a scope: `{project: a}` -> `project=a`; `{tenant: true}` -> `tenant`."""
    if scope.get("tenant") is True:
        return "tenant"
    for scope_type in ("cluster", "department", "project"):
        if scope_type in scope:
            return f"{scope_type}={scope[scope_type]}"
    raise ValueError(f"not a scope: {dict(scope)!r}")


def parse_scope(scope: str) -> tuple[str, str]:
    """An address scope -> (scope type, name): `project=a` -> ("project", "a"); `tenant`."""
    scope_type, _, name = scope.partition("=")
    if scope_type not in SCOPE_TYPES or (bool(name) == (scope_type == "tenant")):
        raise PlanError(f"not a scope: {scope!r}")
    return scope_type, name


def scope_mapping(scope: str) -> dict[str, str | bool]:
    """The document form of an address scope, the inverse of `scope_text`: `project=a` ->
    `{project: a}`; `tenant` -> `{tenant: true}`."""
    if scope == "tenant":
        return {"tenant": True}
    scope_type, _, name = scope.partition("=")
    if scope_type not in SCOPE_TYPES or not name:
        raise ValueError(f"not a scope: {scope!r}")
    return {scope_type: name}
