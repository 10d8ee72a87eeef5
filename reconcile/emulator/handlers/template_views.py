"""How stored workload templates look on the wire: views, list pages, filter/sort fields.

Read-only: builds responses from stored documents (with a cache of their encodings) and never
writes to the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconcile.emulator import listing
from reconcile.emulator.framework import Call, EmulatorContext, RawJson, Reply
from reconcile.emulator.handlers import template_shape as shape
from reconcile.emulator.handlers.template_shape import Doc


def _meta_getter(name: str) -> Callable[[Doc], Any]:
    return lambda doc: doc["meta"].get(name)


FIELDS: dict[str, Callable[[Doc], Any]] = {
    name: _meta_getter(name)
    for name in (
        "name",
        "workloadType",
        "scopeType",
        "clusterId",
        "projectId",
        "departmentId",
        "createdAt",
        "updatedAt",
        "createdBy",
        "updatedBy",
    )
}
FIELDS["runnable"] = lambda doc: shape.runnable(doc["meta"]["workloadType"], doc["spec"])[
    "isRunnable"
]


def view(ctx: EmulatorContext, doc: Doc) -> Doc:
    """The API shape of a stored template: the document plus runnable and combinedSpec."""
    out = dict(doc)
    spec = shape.combined(ctx, doc)
    out["combinedSpec"] = spec
    out["runnable"] = shape.runnable(doc["meta"]["workloadType"], spec)
    if doc["meta"]["workloadType"] == "Distributed":
        master = (doc.get("master") or {}).get("spec")
        if master is not None:
            out["combinedMasterSpec"] = master
        elif doc.get("masterSpecSameAsWorker"):
            keep = ctx.openapi.property_names("MasterTemplateSpec")
            out["combinedMasterSpec"] = {k: v for k, v in spec.items() if k in keep}
    return out


def _pagination(args: Any, shown: int, total: int) -> Doc:
    offset, limit = listing.page_bounds(args)
    info: Doc = {"limit": limit, "offset": offset}
    # nextOffset only while there is a next page, so a client stops without an empty read.
    if offset + shown < total:
        info["nextOffset"] = offset + shown
    return info


# template id -> (stored doc object, its encoded view). Stored docs are replaced, never
# mutated, so an identity match means the encoding is current. Encoding dominated list time.
_ENCODED: dict[str, tuple[Doc, str]] = {}


def _encoded(ctx: EmulatorContext, doc: Doc, *, cacheable: bool) -> str:
    if not cacheable:
        return _dumps(view(ctx, doc))
    key = doc["meta"]["id"]
    cached = _ENCODED.get(key)
    if cached is not None and cached[0] is doc:
        return cached[1]
    if len(_ENCODED) > 200_000:
        _ENCODED.clear()
    text = _dumps(view(ctx, doc))
    _ENCODED[key] = (doc, text)
    return text


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def list_reply(call: Call, docs: list[Doc]) -> Reply:
    """`{entries, pagination}`, assembled from cached per-template encodings."""
    items, total = listing.page(docs, call.args, fields=FIELDS, default_sort=None)
    pagination = _dumps(_pagination(call.args, len(items), total))
    # Views depend on scope policies when there are any: then nothing is cached.
    cacheable = call.ctx.store.count(shape.POLICY_DEFAULTS) == 0
    entries = ",".join(_encoded(call.ctx, doc, cacheable=cacheable) for doc in items)
    return Reply(200, RawJson(f'{{"entries":[{entries}],"pagination":{pagination}}}'))
