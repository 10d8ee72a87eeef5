"""Workload types, categories and priorities (`/api/v1/workload-{types,categories,priorities}`).

Types carry a category and a priority (ids; names are resolved on every read) and versioned
resource interfaces; categories and priorities are read-only seed data. Built-in types can be
re-categorised but never created or deleted through the API.
"""

from __future__ import annotations

from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.handlers import org
from reconcile.emulator.listing import FieldGetter, matching, sort_items
from reconcile.emulator.store import Store

TYPE_FIELDS: dict[str, FieldGetter] = {
    "name": lambda o: o.get("name"),
    "group": lambda o: o.get("group"),
}
PRIORITY_FIELDS: dict[str, FieldGetter] = {
    "name": lambda o: o.get("name"),
    "source": lambda o: o.get("source"),
    "value": lambda o: o.get("value"),
}
# `externalTypesOnly` keeps the third-party built-ins and the types users created.
EXTERNAL_SOURCES = ("external", "user_external")


def type_view(store: Store, stored: dict[str, Any]) -> dict[str, Any]:
    """A stored type as WorkloadTypeConfig: names of its category/priority, cluster statuses."""
    out = org.public(stored)
    category = store.get(org.CATEGORIES, stored["categoryId"])
    priority = store.get(org.PRIORITIES, stored["priorityId"])
    out["categoryName"] = category["name"] if category else None
    out["priorityName"] = priority["name"] if priority else None
    versions = [entry["version"] for entry in stored.get("resourceInterfaces") or []]
    out["clusterStatuses"] = [
        {
            "clusterId": cluster["uuid"],
            "phase": "Ready",
            "version": versions[-1] if versions else "v1",
            "conditions": [],
            "updatedAt": stored["updatedAt"],
        }
        for cluster in store.all(org.CLUSTERS)
    ]
    return {key: value for key, value in out.items() if value is not None}


def _stored_type(call: Call) -> dict[str, Any]:
    type_id = call.path_params["workloadTypeId"]
    return stored_or_404(call.ctx.store, org.WORKLOAD_TYPES, type_id, "Workload type")


def _check_refs(store: Store, body: dict[str, Any]) -> None:
    """Referenced category and priority ids must exist (400: the body is wrong, not the URL)."""
    for key, collection in (("categoryId", org.CATEGORIES), ("priorityId", org.PRIORITIES)):
        if key in body and store.get(collection, str(body[key])) is None:
            raise ApiProblem(400, f"Bad request - {key}: no workload {key[:-2]} {body[key]!r}")


