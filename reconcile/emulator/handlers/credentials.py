"""Credential assets (`/api/v1/asset/credentials/<type>`) and registries (`.../registries`).

The server keeps a credential's secret to itself: it is taken on create, kept in a private
field and never answered (the 2.24 response specs mark those fields nullable; `keyId` says
which key encrypted them). A credential's update takes the description alone. A registry's
answer holds a masked password, as its spec requires the field. No org logic here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route
from reconcile.emulator.handlers import assets, org

BASE = "/api/v1/asset/credentials"
REGISTRIES = "/api/v1/asset/registries"
SECRETS = "_secrets"  # private: never leaves the emulator (org.public)
KEY_ID = 1  # EncryptionKeyId: the emulator's one key
MASK = "********"  # what a registry answers for its password (RegistrySpec requires one)
_SCOPE_IDS = {"cluster": "clusterId", "department": "departmentId", "project": "projectId"}

# type segment -> (meta.kind, response component, fields answered, fields kept secret,
# DELETE status: the older types answer 202, generic-secret and ngc-api-key 204).
TYPES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], int]] = {
    "access-key": ("accessKey", "AccessKey", ("existingSecretName", "accessKeyId"),
                   ("secretAccessKey",), 202),
    "password": ("password", "Password", ("existingSecretName", "user"), ("password",), 202),
    "docker-registry": ("dockerRegistry", "DockerRegistry",
                        ("existingSecretName", "user", "url"), ("password",), 202),
    "generic-secret": ("genericSecret", "GenericSecret", ("existingSecretName",),
                       ("keyValuePairs",), 204),
    "ngc-api-key": ("ngcApiKey", "NgcApiKey", (), ("ngc_api_key",), 204),
}  # fmt: skip
Asset = dict[str, Any]


def _new_meta(call: Call, request_meta: dict[str, Any], kind: str) -> dict[str, Any]:
    """AssetMeta for a create: scope fields from the tree, the name unique in its scope."""
    store, scope = call.ctx.store, request_meta["scope"]
    if scope == "system":
        raise ApiProblem(400, "Bad request - meta.scope: system is reserved for internal use")
    scope_id = request_meta.get(_SCOPE_IDS[scope]) if scope in _SCOPE_IDS else None
    if scope in _SCOPE_IDS and scope_id is None:
        raise ApiProblem(400, f"Bad request - meta.{_SCOPE_IDS[scope]} is required for {scope}")
    fields = org.scope_fields(store, scope, None if scope_id is None else str(scope_id))
    now = call.ctx.now()
    return {
        "name": request_meta["name"], "description": request_meta.get("description"), **fields,
        "id": call.ctx.new_id(), "kind": kind, "tenantId": org.tenant_id(store),
        "createdAt": now, "createdBy": call.subject, "updatedAt": now, "updatedBy": call.subject,
    }  # fmt: skip


def _unique(call: Call, collection: str, meta: dict[str, Any], own_id: str | None) -> None:
    key = org.scope_key(meta)
    for other in call.ctx.store.all(collection):
        theirs = other["meta"]
        same_place = theirs["name"] == meta["name"] and org.scope_key(theirs) == key
        if same_place and theirs["id"] != own_id:
            raise ApiProblem(409, f"an asset named {meta['name']!r} exists in this scope")


def _stored(call: Call, collection: str, kind: str | None = None) -> Asset:
    asset = call.ctx.store.get(collection, call.path_params["AssetId"])
    if asset is None or (kind is not None and asset["meta"]["kind"] != kind):
        raise ApiProblem(404, f"asset {call.path_params['AssetId']!r} not found")
    return asset


# --- credentials ---------------------------------------------------------------------------


def _answer(asset: Asset) -> Asset:
    """A credential as a per-type GET answers it: the spec flat, secrets left out."""
    return {"meta": asset["meta"], "spec": {**asset["spec"], "keyId": KEY_ID}}


def _list_entry(asset: Asset) -> Asset:
    """A credentials list entry: the spec under its type's member."""
    return {"meta": asset["meta"], "spec": {asset["meta"]["kind"]: _answer(asset)["spec"]}}


def _create(segment: str) -> Callable[[Call], Reply]:
    kind, _, public, secret, _ = TYPES[segment]

    def handler(call: Call) -> Reply:
        meta = _new_meta(call, call.body["meta"], kind)
        _unique(call, org.CREDENTIALS, meta, None)
        spec = call.body.get("spec") or {}
        given = {k: spec[k] for k in secret if spec.get(k) is not None}
        if not given and not spec.get("existingSecretName"):
            needed = " or ".join([*secret, "existingSecretName"][: 2 if public else 1])
            raise ApiProblem(400, f"Bad request - spec: {needed} is required")
        asset = {
            "meta": meta,
            "spec": {k: spec[k] for k in public if spec.get(k) is not None},
            SECRETS: given,
        }
        call.ctx.store.insert(org.CREDENTIALS, meta["id"], asset)
        return Reply(202, _answer(asset))

    return handler


