"""What every asset shares in the API (`/api/v1/asset/...`): a `meta` naming the scope by type
plus the unit's id, `{entries}` lists without pagination, names unique per kind and scope.

Used by the asset kinds (`assets.py`, `credentials.py`, `registries.py`) and the legacy
asset templates; no I/O (docs/runai-api.md sections 3, 11 and 12).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.kinds.calls import ListRequest, Pagination, params
from reconcile.kinds.lookups import Lookups
from reconcile.kinds.scopes import SCOPE_ID_FIELDS, parse_scope
from reconcile.model import Address, Spec


def scope_meta(scope: str, lookups: Lookups) -> dict[str, Any]:
    """The create-time scope fields of `meta` for an address scope: `scope` and the unit's id
    (`projectId` an int32, the other ids strings)."""
    scope_type, name = parse_scope(scope)
    meta: dict[str, Any] = {"scope": scope_type}
    if scope_type == "project":
        meta["projectId"] = int_id(lookups.id_of("project", name))
    elif scope_type in SCOPE_ID_FIELDS:
        meta[SCOPE_ID_FIELDS[scope_type]] = lookups.id_of(scope_type, name)
    return meta


def updatable_meta(address: Address, spec: Spec) -> dict[str, Any]:
    """`AssetUpdatableFields`: the name and the description (all an update may change)."""
    meta: dict[str, Any] = {"name": address.name}
    description = spec.get("metadata", {}).get("description")
    if description is not None:
        meta["description"] = description
    return meta


def identify(slug: str, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
    """An asset list entry's address (its `meta` scope and name) and its `meta.id`."""
    meta = item["meta"]
    scope_type = str(meta.get("scope") or "tenant")
    scope = lookups.scope_text(scope_type, meta.get(SCOPE_ID_FIELDS.get(scope_type, ""), ""))
    return Address(slug, scope, str(meta["name"])), str(meta["id"])


def find_request(path: str, address: Address, lookups: Lookups) -> ListRequest:
    """The list narrowed to `address`'s name in its own scope: with `scope` given, the list
    holds that scope only (not the assets inherited from above)."""
    scope_type, name = parse_scope(address.scope)
    query = dict(params(name=address.name, scope=scope_type))
    if scope_type in SCOPE_ID_FIELDS:
        query[SCOPE_ID_FIELDS[scope_type]] = lookups.id_of(scope_type, name)
    return ListRequest(path, "entries", Pagination.SINGLE, params(**query))


def int_id(project_id: str) -> int | str:
    """Asset meta types projectId (and access rules roleId) as int32; lookup ids are strings
    of digits (a planned or unknown id stays a string: it is shown in plans, never sent)."""
    return int(project_id) if project_id.isdigit() else project_id
