"""Roles (`/api/v1/authorization/roles`, read-only, seeded) and access rules
(`/api/v1/authorization/access-rules`: list, read, create, delete; the API has no update).

A rule names its role by id and its scope by type and id; the answer adds the role's and the
scope's names (`roleName`, `scopeName`). The list answers `{totalRecords, displayRecords,
accessRules}` with the common filterBy/sortBy/offset/limit. No org logic here.
"""

from __future__ import annotations

from typing import Any

from reconcile.emulator.framework import ApiProblem, Call, Reply, Route, stored_or_404
from reconcile.emulator.handlers import org
from reconcile.emulator.listing import FieldGetter, page

ROLES = "/api/v1/authorization/roles"
RULES = "/api/v1/authorization/access-rules"
Rule = dict[str, Any]


def _field(key: str) -> FieldGetter:
    return lambda rule: rule.get(key)


FIELDS = {
    key: _field(key)
    for key in (
        "subjectId", "subjectType", "roleId", "scopeId", "scopeType", "roleName", "scopeName",
        "createdAt", "deletedAt", "createdBy",
    )
}  # fmt: skip


def _list_roles(call: Call) -> Reply:
    return Reply(200, sorted(call.ctx.store.all(org.ROLES), key=lambda r: int(r["id"])))


def _get_role(call: Call) -> Reply:
    role_id = call.path_params["roleIdPath"]
    return Reply(200, stored_or_404(call.ctx.store, org.ROLES, role_id, "role"))


def _scope_name(call: Call, scope_type: str, scope_id: str) -> tuple[str, str | None]:
    """The scope's name and cluster; 404 for a scope that does not exist (as the spec's
    create lists)."""
    store = call.ctx.store
    if scope_type == "tenant":
        tenants = store.all(org.TENANT)
        if str(org.tenant_id(store)) != scope_id:
            raise ApiProblem(404, f"tenant {scope_id!r} not found")
        return (str(tenants[0]["name"]) if tenants else "tenant"), None
    collection = {"cluster": org.CLUSTERS, "department": org.DEPARTMENTS,
                  "project": org.PROJECTS}.get(scope_type)  # fmt: skip
    unit = store.get(collection, scope_id) if collection else None
    if unit is None:
        raise ApiProblem(404, f"{scope_type} {scope_id!r} not found")
    return str(unit["name"]), (unit["uuid"] if scope_type == "cluster" else unit["clusterId"])


def _create(call: Call) -> Reply:
    body, store = call.body, call.ctx.store
    role = store.get(org.ROLES, str(body["roleId"]))
    if role is None:
        raise ApiProblem(404, f"role {body['roleId']!r} not found")
    scope_name, cluster = _scope_name(call, body["scopeType"], str(body["scopeId"]))
    for rule in store.all(org.ACCESS_RULES):
        same = all(rule[k] == body[k] for k in ("subjectId", "subjectType", "roleId", "scopeType"))
        if same and rule["scopeId"] == str(body["scopeId"]):
            raise ApiProblem(409, "this access rule exists already")
    now = call.ctx.now()
    rule_id = store.next_int("access-rule")
    rule = {
        "id": rule_id, "tenantId": org.tenant_id(store),
        "subjectId": body["subjectId"], "subjectType": body["subjectType"],
        "roleId": int(body["roleId"]), "roleName": role["name"],
        "scopeId": str(body["scopeId"]), "scopeType": body["scopeType"], "scopeName": scope_name,
        "clusterId": body.get("clusterId") or cluster,
        "createdAt": now, "updatedAt": now, "createdBy": call.subject,
        "status": {"phase": "Ready", "message": ""},
    }  # fmt: skip
    store.insert(org.ACCESS_RULES, str(rule_id), rule)
    return Reply(201, rule)


def _rule(call: Call) -> Rule:
    rule_id = call.path_params["accessRuleId"]
    return stored_or_404(call.ctx.store, org.ACCESS_RULES, rule_id, "access rule")


def _get(call: Call) -> Reply:
    return Reply(200, _rule(call))


def _delete(call: Call) -> Reply:
    rule = _rule(call)
    call.ctx.store.delete(org.ACCESS_RULES, str(rule["id"]))
    return Reply(204)


def _list(call: Call) -> Reply:
    rules = call.ctx.store.all(org.ACCESS_RULES)
    for key in ("subjectType", "scopeType", "scopeId"):
        if call.args.get(key):
            rules = [r for r in rules if str(r.get(key)) == call.args[key]]
    items, total = page(rules, call.args, fields=FIELDS, default_sort=None,
                        search_fields=("subjectId", "roleName", "scopeName"))  # fmt: skip
    return Reply(200, {"totalRecords": total, "displayRecords": len(items), "accessRules": items})


def routes() -> list[Route]:
    one = f"{RULES}/<accessRuleId>"
    return [
        Route(ROLES, ("GET",), _list_roles, response_schema="RolesV1"),
        Route(f"{ROLES}/<roleIdPath>", ("GET",), _get_role, response_schema="RoleV1"),
        Route(RULES, ("GET",), _list),
        Route(RULES, ("POST",), org.serialized(_create),
              request_schema="AccessRuleCreationFields", response_schema="AccessRule"),
        Route(one, ("GET",), _get, response_schema="AccessRuleById"),
        Route(one, ("DELETE",), org.serialized(_delete)),
    ]  # fmt: skip
