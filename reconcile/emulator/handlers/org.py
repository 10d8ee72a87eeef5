"""The tenant's org tree: clusters, departments, projects (read routes) and scope helpers.

It also names the store collections of the seeded tenant and builds their API-shaped objects
for `seed.py` and for the org-unit and node pool writes (`org_units.py`, `node_pools.py`);
other handler modules resolve scopes through it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.listing import FieldGetter, page
from reconcile.emulator.store import Store

TENANT = "tenant"
CLUSTERS = "clusters"
NODEPOOLS = "nodepools"
DEFAULT_POOL = "default"  # the pool Run:ai makes with every cluster
DEPARTMENTS = "departments"
PROJECTS = "projects"
CATEGORIES = "workload_categories"
PRIORITIES = "workload_priorities"
WORKLOAD_TYPES = "workload_types"
ENVIRONMENTS = "assets_environment"
COMPUTES = "assets_compute"
DATASOURCES = "assets_datasource"
CREDENTIALS = "assets_credentials"
REGISTRIES = "assets_registries"
ROLES = "roles"
ACCESS_RULES = "access_rules"
# Private keys start with "_" and never leave the emulator (see `public`).
PRIVATE_SOURCE = "_source"
# Datasource asset kind -> its member in DatasourceListResponseAssetSpec.
DATASOURCE_SPEC_KEYS = {
    "pvc": "pvc",
    "nfs": "nfs",
    "git": "git",
    "s3": "s3",
    "hostPath": "hostPath",
    "config-map": "config_map",
    "secret-volume": "secret",
}
ScopeKey = tuple[str, str | None]

_QUOTA_STATUS = {
    name: {"cpu": 0, "gpu": 0, "memory": 0}
    for name in ("allocated", "allocatedNonPreemptible", "requested")
}


_WRITES = threading.Lock()


def serialized(handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    """Run a write handler under one lock, so check-then-write steps (a name's uniqueness,
    read-modify-replace) cannot interleave between the server's request threads."""

    def run(call: Call) -> Reply:
        with _WRITES:
            return handler(call)

    return run