def _get(segment: str) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        return Reply(200, _answer(_stored(call, org.CREDENTIALS, TYPES[segment][0])))

    return handler


def _update(segment: str) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        asset = _stored(call, org.CREDENTIALS, TYPES[segment][0])
        meta = (call.body or {}).get("meta") or {}
        asset["meta"].update(
            description=meta.get("description"), updatedAt=call.ctx.now(), updatedBy=call.subject
        )
        call.ctx.store.replace(org.CREDENTIALS, asset["meta"]["id"], asset)
        return Reply(202, _answer(asset))

    return handler


def _delete(segment: str) -> Callable[[Call], Reply]:
    status = TYPES[segment][4]

    def handler(call: Call) -> Reply:
        asset = _stored(call, org.CREDENTIALS, TYPES[segment][0])
        call.ctx.store.delete(org.CREDENTIALS, asset["meta"]["id"])
        if status == 204:
            return Reply(204)
        return Reply(202, {"code": 202, "message": "Request has been accepted."})

    return handler


def _list(kind: str | None) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        found = assets.filtered(call.ctx.store, org.CREDENTIALS, call.args)
        if kind is None:
            return Reply(200, {"entries": [_list_entry(a) for a in found]})
        return Reply(200, {"entries": [_answer(a) for a in found if a["meta"]["kind"] == kind]})

    return handler


# --- registries ----------------------------------------------------------------------------


def _registry_answer(asset: Asset) -> Asset:
    return {"meta": asset["meta"], "spec": {**asset["spec"], "password": MASK}}


def _create_registry(call: Call) -> Reply:
    meta = _new_meta(call, call.body["meta"], "registry")
    _unique(call, org.REGISTRIES, meta, None)
    spec = call.body["spec"]
    asset = {
        "meta": meta,
        "spec": {k: spec[k] for k in ("url", "credentialKind", "user")},
        SECRETS: {"password": spec["password"]},
    }
    call.ctx.store.insert(org.REGISTRIES, meta["id"], asset)
    return Reply(201, _registry_answer(asset))


def _update_registry(call: Call) -> Reply:
    asset = _stored(call, org.REGISTRIES)
    meta = call.body["meta"]
    candidate = {**asset["meta"], "name": meta["name"]}
    _unique(call, org.REGISTRIES, candidate, asset["meta"]["id"])
    asset["meta"].update(
        name=meta["name"], description=meta.get("description"),
        updatedAt=call.ctx.now(), updatedBy=call.subject,
    )  # fmt: skip
    call.ctx.store.replace(org.REGISTRIES, asset["meta"]["id"], asset)
    return Reply(200, _registry_answer(asset))


def _get_registry(call: Call) -> Reply:
    return Reply(200, _registry_answer(_stored(call, org.REGISTRIES)))


def _delete_registry(call: Call) -> Reply:
    asset = _stored(call, org.REGISTRIES)
    call.ctx.store.delete(org.REGISTRIES, asset["meta"]["id"])
    return Reply(204)


def _list_registries(call: Call) -> Reply:
    found = assets.filtered(call.ctx.store, org.REGISTRIES, call.args)
    return Reply(200, {"entries": [_registry_answer(a) for a in found]})


def routes() -> list[Route]:
    found = [
        Route(BASE, ("GET",), _list(None), response_schema="CredentialsListResponse"),
    ]
    for segment, (kind, component, *_) in TYPES.items():
        path, one = f"{BASE}/{segment}", f"{BASE}/{segment}/<AssetId>"
        found += [
            Route(path, ("GET",), _list(kind), response_schema=f"{component}ListResponse"),
            Route(path, ("POST",), org.serialized(_create(segment)),
                  request_schema=f"{component}CreationRequest", response_schema=component),
            Route(one, ("GET",), _get(segment), response_schema=component),
            Route(one, ("PUT",), org.serialized(_update(segment)),
                  request_schema=f"{component}UpdateRequest", response_schema=component),
            Route(one, ("DELETE",), org.serialized(_delete(segment))),
        ]  # fmt: skip
    one = f"{REGISTRIES}/<AssetId>"
    return [
        *found,
        Route(REGISTRIES, ("GET",), _list_registries, response_schema="RegistryListResponse"),
        Route(REGISTRIES, ("POST",), org.serialized(_create_registry),
              request_schema="RegistryCreationRequest", response_schema="Registry"),
        Route(one, ("GET",), _get_registry, response_schema="Registry"),
        Route(one, ("PUT",), org.serialized(_update_registry),
              request_schema="RegistryUpdateRequest", response_schema="Registry"),
        Route(one, ("DELETE",), org.serialized(_delete_registry)),
    ]  # fmt: skip
