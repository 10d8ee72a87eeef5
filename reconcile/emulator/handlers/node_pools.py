"""Node pools (`/api/v1/node-pools`): list, read, create, update and delete a cluster's pools.

Every cluster has the `default` pool Run:ai makes with it (seeded); it cannot be deleted. A
pool that org units still give quota to cannot be deleted either. The list answers
`{nodepools: [...]}` with the common filterBy/sortBy/offset/limit and no `next`, as the
2.24 spec's NodepoolsList does.
"""

from __future__ import annotations

from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.handlers import org
from reconcile.emulator.listing import FieldGetter, page

PATH = "/api/v1/node-pools"
# NodepoolUpdateFields: what a PUT replaces.
UPDATABLE = (
    "labelKey",
    "labelValue",
    "overProvisioningRatio",
    "placementStrategy",
    "gpuNetworkAccelerationLabelKey",
    "gpuNetworkAccelerationDetection",
    "gpuResourceOptimization",
    "schedulingConfiguration",
    "networkTopologyId",
)


def _field(key: str) -> FieldGetter:
    return lambda pool: pool.get(key)


FIELDS = {
    key: _field(key)
    for key in ("name", "clusterId", "labelKey", "labelValue", "createdAt", "updatedAt", "phase")
}


def _list(call: Call) -> Reply:
    items, _ = page(call.ctx.store.all(org.NODEPOOLS), call.args, fields=FIELDS, default_sort=None)
    return Reply(200, {"nodepools": [org.public(p) for p in items]})


def _pool(call: Call) -> dict[str, Any]:
    return stored_or_404(call.ctx.store, org.NODEPOOLS, call.path_params["nodepoolId"], "node pool")


def _get(call: Call) -> Reply:
    return Reply(200, org.public(_pool(call)))


def _create(call: Call) -> Reply:
    body, store = call.body, call.ctx.store
    cluster = store.get(org.CLUSTERS, str(body["clusterId"]))
    if cluster is None:
        raise ApiProblem(400, f"Bad request - clusterId: no cluster {body['clusterId']!r}")
    for pool in store.all(org.NODEPOOLS):
        if pool["clusterId"] == cluster["uuid"] and pool["name"] == body["name"]:
            raise ApiProblem(409, f"node pool {body['name']!r} already exists in the cluster")
    fields = {k: body[k] for k in ("name", *UPDATABLE) if body.get(k) is not None}
    pool_id = str(store.next_int("nodepool"))
    while store.get(org.NODEPOOLS, pool_id) is not None:
        pool_id = str(store.next_int("nodepool"))
    pool = org.make_nodepool(cluster, pool_id, fields, call.subject, call.ctx.now())
    store.insert(org.NODEPOOLS, pool_id, pool)
    return Reply(201, org.public(pool))


def _update(call: Call) -> Reply:
    pool = _pool(call)
    for key in UPDATABLE:
        value = call.body.get(key)
        if value is not None:
            pool[key] = value
        elif key in call.body and key not in ("labelKey", "labelValue"):
            # The update fields are nullable, the pool's are not: null unsets (the labels,
            # which every pool has, stay).
            pool.pop(key, None)
    pool.update(updatedAt=call.ctx.now(), updatedBy=call.subject)
    call.ctx.store.replace(org.NODEPOOLS, pool["id"], pool)
    return Reply(200, org.public(pool))


def _delete(call: Call) -> Reply:
    pool, store = _pool(call), call.ctx.store
    if pool["name"] == org.DEFAULT_POOL:
        raise ApiProblem(400, "the default node pool cannot be deleted")
    for collection in (org.DEPARTMENTS, org.PROJECTS):
        for unit in store.all(collection):
            if any((r.get("nodePool") or {}).get("id") == pool["id"] for r in unit["resources"]):
                raise ApiProblem(400, f"node pool {pool['name']!r} holds quota of {unit['name']}")
    store.delete(org.NODEPOOLS, pool["id"])
    return Reply(204)


def routes() -> list[Route]:
    one = f"{PATH}/<nodepoolId>"
    return [
        Route(PATH, ("GET",), _list),
        Route(PATH, ("POST",), org.serialized(_create),
              request_schema="NodepoolCreateFields", response_schema="Nodepool"),
        Route(one, ("GET",), _get, response_schema="Nodepool"),
        Route(one, ("PUT",), org.serialized(_update),
              request_schema="NodepoolUpdateFields", response_schema="Nodepool"),
        Route(one, ("DELETE",), org.serialized(_delete)),
    ]  # fmt: skip
