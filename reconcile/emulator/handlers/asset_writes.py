"""Writes of environment, compute and data source assets (2.24 shapes, 202 answers).

Creates take `{meta: AssetCreationRequest, spec}` and fill the meta's scope fields from the
scope's place in the org tree; updates (PUT) take `{meta: {name, description}, spec}`, so an
asset's scope and `workloadSupportedTypes` are fixed at creation; names are unique per kind
and scope (409). Data sources have one collection per type in the API (`/datasource/pvc`,
...), one store collection here, told apart by `meta.kind`. Reads live in `assets.py`.
"""

from __future__ import annotations

from collections.abc import Callable

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route
from reconcile.emulator.handlers import org
from reconcile.emulator.handlers.assets import Asset, asset_scope, check_unique
from reconcile.emulator.store import Store

BASE = "/api/v1/asset"
_SCOPE_ID_KEYS = ("clusterId", "departmentId", "projectId")


class AssetFamily:
    """One writable asset collection: its path, store collection, `meta.kind` and schemas."""

    def __init__(self, path: str, collection: str, kind: str, schemas: str, label: str) -> None:
        self.path = path
        self.collection = collection
        self.kind = kind
        self.create_schema = f"{schemas}CreationRequest"
        self.update_schema = f"{schemas}UpdateRequest"
        self.response_schema = f"{schemas}Asset" if schemas != "SecretAsset" else schemas
        self.label = label

    def stored(self, store: Store, asset_id: str) -> Asset:
        asset = store.get(self.collection, asset_id)
        if asset is None or asset["meta"].get("kind") != self.kind:
            raise ApiProblem(404, f"{self.label} asset {asset_id!r} not found")
        return asset

    def create(self, call: Call) -> Reply:
        store = call.ctx.store
        body = call.ctx.openapi.defaults(self.create_schema, call.body)
        request_meta = body["meta"]
        scope = asset_scope(store, request_meta)
        check_unique(store, self.collection, request_meta["name"], org.scope_key(scope),
                     None, kind=self.kind)  # fmt: skip
        now = call.ctx.now()
        meta = {
            **{k: v for k, v in request_meta.items() if k not in _SCOPE_ID_KEYS},
            **scope,
            "id": call.ctx.new_id(), "kind": self.kind, "tenantId": org.tenant_id(store),
            "createdAt": now, "createdBy": call.subject, "updatedAt": now,
            "updatedBy": call.subject, "updateCount": 0,
        }  # fmt: skip
        asset = {"meta": meta, "spec": body.get("spec") or {}}
        store.insert(self.collection, meta["id"], asset)
        return Reply(202, asset)

    def get(self, call: Call) -> Reply:
        return Reply(200, self.stored(call.ctx.store, call.path_params["AssetId"]))

    def update(self, call: Call) -> Reply:
        store = call.ctx.store
        asset = self.stored(store, call.path_params["AssetId"])
        body = call.ctx.openapi.defaults(self.update_schema, call.body)
        meta = asset["meta"]
        check_unique(store, self.collection, body["meta"]["name"], org.scope_key(meta),
                     meta["id"], kind=self.kind)  # fmt: skip
        meta["name"] = body["meta"]["name"]
        meta["description"] = body["meta"].get("description")
        meta.update(updatedAt=call.ctx.now(), updatedBy=call.subject)
        meta["updateCount"] = int(meta.get("updateCount") or 0) + 1
        asset["spec"] = body.get("spec") or {}
        store.replace(self.collection, meta["id"], asset)
        return Reply(202, asset)

    def delete(self, call: Call) -> Reply:
        asset = self.stored(call.ctx.store, call.path_params["AssetId"])
        call.ctx.store.delete(self.collection, asset["meta"]["id"])
        return Reply(202, {"code": 202, "message": "Request has been accepted."})

    def routes(self, *, with_get: bool) -> list[Route]:
        by_id = f"{self.path}/<AssetId>"
        write: Callable[[Callable[[Call], Reply]], Callable[[Call], Reply]] = org.serialized
        found = [
            Route(self.path, ("POST",), write(self.create), request_schema=self.create_schema,
                  response_schema=self.response_schema),
            Route(by_id, ("PUT",), write(self.update), request_schema=self.update_schema,
                  response_schema=self.response_schema),
            Route(by_id, ("DELETE",), write(self.delete)),
        ]  # fmt: skip
        if with_get:
            found.append(Route(by_id, ("GET",), self.get, response_schema=self.response_schema))
        return found


# Data source types: (path segment, `meta.kind`, schema prefix, label).
DATASOURCE_TYPES = (
    ("pvc", "pvc", "PVC", "PVC"),
    ("git", "git", "Git", "Git"),
    ("s3", "s3", "S3", "S3"),
    ("nfs", "nfs", "NFS", "NFS"),
    ("host-path", "hostPath", "HostPath", "Host path"),
    ("config-map", "config-map", "ConfigMap", "Config map"),
    ("secrets", "secret-volume", "SecretAsset", "Secret"),
)
ENVIRONMENT = AssetFamily(
    f"{BASE}/environment", org.ENVIRONMENTS, "environment", "Environment", "Environment"
)
COMPUTE = AssetFamily(f"{BASE}/compute", org.COMPUTES, "compute", "Compute", "Compute")
DATASOURCES = tuple(
    AssetFamily(f"{BASE}/datasource/{segment}", org.DATASOURCES, kind, schemas, label)
    for segment, kind, schemas, label in DATASOURCE_TYPES
)


def routes() -> list[Route]:
    # Environment and compute GET by id are served with their lists (assets.py).
    found = [*ENVIRONMENT.routes(with_get=False), *COMPUTE.routes(with_get=False)]
    for family in DATASOURCES:
        found += family.routes(with_get=True)
    return found
