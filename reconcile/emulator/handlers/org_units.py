"""Writes of the org tree: create, update and delete departments and projects, and their quotas.

Request bodies arrive checked against the 2.24 slice (DepartmentCreationRequest,
ProjectCreationRequest, the update requests, ResourcesUpdateRequest); this module checks what
a schema cannot (names free in the cluster, ids that exist, node pools of the unit's cluster)
and shapes the stored objects as `org.py` reads them back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.handlers import org
from reconcile.emulator.store import Store

DEPARTMENTS = "/api/v1/org-unit/departments"
PROJECTS = "/api/v1/org-unit/projects"
# The updatable fields both units share (DataUpdatableFields, DataUpdatableDepartmentFields).
POLICY_FIELDS = ("defaultNodePools", "nodeTypes", "schedulingRules")
_UNSET_RESOURCE = {"deserved": None, "limit": -1, "overQuotaWeight": 2}


def _new_unit_id(store: Store) -> str:
    # Departments and projects share one id space (org units), integer strings.
    while True:
        candidate = str(100 + store.next_int("seed-org-unit"))
        if store.get(org.DEPARTMENTS, candidate) is None and not store.get(org.PROJECTS, candidate):
            return candidate


def _resources(store: Store, cluster_id: str, given: Any) -> list[dict[str, Any]]:
    """A ResourcesUpdateRequest for a unit of `cluster_id`, as stored: every node pool named
    (a missing `nodePool` is the default pool), its name filled in, unset parts defaulted."""
    if not isinstance(given, list):
        raise ApiProblem(400, "Bad request - resources must be an array")
    out: dict[str, dict[str, Any]] = {}
    for entry in given:
        entry = entry if isinstance(entry, dict) else {}
        ref = entry.get("nodePool") or {"id": org.default_pool_id(store, cluster_id)}
        pool = store.get(org.NODEPOOLS, str(ref.get("id")))
        if pool is None or pool["clusterId"] != cluster_id:
            raise ApiProblem(
                400, f"Bad request - resources: no node pool {ref.get('id')!r} in the cluster"
            )
        if pool["id"] in out:
            raise ApiProblem(400, f"Bad request - resources: node pool {pool['name']} twice")
        gpu = {"deserved": 0, "limit": -1, "overQuotaWeight": 2, **(entry.get("gpu") or {})}
        memory = {**_UNSET_RESOURCE, "units": "Mib", **(entry.get("memory") or {})}
        out[pool["id"]] = {
            "nodePool": {"id": pool["id"], "name": pool["name"]},
            "gpu": gpu,
            "cpu": {**_UNSET_RESOURCE, **(entry.get("cpu") or {})},
            "memory": memory,
            "priority": entry.get("priority") or "Normal",
        }
    return [out[key] for key in sorted(out)]


def _totals(resources: list[dict[str, Any]]) -> dict[str, Any]:
    def total(what: str) -> float | None:
        values = [r[what].get("deserved") for r in resources if r[what].get("deserved") is not None]
        return float(sum(values)) if values else None

    return {"gpuQuota": total("gpu") or 0.0, "cpuQuota": total("cpu"), "memoryQuota": None}


def _updatable(unit: dict[str, Any], body: dict[str, Any], store: Store) -> None:
    """Apply the updatable fields of `body` to `unit` (a PUT: absent policies are cleared)."""
    for key in POLICY_FIELDS:
        unit[key] = copy.deepcopy(body.get(key))
    if "description" in body:
        unit["description"] = str(body["description"])
    if "enforceRunaiScheduler" in body and "parentId" in unit:
        unit["enforceRunaiScheduler"] = body["enforceRunaiScheduler"] is not False
    _set_resources(unit, body.get("resources") or [], store)


def _set_resources(unit: dict[str, Any], given: Any, store: Store) -> None:
    unit["resources"] = _resources(store, unit["clusterId"], given)
    unit["totalResources"] = _totals(unit["resources"])


def _cluster(store: Store, cluster_id: Any) -> dict[str, Any]:
    cluster = store.get(org.CLUSTERS, str(cluster_id))
    if cluster is None:
        raise ApiProblem(400, f"Bad request - clusterId: no cluster {cluster_id!r}")
    return cluster


def _name_free(store: Store, collection: str, name: str, cluster_id: str) -> None:
    for unit in store.all(collection):
        if unit["name"] == name and unit["clusterId"] == cluster_id:
            raise ApiProblem(409, f"{collection[:-1]} {name!r} already exists in the cluster")


def _stamped(unit: dict[str, Any], call: Call, *, created: bool) -> dict[str, Any]:
    now = call.ctx.now()
    if created:
        unit.update(createdAt=now, createdBy=call.subject)
    unit.update(updatedAt=now, updatedBy=call.subject)
    return unit


def _create_department(call: Call) -> Reply:
    body, store = call.body, call.ctx.store
    cluster = _cluster(store, body["clusterId"])
    _name_free(store, org.DEPARTMENTS, body["name"], cluster["uuid"])
    entry = {"name": body["name"], "description": body.get("description", "")}
    pool_id = org.default_pool_id(store, cluster["uuid"])
    unit = org.make_department(entry, _new_unit_id(store), cluster["uuid"], pool_id)
    _updatable(unit, body, store)
    store.insert(org.DEPARTMENTS, unit["id"], _stamped(unit, call, created=True))
    return Reply(201, org.public(unit))


def _create_project(call: Call) -> Reply:
    body, store = call.body, call.ctx.store
    cluster = _cluster(store, body["clusterId"])
    parent = store.get(org.DEPARTMENTS, str(body.get("parentId")))
    if parent is None or parent["clusterId"] != cluster["uuid"]:
        raise ApiProblem(
            400, f"Bad request - parentId: no department {body.get('parentId')!r} in the cluster"
        )
    _name_free(store, org.PROJECTS, body["name"], cluster["uuid"])
    entry = {
        "name": body["name"],
        "description": body.get("description", ""),
        "namespace": body.get("requestedNamespace"),
    }
    unit = org.make_project(entry, _new_unit_id(store), parent, "")
    _updatable(unit, body, store)
    parent["children"].append({"id": unit["id"], "name": unit["name"]})
    store.replace(org.DEPARTMENTS, parent["id"], parent)
    store.insert(org.PROJECTS, unit["id"], _stamped(unit, call, created=True))
    return Reply(201, org.public(unit))


def _unit(store: Store, collection: str, unit_id: str) -> dict[str, Any]:
    return stored_or_404(store, collection, unit_id, collection[:-1])


def _write(
    collection: str, param: str, change: Callable[[dict[str, Any], Any, Store], Any]
) -> Callable[[Call], Reply]:
    """A PUT on one unit: `change(unit, body, store)` updates it and returns the answer."""

    def handler(call: Call) -> Reply:
        unit = _unit(call.ctx.store, collection, call.path_params[param])
        answer = change(unit, call.body, call.ctx.store)
        call.ctx.store.replace(collection, unit["id"], _stamped(unit, call, created=False))
        return Reply(200, answer)

    return handler


def _update_unit(unit: dict[str, Any], body: Any, store: Store) -> dict[str, Any]:
    _updatable(unit, body, store)
    return org.public(unit)


def _update_quotas(unit: dict[str, Any], body: Any, store: Store) -> list[dict[str, Any]]:
    _set_resources(unit, body, store)
    resources: list[dict[str, Any]] = unit["resources"]
    return resources


def _delete_department(call: Call) -> Reply:
    store = call.ctx.store
    unit = _unit(store, org.DEPARTMENTS, call.path_params["departmentId"])
    if any(p["parentId"] == unit["id"] for p in store.all(org.PROJECTS)):
        raise ApiProblem(400, f"department {unit['name']!r} still has projects")
    store.delete(org.DEPARTMENTS, unit["id"])
    return Reply(204)


def _delete_project(call: Call) -> Reply:
    store = call.ctx.store
    unit = _unit(store, org.PROJECTS, call.path_params["projectId"])
    store.delete(org.PROJECTS, unit["id"])
    parent = store.get(org.DEPARTMENTS, unit["parentId"])
    if parent is not None:
        parent["children"] = [c for c in parent["children"] if c["id"] != unit["id"]]
        store.replace(org.DEPARTMENTS, parent["id"], parent)
    return Reply(204)


def _unit_routes(
    path: str,
    collection: str,
    param: str,
    kind: str,
    writes: tuple[Callable[[Call], Reply], Callable[[Call], Reply]],
) -> list[Route]:
    """Create, update, delete and the quota endpoint of one org-unit kind (`kind`: the API's
    schema name, Department or Project; `writes`: its create and delete handlers)."""
    one, (create, delete) = f"{path}/<{param}>", writes
    return [
        Route(path, ("POST",), org.serialized(create),
              request_schema=f"{kind}CreationRequest", response_schema=kind),
        Route(one, ("PUT",), org.serialized(_write(collection, param, _update_unit)),
              request_schema=f"{kind}UpdateRequest", response_schema=kind),
        Route(one, ("DELETE",), org.serialized(delete)),
        Route(f"{one}/resources", ("PUT",),
              org.serialized(_write(collection, param, _update_quotas)),
              request_schema="ResourcesUpdateRequest"),
    ]  # fmt: skip


def routes() -> list[Route]:
    return [
        *_unit_routes(
            DEPARTMENTS,
            org.DEPARTMENTS,
            "departmentId",
            "Department",
            (_create_department, _delete_department),
        ),
        *_unit_routes(
            PROJECTS, org.PROJECTS, "projectId", "Project", (_create_project, _delete_project)
        ),
    ]
