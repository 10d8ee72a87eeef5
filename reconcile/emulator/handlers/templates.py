"""Workload templates v1 (`/api/v1/workload-templates`): generic reads and per-type CRUD.

Owns the `workload-templates` collection: one stored document per template
(`meta`, `spec`, and for distributed `masterSpecSameAsWorker`/`master`); responses add
`runnable` and `combinedSpec`. Choices where the sources are silent: docs/emulator.md.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

from reconcile.emulator import listing
from reconcile.emulator.framework import ApiProblem, Call, EmulatorContext, Reply, Route
from reconcile.emulator.handlers import template_shape as shape
from reconcile.emulator.handlers import template_views as views
from reconcile.emulator.handlers.template_shape import COLLECTION, Doc

BASE = "/api/v1/workload-templates"
# Template writes run one at a time: a name check and the write after it must be atomic (or
# two parallel creates of one name both pass), and a PUT must not race a DELETE.
_WRITES = threading.Lock()


class Kind:
    """One template type: its path segment, workloadType and spec-slice schema names."""

    def __init__(self, segment: str, workload_type: str, prefix: str, *, writable: bool) -> None:
        self.segment = segment
        self.workload_type = workload_type
        self.create_schema = f"{prefix}TemplateCreationRequest"
        self.update_schema = f"{prefix}TemplateUpdateRequest" if writable else None
        self.patch_schema = f"{prefix}TemplatePatchRequest" if writable else None
        self.item_schema = f"{prefix}Template"
        self.list_schema = f"{prefix}TemplatesListResponse"
        self.distributed = workload_type == "Distributed"


KINDS = (
    Kind("workspaces", "Workspace", "Workspace", writable=True),
    Kind("trainings", "Training", "Training", writable=True),
    Kind("distributed", "Distributed", "Distributed", writable=True),
    Kind("inferences", "Inference", "Inference", writable=False),
)


# --- lookups -----------------------------------------------------------------------------


def _find(ctx: EmulatorContext, template_id: str, kind: Kind | None) -> Doc:
    """The stored template (shared: read only; writers build new documents from it)."""
    doc = ctx.store.peek(COLLECTION, template_id)
    if doc is None or (kind is not None and doc["meta"]["workloadType"] != kind.workload_type):
        raise ApiProblem(404, f"Not found - no template with id {template_id!r}")
    return doc


def _scope_name(doc: Doc) -> tuple[str, str, str]:
    meta = doc["meta"]
    return (meta["scopeType"], meta["scopeId"], meta["name"])


def _name_taken(ctx: EmulatorContext, scope_type: str, scope_id: str, name: str, skip: str) -> bool:
    """Names are unique per scope across workload types (name-availability has no type)."""
    ctx.store.ensure_index(COLLECTION, "scope-name", _scope_name)
    found = ctx.store.lookup(COLLECTION, "scope-name", (scope_type, scope_id, name))
    return any(doc["meta"]["id"] != skip for doc in found)


def _conflict(name: str) -> ApiProblem:
    return ApiProblem(409, "The specified resource already exists", f"template name {name!r}")


# --- generic routes ----------------------------------------------------------------------


def list_all(call: Call) -> Reply:
    return views.list_reply(call, call.ctx.store.all(COLLECTION))


def count(call: Call) -> Reply:
    docs = call.ctx.store.all(COLLECTION)
    return Reply(200, {"count": len(listing.matching(docs, call.args, fields=views.FIELDS))})


def get_any(call: Call) -> Reply:
    return Reply(200, views.view(call.ctx, _find(call.ctx, call.path_params["templateId"], None)))


def name_availability(call: Call) -> Reply:
    name = call.args.get("templateName") or ""
    scope_type = call.args.get("scopeType") or ""
    if not name:
        raise ApiProblem(400, "Bad request - templateName is required")
    if scope_type not in ("tenant", "cluster", "department", "project"):
        raise ApiProblem(400, f"Bad request - scopeType: invalid value {scope_type!r}")
    scope_id = call.args.get("scopeId") or (shape.TENANT_ID if scope_type == "tenant" else "")
    if _name_taken(call.ctx, scope_type, scope_id, name, skip=""):
        raise _conflict(name)
    return Reply(204)


# --- per-type routes ---------------------------------------------------------------------


def _stored(ctx: EmulatorContext, kind: Kind, body: Doc, meta: Doc) -> Doc:
    """The document to store: nulls dropped, schema defaults filled, master checked."""
    doc: Doc = {"meta": meta, "spec": shape.drop_nulls(body.get("spec") or {})}
    if kind.distributed:
        for member in ("masterSpecSameAsWorker", "master"):
            if body.get(member) is not None:
                doc[member] = shape.drop_nulls(body[member])
        shape.check_master(doc)
    filled: Doc = ctx.openapi.defaults(kind.create_schema, doc)
    return filled


def create(kind: Kind) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        ctx, meta_in = call.ctx, call.body["meta"]
        placed = shape.place(ctx, meta_in["scopeType"], meta_in.get("scopeId"))
        if _name_taken(ctx, placed["scopeType"], placed["scopeId"], meta_in["name"], skip=""):
            raise _conflict(meta_in["name"])
        now = ctx.now()
        meta: Doc = {"id": ctx.new_id(), "name": meta_in["name"], **placed}
        if meta_in.get("description") is not None:
            meta["description"] = meta_in["description"]
        meta.update(workloadType=kind.workload_type, createdBy=call.subject, createdAt=now)
        meta.update(updatedBy=call.subject, updatedAt=now)
        doc = _stored(ctx, kind, call.body, meta)
        ctx.store.insert(COLLECTION, meta["id"], doc)
        return Reply(202, views.view(ctx, doc))

    return handler


def _meta_after(call: Call, old: Doc, name: str | None, description: str | None) -> Doc:
    """meta after PUT/PATCH: a rename (unique in the scope), the description (None drops
    it) and the update stamp; scope and ids never change."""
    meta = dict(old)
    if name and name != old["name"]:
        if _name_taken(call.ctx, old["scopeType"], old["scopeId"], name, skip=old["id"]):
            raise _conflict(name)
        meta["name"] = name
    meta.pop("description", None)
    if description is not None:
        meta["description"] = description
    meta.update(updatedBy=call.subject, updatedAt=call.ctx.now())
    return meta


_SECTIONS = ("spec", "master", "masterSpecSameAsWorker")


def update(kind: Kind) -> Callable[[Call], Reply]:
    """PUT replaces: spec, description and the master section become exactly what was sent."""

    def handler(call: Call) -> Reply:
        old = _find(call.ctx, call.path_params["templateId"], kind)
        meta_in = call.body["meta"]
        meta = _meta_after(call, old["meta"], meta_in["name"], meta_in.get("description"))
        doc = _stored(call.ctx, kind, call.body, meta)
        call.ctx.store.replace(COLLECTION, meta["id"], doc)
        return Reply(200, views.view(call.ctx, doc))

    return handler


def patch(kind: Kind) -> Callable[[Call], Reply]:
    """PATCH merges: clear `fieldsToClear` first, then merge what was sent (nulls ignored)."""

    def handler(call: Call) -> Reply:
        old = _find(call.ctx, call.path_params["templateId"], kind)
        body = shape.drop_nulls(call.body)
        # clear_paths edits in place, so work on copies of the stored sections.
        current: Doc = {k: copy.deepcopy(old[k]) for k in _SECTIONS if k in old}
        current["meta"] = {k: v for k, v in old["meta"].items() if k == "description"}
        shape.clear_paths(current, list(body.get("fieldsToClear") or []))
        meta_in: Doc = body.get("meta") or {}
        description = meta_in.get("description", current["meta"].get("description"))
        sent = {k: body[k] for k in _SECTIONS if k in body}
        merged = shape.merge({k: current[k] for k in _SECTIONS if k in current}, sent)
        meta = _meta_after(call, old["meta"], meta_in.get("name"), description)
        doc = _stored(call.ctx, kind, merged, meta)
        call.ctx.store.replace(COLLECTION, meta["id"], doc)
        return Reply(200, views.view(call.ctx, doc))

    return handler


def typed_list(kind: Kind) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        docs = call.ctx.store.find(
            COLLECTION, lambda d: d["meta"]["workloadType"] == kind.workload_type
        )
        return views.list_reply(call, docs)

    return handler


def typed_get(kind: Kind) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        return Reply(
            200, views.view(call.ctx, _find(call.ctx, call.path_params["templateId"], kind))
        )

    return handler


def typed_delete(kind: Kind) -> Callable[[Call], Reply]:
    def handler(call: Call) -> Reply:
        doc = _find(call.ctx, call.path_params["templateId"], kind)
        call.ctx.store.delete(COLLECTION, doc["meta"]["id"])
        return Reply(204)

    return handler


def _locked(handler: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    def run(call: Call) -> Reply:
        with _WRITES:
            return handler(call)

    return run


def _kind_routes(kind: Kind) -> list[Route]:
    base, one = f"{BASE}/{kind.segment}", f"{BASE}/{kind.segment}/<templateId>"
    found = [
        Route(base, ("GET",), typed_list(kind), response_schema=kind.list_schema),
        Route(
            base,
            ("POST",),
            _locked(create(kind)),
            request_schema=kind.create_schema,
            response_schema=kind.item_schema,
        ),
        Route(one, ("GET",), typed_get(kind), response_schema=kind.item_schema),
        Route(one, ("DELETE",), _locked(typed_delete(kind))),
    ]
    if kind.update_schema and kind.patch_schema:
        found.append(
            Route(
                one,
                ("PUT",),
                _locked(update(kind)),
                request_schema=kind.update_schema,
                response_schema=kind.item_schema,
            )
        )
        found.append(
            Route(
                one,
                ("PATCH",),
                _locked(patch(kind)),
                request_schema=kind.patch_schema,
                response_schema=kind.item_schema,
            )
        )
    return found


def routes() -> list[Route]:
    found = [
        Route(BASE, ("GET",), list_all, response_schema="TemplatesListResponse"),
        Route(f"{BASE}/count", ("GET",), count, response_schema="CountResponse"),
        Route(f"{BASE}/name-availability", ("GET",), name_availability),
        Route(f"{BASE}/<templateId>", ("GET",), get_any, response_schema="SupersetTemplate"),
    ]
    for kind in KINDS:
        found.extend(_kind_routes(kind))
    return found