def _interfaces(
    name: str, given: list[dict[str, Any]], current: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Request resource interfaces -> stored `{version, resourceInterface}` entries.

    The version is the root kind's (`spec.structureDefinition.rootComponent.kind.version`);
    versions may be added or removed, but an existing version's interface may not change.
    """
    known = {entry["version"]: entry["resourceInterface"] for entry in current}
    out: list[dict[str, Any]] = []
    for index, interface in enumerate(given):
        root = interface.get("spec", {}).get("structureDefinition", {}).get("rootComponent", {})
        kind = root.get("kind") if isinstance(root, dict) else None
        where = f"resourceInterfaces.{index}"
        if not isinstance(kind, dict) or not kind.get("version"):
            raise ApiProblem(
                400, f"Bad request - {where}: spec.structureDefinition.rootComponent.kind.version "
                "is required",
            )  # fmt: skip
        if kind.get("kind") not in (None, name):
            raise ApiProblem(400, f"Bad request - {where}: root kind must be {name!r}")
        version = str(kind["version"])
        if any(entry["version"] == version for entry in out):
            raise ApiProblem(400, f"Bad request - {where}: version {version!r} is listed twice")
        if version in known and known[version] != interface:
            raise ApiProblem(
                400, f"Bad request - {where}: version {version!r} exists; modifying existing "
                "version entries is not allowed (remove it and add a new version)",
            )  # fmt: skip
        out.append({"version": version, "resourceInterface": interface})
    return out


def _list_types(call: Call) -> Reply:
    store = call.ctx.store
    items = store.all(org.WORKLOAD_TYPES)
    if (call.args.get("externalTypesOnly") or "false").lower() == "true":
        items = [item for item in items if item.get(org.PRIVATE_SOURCE) in EXTERNAL_SOURCES]
    selected = matching(items, call.args, fields=TYPE_FIELDS)
    return Reply(200, {"types": [type_view(store, item) for item in selected]})


def _get_type(call: Call) -> Reply:
    return Reply(200, type_view(call.ctx.store, _stored_type(call)))


def _update_type(call: Call) -> Reply:
    stored = _stored_type(call)
    body: dict[str, Any] = call.body
    _check_refs(call.ctx.store, body)
    for key in ("categoryId", "priorityId"):
        if body.get(key) is not None:
            stored[key] = str(body[key])
    if body.get("resourceInterfaces") is not None:
        current = stored.get("resourceInterfaces") or []
        stored["resourceInterfaces"] = _interfaces(
            stored["name"], body["resourceInterfaces"], current
        )
    stored.update(updatedAt=call.ctx.now(), updatedBy=call.subject)
    call.ctx.store.replace(org.WORKLOAD_TYPES, stored["id"], stored)
    return Reply(200, type_view(call.ctx.store, stored))


def _create_type(call: Call) -> Reply:
    store = call.ctx.store
    body: dict[str, Any] = call.body
    if org.find_by_name(store, org.WORKLOAD_TYPES, body["name"]) is not None:
        raise ApiProblem(409, f"Workload type {body['name']!r} already exists")
    _check_refs(store, body)
    now = call.ctx.now()
    stored = {
        "id": call.ctx.new_id(), "name": body["name"], "group": body["group"],
        "categoryId": str(body["categoryId"]), "priorityId": str(body["priorityId"]),
        "resourceInterfaces": _interfaces(body["name"], body.get("resourceInterfaces") or [], []),
        "createdAt": now, "createdBy": call.subject, "updatedAt": now, "updatedBy": call.subject,
        org.PRIVATE_SOURCE: "user_external",
    }  # fmt: skip
    store.insert(org.WORKLOAD_TYPES, stored["id"], stored)
    return Reply(201, type_view(store, stored))


def _delete_type(call: Call) -> Reply:
    stored = _stored_type(call)
    # Built-in types (seeded) define what the cluster can run: the emulator refuses with 403,
    # the one refusal code the spec lists for this operation.
    if stored.get(org.PRIVATE_SOURCE) != "user_external":
        raise ApiProblem(403, f"Workload type {stored['name']!r} is built in and cannot be deleted")
    call.ctx.store.delete(org.WORKLOAD_TYPES, stored["id"])
    return Reply(204)


def _list_categories(call: Call) -> Reply:
    return Reply(200, {"categories": [org.public(c) for c in call.ctx.store.all(org.CATEGORIES)]})


def _get_category(call: Call) -> Reply:
    category_id = call.path_params["categoryId"]
    category = stored_or_404(call.ctx.store, org.CATEGORIES, category_id, "Workload category")
    return Reply(200, org.public(category))


def _list_priorities(call: Call) -> Reply:
    selected = matching(call.ctx.store.all(org.PRIORITIES), call.args, fields=PRIORITY_FIELDS)
    ordered = sort_items(selected, call.args, fields=PRIORITY_FIELDS, default_sort=None)
    return Reply(200, {"priorities": [org.public(p) for p in ordered]})


def routes() -> list[Route]:
    types = "/api/v1/workload-types"
    one = f"{types}/<workloadTypeId>"
    return [
        Route(types, ("GET",), _list_types),
        Route(
            types, ("POST",), org.serialized(_create_type),
            request_schema="WorkloadTypeCreateFields", response_schema="WorkloadTypeConfig",
        ),
        Route(one, ("GET",), _get_type, response_schema="WorkloadTypeConfig"),
        Route(
            one, ("PUT",), org.serialized(_update_type),
            request_schema="WorkloadTypeUpdateFields", response_schema="WorkloadTypeConfig",
        ),
        Route(one, ("DELETE",), org.serialized(_delete_type)),
        Route("/api/v1/workload-categories", ("GET",), _list_categories),
        Route(
            "/api/v1/workload-categories/<categoryId>", ("GET",), _get_category,
            response_schema="WorkloadCategory",
        ),
        Route("/api/v1/workload-priorities", ("GET",), _list_priorities),
    ]  # fmt: skip
