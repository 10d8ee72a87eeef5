"""Assets: environment/compute/datasource reads and the legacy asset templates.

`/api/v1/asset/workload-template` (deprecated in 2.24, shapes as in the 2.24 spec): the server
fills meta from the scope's place in the org tree and resolves the referenced asset ids to
`{id, name, ...}` refs. The assets' own writes are in `asset_writes.py`. No org or workload
logic here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.handlers import org
from reconcile.emulator.store import Store

TEMPLATES = "asset_workload_templates"
_SCOPES = ("system", "tenant", "cluster", "department", "project")
# Query flag -> the WorkloadSupportedTypes member it tests.
_TYPE_FLAGS = {
    "isWorkspace": "workspace",
    "isTraining": "training",
    "isDistributed": "distributed",
    "isInference": "inference",
}
_SCOPE_ID_KEYS = ("clusterId", "departmentId", "projectId")
Asset = dict[str, Any]


# --- list filters (shared by every asset list) ---------------------------------------------


def _flag(args: MultiDict[str, str], name: str) -> bool | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise ApiProblem(400, f"Bad request - {name} must be true or false, got {raw!r}")
    return raw.lower() == "true"


def _unit_filter(args: MultiDict[str, str]) -> org.ScopeKey | None:
    """The most specific org unit the query names (project > department > cluster)."""
    project = args.get("projectId")
    if project:
        if not project.lstrip("-").isdigit():
            raise ApiProblem(400, f"Bad request - projectId must be an integer, got {project!r}")
        return ("project", project)
    if args.get("departmentId"):
        return ("department", args["departmentId"])
    if args.get("clusterId"):
        return ("cluster", args["clusterId"])
    return None


def _descendants(store: Store, key: org.ScopeKey) -> set[org.ScopeKey]:
    scope, unit = key
    found: set[org.ScopeKey] = {key}
    if scope == "cluster":
        found |= {
            ("department", d["id"]) for d in store.all(org.DEPARTMENTS) if d["clusterId"] == unit
        }
        found |= {("project", p["id"]) for p in store.all(org.PROJECTS) if p["clusterId"] == unit}
    elif scope == "department":
        found |= {("project", p["id"]) for p in store.all(org.PROJECTS) if p["parentId"] == unit}
    return found


def _scope_predicate(store: Store, args: MultiDict[str, str]) -> Callable[[Asset], bool]:
    """Run:ai's scope semantics: `scope` alone keeps that scope; a unit id keeps the assets
    usable there (the unit and every scope above it), narrowed to `scope` when both are given;
    `includeDescendants` adds the units below it."""
    scope = args.get("scope")
    if scope is not None and scope not in _SCOPES[1:]:
        raise ApiProblem(400, f"Bad request - scope must be one of {', '.join(_SCOPES[1:])}")
    descend = _flag(args, "includeDescendants")
    if scope and descend:
        raise ApiProblem(400, "Bad request - scope and includeDescendants are mutually exclusive")
    unit = _unit_filter(args)
    if unit is None:
        return lambda asset: scope is None or asset["meta"]["scope"] == scope
    allowed = org.ancestors(store, unit) | (_descendants(store, unit) if descend else set())

    def keep(asset: Asset) -> bool:
        key = org.scope_key(asset["meta"])
        return key in allowed and (scope is None or key[0] == scope)

    return keep


def _type_predicate(args: MultiDict[str, str], flags: tuple[str, ...]) -> Callable[[Asset], bool]:
    wanted = {
        _TYPE_FLAGS[name]: value for name in flags if (value := _flag(args, name)) is not None
    }
    framework = args.get("distributedFramework")

    def keep(asset: Asset) -> bool:
        supported = asset["meta"].get("workloadSupportedTypes") or {}
        if framework and supported.get("distFramework") != framework:
            return False
        return all(bool(supported.get(key)) == value for key, value in wanted.items())

    return keep


def filtered(
    store: Store, collection: str, args: MultiDict[str, str], *, flags: tuple[str, ...] = ()
) -> list[Asset]:
    """The assets of `collection` that pass the name, scope and workload-type filters."""
    in_scope = _scope_predicate(store, args)
    of_type = _type_predicate(args, flags)
    name = args.get("name")
    ids = {i for i in (args.get("assetIds") or "").split(",") if i}
    return [
        asset
        for asset in store.all(collection)
        if (not name or asset["meta"]["name"] == name)
        and (not ids or asset["meta"]["id"] in ids)
        and in_scope(asset)
        and of_type(asset)
    ]


# --- asset reads ------------------------------------------------------------------------


def _datasource_view(asset: Asset) -> Asset:
    """Datasource list entries nest the spec under the kind's member (`spec.pvc`, ...)."""
    key = org.DATASOURCE_SPEC_KEYS.get(asset["meta"]["kind"], asset["meta"]["kind"])
    return {"meta": asset["meta"], "spec": {key: asset["spec"]}}


