"""The `meta` every asset shares (`AssetMeta`): its scope as ids, its address, its name.

One home for the scope translation of the asset families (legacy asset templates,
credentials, registries): a document's scope by name <-> `meta.scope` with the unit's id
field, typed as the API types it (docs/runai-api.md section 6). No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconcile.kinds.lookups import Lookups
from reconcile.kinds.scopes import SCOPE_ID_FIELDS, parse_scope
from reconcile.model import Address, Spec


def scope_meta(scope: str, lookups: Lookups) -> dict[str, Any]:
    """`meta.scope` and the scope's id field for an address scope (`project=a`)."""
    scope_type, name = parse_scope(scope)
    meta: dict[str, Any] = {"scope": scope_type}
    if scope_type == "project":
        meta["projectId"] = int_id(lookups.id_of("project", name))
    elif scope_type in SCOPE_ID_FIELDS:
        meta[SCOPE_ID_FIELDS[scope_type]] = lookups.id_of(scope_type, name)
    return meta


def identity(slug: str, item: Mapping[str, Any], lookups: Lookups) -> tuple[Address, str]:
    """An asset's address (its meta's scope and name) and its id."""
    meta = item["meta"]
    scope_type = str(meta.get("scope") or "tenant")
    scope = lookups.scope_text(scope_type, meta.get(SCOPE_ID_FIELDS.get(scope_type, ""), ""))
    return Address(slug, scope, str(meta["name"])), str(meta["id"])


def named_meta(address: Address, spec: Spec) -> dict[str, Any]:
    """`{name, description}`: the updatable meta fields (`AssetUpdatableFields`)."""
    meta: dict[str, Any] = {"name": address.name}
    description = spec.get("metadata", {}).get("description")
    if description is not None:
        meta["description"] = description
    return meta


def int_id(project_id: str) -> int | str:
    """Asset meta types projectId (and access rules roleId) as int32; lookup ids are strings
    of digits (a planned or unknown one is not, and is never sent)."""
    return int(project_id) if project_id.isdigit() else project_id