def public(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the emulator's private `_` keys."""
    return {key: value for key, value in obj.items() if not key.startswith("_")}


def find_by_name(store: Store, collection: str, name: str) -> dict[str, Any] | None:
    found = store.find(collection, lambda obj: obj.get("name") == name)
    return found[0] if found else None


def tenant_id(store: Store) -> int:
    tenants = store.all(TENANT)
    return int(tenants[0]["id"]) if tenants else 1


# --- builders (seed.py) ------------------------------------------------------------------


def _resources(gpu_quota: float, pool_id: str) -> list[dict[str, Any]]:
    unlimited = {"deserved": None, "limit": -1, "overQuotaWeight": 2}
    return [
        {
            "nodePool": {"id": pool_id, "name": DEFAULT_POOL},
            "gpu": {"deserved": gpu_quota, "limit": -1, "overQuotaWeight": 2},
            "cpu": dict(unlimited),
            "memory": {**unlimited, "units": "Mib"},
            "priority": "Normal",
        }
    ]


def make_cluster(entry: dict[str, Any], uuid: str, tenant: int, when: str) -> dict[str, Any]:
    return {
        "uuid": uuid,
        "name": entry["name"],
        "tenantId": tenant,
        "version": entry.get("version"),
        "domain": entry.get("domain"),
        "createdAt": when,
        "updatedAt": when,
        "lastLiveness": when,
        "deletedAt": None,
        "deleteRequestedAt": None,
        "status": {"state": "Connected", "conditions": []},
    }


def make_nodepool(
    cluster: dict[str, Any], pool_id: str, fields: dict[str, Any], who: str, when: str
) -> dict[str, Any]:
    """A Nodepool: the create fields as given, the server's calculated ones around them.

    The spec requires non-empty labels of every pool and does not say which the default pool
    carries; the emulator gives it `run.ai/node-pool=default`."""
    return {
        "labelKey": "run.ai/node-pool", "labelValue": DEFAULT_POOL,
        "gpuNetworkAccelerationDetection": "Auto", "overProvisioningRatio": 1, **fields,
        "id": pool_id, "clusterId": cluster["uuid"], "clusterName": cluster["name"],
        "tenantId": cluster.get("tenantId", 1), "isDefault": fields.get("name") == DEFAULT_POOL,
        "phase": "Ready", "createdAt": when, "createdBy": who, "updatedAt": when,
        "updatedBy": who,
    }  # fmt: skip


def default_pool_id(store: Store, cluster_id: str) -> str:
    for pool in store.all(NODEPOOLS):
        if pool["clusterId"] == cluster_id and pool["name"] == DEFAULT_POOL:
            return str(pool["id"])
    return ""


def make_department(
    entry: dict[str, Any], dep_id: str, cluster_id: str, pool_id: str
) -> dict[str, Any]:
    quota = float(entry.get("gpuQuota", 0))
    return {
        "id": dep_id,
        "name": entry["name"],
        "description": str(entry.get("description", "")),
        "clusterId": cluster_id,
        "resources": _resources(quota, pool_id),
        "totalResources": {"gpuQuota": quota, "cpuQuota": None, "memoryQuota": None},
        "children": [],
        "status": {"nodePoolQuotaStatuses": [], "quotaStatus": _QUOTA_STATUS},
    }


def make_project(
    entry: dict[str, Any], project_id: str, parent: dict[str, Any], pool_id: str
) -> dict[str, Any]:
    quota = float(entry.get("gpuQuota", 0))
    namespace = str(entry.get("namespace") or f"runai-{entry['name']}")
    return {
        "id": project_id,
        "name": entry["name"],
        "description": str(entry.get("description", "")),
        "clusterId": parent["clusterId"],
        "parentId": parent["id"],
        "parent": {"id": parent["id"], "name": parent["name"]},
        "enforceRunaiScheduler": True,
        "requestedNamespace": namespace,
        "resources": _resources(quota, pool_id),
        "totalResources": {"gpuQuota": quota, "cpuQuota": None, "memoryQuota": None},
        "effective": {"defaultNodePools": None, "schedulingRules": None},
        "status": {
            "namespace": namespace,
            "phase": "Ready",
            "phaseMessage": "Project is ready",
            "nodePoolQuotaStatuses": [],
            "quotaStatus": _QUOTA_STATUS,
        },
    }


def resource_interface(kind: str, group: str, version: str) -> dict[str, Any]:
    """A minimal Karta ResourceInterface entry naming the root kind, as the spec's example."""
    root = {"kind": {"group": "" if group == "core" else group, "version": version, "kind": kind}}
    return {
        "version": version,
        "resourceInterface": {"spec": {"structureDefinition": {"rootComponent": root}}},
    }


# --- scopes (assets, asset templates, workloads) ---------------------------------------


def scope_fields(store: Store, scope: str, scope_id: str | None = None) -> dict[str, Any]:
    """Asset meta scope fields (scope, clusterId, departmentId, projectId, projectName) for a
    scope and its id, filled from the scope's place in the tree; 400 for an unknown id."""
    out: dict[str, Any] = {
        "scope": scope, "clusterId": None, "departmentId": None,
        "projectId": None, "projectName": None,
    }  # fmt: skip
    if scope in ("tenant", "system"):
        return out
    collection = {"cluster": CLUSTERS, "department": DEPARTMENTS, "project": PROJECTS}.get(scope)
    target = store.get(collection, str(scope_id)) if collection and scope_id else None
    if target is None:
        field = {"cluster": "clusterId", "department": "departmentId"}.get(scope, "projectId")
        raise ApiProblem(400, f"Bad request - {field}: no {scope} with id {scope_id!r}")
    if scope == "cluster":
        out["clusterId"] = target["uuid"]
    elif scope == "department":
        out.update(clusterId=target["clusterId"], departmentId=target["id"])
    else:
        out.update(clusterId=target["clusterId"], departmentId=target["parentId"])
        out.update(projectId=int(target["id"]), projectName=target["name"])
    return out


def scope_key(meta: dict[str, Any]) -> ScopeKey:
    """(scope, id) of an asset meta: the id of the unit it belongs to (None above clusters)."""
    scope = str(meta.get("scope"))
    ids = {"cluster": meta.get("clusterId"), "department": meta.get("departmentId")}
    ids["project"] = None if meta.get("projectId") is None else str(meta["projectId"])
    return (scope, ids.get(scope))


def ancestors(store: Store, key: ScopeKey) -> set[ScopeKey]:
    """The scope itself and every scope above it (system and tenant included)."""
    scope, unit = key
    found: set[ScopeKey] = {("system", None), ("tenant", None), key}
    if scope == "project" and unit is not None and (project := store.get(PROJECTS, unit)):
        found |= {("department", project["parentId"]), ("cluster", project["clusterId"])}
    elif scope == "department" and unit is not None and (dep := store.get(DEPARTMENTS, unit)):
        found.add(("cluster", dep["clusterId"]))
    return found


# --- routes ---------------------------------------------------------------------------------

_AVERAGES = tuple(
    f"avg{metric}{window}"
    for metric in ("GpuAllocation", "GpuUtilization", "GpuMemoryUtilization")
    for window in ("24h", "7d", "30d")
)


def _unit_fields(extra: dict[str, FieldGetter]) -> dict[str, FieldGetter]:
    fields: dict[str, FieldGetter] = {
        "name": lambda o: o.get("name"),
        "clusterId": lambda o: o.get("clusterId"),
        "totalGpuQuota": lambda o: (o.get("totalResources") or {}).get("gpuQuota"),
        "gpuAllocated": lambda o: o["status"]["quotaStatus"]["allocated"]["gpu"],
        "createdAt": lambda o: o.get("createdAt"),
        **extra,
    }
    fields.update({name: (lambda o: None) for name in _AVERAGES})  # no telemetry here
    return fields


PROJECT_FIELDS = _unit_fields(
    {
        "departmentId": lambda o: o.get("parentId"),
        "parentId": lambda o: o.get("parentId"),
        "parentName": lambda o: (o.get("parent") or {}).get("name"),
        "phase": lambda o: o["status"].get("phase"),
    }
)
DEPARTMENT_FIELDS = _unit_fields({})


def _org_list(key: str, collection: str, fields: dict[str, FieldGetter]) -> Callable[..., Reply]:
    def handler(call: Call) -> Reply:
        items, total = page(
            call.ctx.store.all(collection), call.args, fields=fields, default_sort=None
        )
        offset = int(call.args.get("offset") or 0)
        shaped = [_list_item(key, item, call) for item in items]
        body: dict[str, Any] = {key: shaped}
        if offset + len(items) < total:
            body["next"] = offset + len(items)
        return Reply(200, body)

    return handler


def _list_item(key: str, item: dict[str, Any], call: Call) -> dict[str, Any]:
    if key != "departments":
        return public(item)
    # DepartmentForList: status only when verbosity=verbose, no aggregated resources.
    out = {
        k: v for k, v in public(item).items() if k not in ("status", "projectsAggregatedResources")
    }
    if call.args.get("verbosity") == "verbose":
        out["status"] = {"quotaStatus": item["status"]["quotaStatus"]}
    return out


def _org_get(collection: str, param: str, label: str) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        obj = stored_or_404(call.ctx.store, collection, call.path_params[param], label)
        if collection == CLUSTERS and call.args.get("verbosity") == "metadata":
            obj = {k: obj[k] for k in ("uuid", "name", "tenantId", "createdAt")}
        return Reply(200, public(obj))

    return handler


def _list_clusters(call: Call) -> Reply:
    verbosity = call.args.get("verbosity") or "full"
    if verbosity not in ("metadata", "full"):
        raise ApiProblem(
            400, f"Bad request - verbosity must be metadata or full, got {verbosity!r}"
        )
    keys = ("uuid", "name", "tenantId", "createdAt")
    clusters = call.ctx.store.all(CLUSTERS)
    if verbosity == "metadata":
        return Reply(200, [{k: c[k] for k in keys} for c in clusters])
    return Reply(200, [public(c) for c in clusters])


def routes() -> list[Route]:
    return [
        Route(
            "/api/v1/org-unit/projects", ("GET",),
            _org_list("projects", PROJECTS, PROJECT_FIELDS),
        ),
        Route(
            "/api/v1/org-unit/projects/<projectId>", ("GET",),
            _org_get(PROJECTS, "projectId", "project"), response_schema="Project",
        ),
        Route(
            "/api/v1/org-unit/departments", ("GET",),
            _org_list("departments", DEPARTMENTS, DEPARTMENT_FIELDS),
        ),
        Route(
            "/api/v1/org-unit/departments/<departmentId>", ("GET",),
            _org_get(DEPARTMENTS, "departmentId", "department"), response_schema="Department",
        ),
        Route("/api/v1/clusters", ("GET",), _list_clusters),
        Route(
            "/api/v1/clusters/<clusterUuid>", ("GET",),
            _org_get(CLUSTERS, "clusterUuid", "cluster"), response_schema="DisplayedCluster",
        ),
    ]  # fmt: skip
