"""A big tenant set up fast: a sample applied through the CLI, the other templates cloned.

Applying 50,000 templates through the CLI takes most of an hour; a benchmark needs only the
state and the emulator's store as that apply would leave them. So: `sample` picks the
documents that go through a real `apply` (every document that is not a workload template,
and of the workload templates the first of each shape, kind and spec, and the first in each
scope); `clone_rest` then writes each other workload template straight into the stored
emulator db and the state, from two sampled objects: the one of the same shape gives the
spec, the state entry's `last_applied` and the API's meta fields, the one in the same scope
gives the scope's meta fields; name, description and id are the clone's own.
tests/bench/test_clone.py proves a cloned tenant equal to an applied one; the benchmark also
runs a no-change plan over it before timing anything.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconcile.emulator.handlers.template_shape import COLLECTION
from reconcile.emulator.store import Store
from reconcile.kinds.scopes import scope_text
from reconcile.kinds.workload_templates import FLAVORS
from reconcile.model import Address, State, StateEntry

SLUGS = {flavor.document_kind: flavor.slug for flavor in FLAVORS}
# Meta fields a template's own (the rest say where it is: scope type and ids).
OWN_META = frozenset(
    {
        "id",
        "name",
        "description",
        "workloadType",
        "createdAt",
        "createdBy",
        "updatedAt",
        "updatedBy",
    }
)

Doc = Mapping[str, Any]


def clonable(doc: Doc) -> bool:
    return doc["kind"] in SLUGS


def address_of(doc: Doc) -> Address:
    metadata = doc["metadata"]
    return Address(SLUGS[doc["kind"]], scope_text(metadata["scope"]), metadata["name"])


def _shape(doc: Doc) -> str:
    """Everything of a document but its name, description and scope."""
    rest = {key: value for key, value in doc.items() if key != "metadata"}
    return json.dumps(rest, sort_keys=True)


def _shapes(docs: Sequence[Doc]) -> list[str | None]:
    """Each document's shape, None for those not clonable."""
    return [_shape(doc) if clonable(doc) else None for doc in docs]


def sample(docs: Sequence[Doc]) -> list[int]:
    """Indexes of the documents to apply through the CLI, in order (see the module)."""
    shapes: set[str] = set()
    scopes: set[str] = set()
    chosen: list[int] = []
    for index, (doc, shape) in enumerate(zip(docs, _shapes(docs), strict=True)):
        if shape is None:
            chosen.append(index)
            continue
        scope = scope_text(doc["metadata"]["scope"])
        if shape not in shapes or scope not in scopes:
            shapes.add(shape)
            scopes.add(scope)
            chosen.append(index)
    return chosen


def clone_rest(docs: Sequence[Doc], sampled: Sequence[int], store: Store, state: State) -> State:
    """Clone every workload template of `docs` not in `sampled` into `store` (the emulator's,
    its server stopped) and return `state` (the sample's apply left it) with their entries."""
    shapes = _shapes(docs)
    by_shape: dict[str, StateEntry] = {}
    by_scope: dict[str, StateEntry] = {}
    for index in sampled:
        shape = shapes[index]
        if shape is not None:
            entry = state.entries[address_of(docs[index])]
            by_shape.setdefault(shape, entry)
            by_scope.setdefault(entry.address.scope, entry)
    entries = dict(state.entries)
    taken = set(sampled)
    with store.batch():
        for index, (doc, shape) in enumerate(zip(docs, shapes, strict=True)):
            if index in taken or shape is None:
                continue
            address = address_of(doc)
            shaped, placed = by_shape[shape], by_scope[address.scope]
            remote_id = str(uuid.uuid5(uuid.NAMESPACE_URL, str(address)))
            store.insert(COLLECTION, remote_id, _object(store, shaped, placed, doc, remote_id))
            entries[address] = StateEntry(
                address, remote_id, _last_applied(shaped, doc), shaped.status, shaped.protected
            )
    return replace(state, entries=entries)


def _object(
    store: Store, shaped: StateEntry, placed: StateEntry, doc: Doc, remote_id: str
) -> dict[str, Any]:
    """The stored object: shared parts are not copied, as the store keeps its own copy."""
    like = store.peek(COLLECTION, shaped.remote_id)
    where = store.peek(COLLECTION, placed.remote_id)
    assert like is not None and where is not None, "a sampled template is not in the store"
    meta = {key: value for key, value in like["meta"].items() if key in OWN_META}
    meta.update((key, value) for key, value in where["meta"].items() if key not in OWN_META)
    meta.update(id=remote_id, name=doc["metadata"]["name"])
    _set_description(meta, doc)
    return {**like, "meta": meta}


def _last_applied(shaped: StateEntry, doc: Doc) -> dict[str, Any]:
    """The entry's last applied document; its parts other than `metadata` are shared with the
    sampled entry (the state is written, never edited, from here)."""
    applied = dict(shaped.last_applied)
    metadata = dict(applied.pop("metadata", None) or {})
    _set_description(metadata, doc)
    if metadata:
        applied["metadata"] = metadata
    return applied


def _set_description(meta: dict[str, Any], doc: Doc) -> None:
    description = doc["metadata"].get("description")
    if description is None:
        meta.pop("description", None)
    else:
        meta["description"] = description