def _asset_list(collection: str, flags: tuple[str, ...] = ()) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        assets = filtered(call.ctx.store, collection, call.args, flags=flags)
        if collection == org.DATASOURCES:
            assets = [_datasource_view(asset) for asset in assets]
        return Reply(200, {"entries": assets})

    return handler


def _asset_get(collection: str, label: str) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        asset_id = call.path_params["AssetId"]
        return Reply(200, stored_or_404(call.ctx.store, collection, asset_id, f"{label} asset"))

    return handler


# --- legacy asset templates ----------------------------------------------------------------


def asset_scope(store: Store, meta: dict[str, Any]) -> dict[str, Any]:
    """The meta scope fields of an asset or asset template created with `meta`; 400 for the
    reserved system scope, a missing unit id or an unknown one."""
    scope = meta["scope"]
    if scope == "system":
        raise ApiProblem(400, "Bad request - meta.scope: system is reserved for internal use")
    id_key = {"cluster": "clusterId", "department": "departmentId", "project": "projectId"}
    scope_id = meta.get(id_key[scope]) if scope in id_key else None
    if scope in id_key and scope_id is None:
        raise ApiProblem(400, f"Bad request - meta.{id_key[scope]} is required for scope {scope}")
    return org.scope_fields(store, scope, None if scope_id is None else str(scope_id))


def _asset_ref(
    store: Store, collection: str, asset_id: str, where: str, key: org.ScopeKey
) -> Asset:
    asset = store.get(collection, asset_id)
    if asset is None:
        raise ApiProblem(400, f"Bad request - {where}: no asset with id {asset_id!r}")
    if org.scope_key(asset["meta"]) not in org.ancestors(store, key):
        raise ApiProblem(400, f"Bad request - {where}: asset {asset['meta']['name']!r} is not "
                         "usable in the template's scope")  # fmt: skip
    return asset


def _resolve_assets(store: Store, ids: dict[str, Any], key: org.ScopeKey) -> dict[str, Any]:
    """AssetsIds (request) -> AssetsRef (response); 400 for an unknown or out-of-scope id."""
    env = _asset_ref(store, org.ENVIRONMENTS, ids["environment"], "spec.assets.environment", key)
    tools = [
        info["toolType"]
        for conn in env["spec"].get("connections") or []
        for info in (conn.get("internalToolInfo"), conn.get("externalToolInfo"))
        if info
    ]
    out: dict[str, Any] = {
        "environment": {"id": env["meta"]["id"], "name": env["meta"]["name"], "toolTypes": tools},
        "compute": None,
        "datasources": [],
    }
    if ids.get("compute"):
        compute = _asset_ref(store, org.COMPUTES, ids["compute"], "spec.assets.compute", key)
        out["compute"] = {"id": compute["meta"]["id"], "name": compute["meta"]["name"]}
    for index, item in enumerate(ids.get("datasources") or []):
        where = f"spec.assets.datasources.{index}"
        source = _asset_ref(store, org.DATASOURCES, item["id"], where, key)
        if source["meta"]["kind"] != item["kind"]:
            raise ApiProblem(400, f"Bad request - {where}.kind: asset {source['meta']['name']!r} "
                             f"is a {source['meta']['kind']}, not a {item['kind']}")  # fmt: skip
        ref = {"id": item["id"], "name": source["meta"]["name"], "kind": item["kind"]}
        if item.get("overrides") is not None:
            ref["overrides"] = item["overrides"]
        out["datasources"].append(ref)
    if ids.get("workloadVolumes") is not None:
        out["workloadVolumes"] = list(ids["workloadVolumes"])
    return out


def check_unique(
    store: Store,
    collection: str,
    name: str,
    key: org.ScopeKey,
    own_id: str | None,
    *,
    kind: str | None = None,
) -> None:
    """409 when another object of `collection` (and `meta.kind`) has `name` in scope `key`."""
    for other in store.all(collection):
        meta = other["meta"]
        if kind is not None and meta.get("kind") != kind:
            continue
        if meta["name"] == name and org.scope_key(meta) == key and meta["id"] != own_id:
            what = "Template" if collection == TEMPLATES else "Asset"
            raise ApiProblem(409, f"{what} {name!r} already exists in this scope")


def _template_spec(store: Store, spec: dict[str, Any], key: org.ScopeKey) -> dict[str, Any]:
    out: dict[str, Any] = {"assets": _resolve_assets(store, spec["assets"], key)}
    if spec.get("specificEnv") is not None:
        out["specificEnv"] = spec["specificEnv"]
    return out


def _create_template(call: Call) -> Reply:
    store, body = (
        call.ctx.store,
        call.ctx.openapi.defaults("WorkloadTemplateCreationRequest", call.body),
    )
    request_meta = body["meta"]
    scope = asset_scope(store, request_meta)
    key = org.scope_key(scope)
    check_unique(store, TEMPLATES, request_meta["name"], key, None)
    spec = _template_spec(store, body["spec"], key)
    now = call.ctx.now()
    meta = {
        **{k: v for k, v in request_meta.items() if k not in _SCOPE_ID_KEYS},
        **scope,
        "id": call.ctx.new_id(), "kind": "workload-template", "tenantId": org.tenant_id(store),
        "createdAt": now, "createdBy": call.subject, "updatedAt": now, "updatedBy": call.subject,
        "updateCount": 0,
    }  # fmt: skip
    template = {"meta": meta, "spec": spec}
    store.insert(TEMPLATES, meta["id"], template)
    return Reply(202, template)


def _stored_template(call: Call) -> Asset:
    return stored_or_404(call.ctx.store, TEMPLATES, call.path_params["AssetId"], "Template")


def _stored_template_reply(call: Call) -> Reply:
    return Reply(200, _stored_template(call))


def _update_template(call: Call) -> Reply:
    store, template = call.ctx.store, _stored_template(call)
    meta = template["meta"]
    key = org.scope_key(meta)
    check_unique(store, TEMPLATES, call.body["meta"]["name"], key, meta["id"])
    template["spec"] = _template_spec(store, call.body["spec"], key)
    meta["name"] = call.body["meta"]["name"]
    meta["description"] = call.body["meta"].get("description")
    meta.update(updatedAt=call.ctx.now(), updatedBy=call.subject)
    meta["updateCount"] = int(meta.get("updateCount", 0)) + 1
    store.replace(TEMPLATES, meta["id"], template)
    return Reply(202, template)


def _delete_template(call: Call) -> Reply:
    template = _stored_template(call)
    call.ctx.store.delete(TEMPLATES, template["meta"]["id"])
    return Reply(202, {"code": 202, "message": "Request has been accepted."})


def routes() -> list[Route]:
    base = "/api/v1/asset"
    tpl = f"{base}/workload-template"
    env_flags = tuple(_TYPE_FLAGS)
    tpl_flags = ("isWorkspace", "isTraining", "isDistributed")
    return [
        Route(f"{base}/environment", ("GET",), _asset_list(org.ENVIRONMENTS, env_flags),
              response_schema="EnvironmentListResponse"),
        Route(f"{base}/environment/<AssetId>", ("GET",),
              _asset_get(org.ENVIRONMENTS, "Environment"), response_schema="EnvironmentAsset"),
        Route(f"{base}/compute", ("GET",), _asset_list(org.COMPUTES),
              response_schema="ComputeListResponse"),
        Route(f"{base}/compute/<AssetId>", ("GET",), _asset_get(org.COMPUTES, "Compute"),
              response_schema="ComputeAsset"),
        Route(f"{base}/datasource", ("GET",), _asset_list(org.DATASOURCES),
              response_schema="DatasourceListResponse"),
        Route(tpl, ("GET",), _asset_list(TEMPLATES, tpl_flags),
              response_schema="WorkloadTemplateListResponse"),
        Route(tpl, ("POST",), org.serialized(_create_template),
              request_schema="WorkloadTemplateCreationRequest", response_schema="WorkloadTemplate"),
        Route(f"{tpl}/<AssetId>", ("GET",), _stored_template_reply,
              response_schema="WorkloadTemplate"),
        Route(f"{tpl}/<AssetId>", ("PUT",), org.serialized(_update_template),
              request_schema="WorkloadTemplateUpdateRequest", response_schema="WorkloadTemplate"),
        Route(f"{tpl}/<AssetId>", ("DELETE",), org.serialized(_delete_template),
              response_schema="HttpResponse"),
    ]  # fmt: skip
